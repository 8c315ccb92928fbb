"""Staff pages: sign-in required everywhere, roles, CSRF, lists, editor and inbox."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.appeals.models import Campaign
from service.core.jobs import Job, JobStatus, enqueue
from service.core.models import utcnow
from service.ledger.models import EventOutcome, MonthlyStatus, StripeEvent
from service.staff.models import StaffRole, StaffUser
from tests.conftest import drain_jobs
from tests.staff import factories
from tests.staff.helpers import arranged, csrf_token, sign_in, token_from


def _staff_urls(app: Flask) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("staff.") or rule.endpoint == "staff.sign_in":
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = re.sub(rf"<(?:\w+:)?{argument}>", "1", path)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            urls.append((method, path))
    return urls


def test_every_staff_url_needs_sign_in(app: Flask, client: FlaskClient) -> None:
    urls = _staff_urls(app)
    # The enumeration itself must find the pages, or this test would pass vacuously.
    assert ("GET", "/staff/") in urls and ("POST", "/staff/events/1/replay") in urls
    assert len(urls) >= 15
    for method, path in urls:
        response = client.open(path, method=method)
        assert response.status_code == 302, (method, path, response.status_code)
        assert response.headers["Location"].startswith("/staff/sign-in?next="), (method, path)


def test_a_form_posted_after_sign_out_returns_to_its_page_after_sign_in(
    client: FlaskClient,
) -> None:
    response = client.post(
        "/staff/events/1/replay", headers={"Referer": "http://localhost/staff/events"}
    )
    assert response.status_code == 302
    # Back to the inbox page, not to the POST-only replay URL (which would answer 405).
    assert response.headers["Location"] == "/staff/sign-in?next=/staff/events"
    foreign = client.post("/staff/events/1/replay", headers={"Referer": "https://evil.example/x"})
    assert foreign.headers["Location"] == "/staff/sign-in?next=/staff/"


@pytest.fixture
def viewer(app: Flask, client: FlaskClient) -> StaffUser:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.VIEWER)
    assert sign_in(client, user.email).status_code == 302
    return user


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> StaffUser:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.ADMIN)
    assert sign_in(client, user.email).status_code == 302
    return user


def _campaign(app: Flask, **kwargs: Any) -> Campaign:
    with arranged(app) as session:
        return factories.campaign(session, **kwargs)


def test_a_viewer_reads_but_cannot_edit(app: Flask, client: FlaskClient, viewer: StaffUser) -> None:
    campaign = _campaign(app)
    for path in (
        "/staff/",
        "/staff/campaigns",
        "/staff/supporters",
        "/staff/donations",
        "/staff/events",
    ):
        assert client.get(path).status_code == 200, path
    token = token_from(client, "/staff/")
    assert client.get(f"/staff/campaigns/{campaign.id}/edit").status_code == 403
    assert client.get("/staff/campaigns/new").status_code == 403
    response = client.post(
        f"/staff/campaigns/{campaign.id}/edit", data={"csrf_token": token, "name": "Hacked"}
    )
    assert response.status_code == 403
    assert client.get("/staff/users").status_code == 403
    assert client.post("/staff/events/1/replay", data={"csrf_token": token}).status_code == 403
    assert "/edit" not in client.get("/staff/campaigns").get_data(as_text=True)
    with arranged(app) as session:
        assert session.get(Campaign, campaign.id).name == "Campaign spring"  # type: ignore[union-attr]


def _edit_form_data(html: str) -> dict[str, str]:
    """The edit form's fields as the browser would submit them (inputs and textareas)."""
    data: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is None:
            continue
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name.group(1)] = value.group(1) if value else "y"
        else:
            data[name.group(1)] = value.group(1) if value else ""
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\s*([^<]*)</textarea>', html):
        data[name] = value.replace("&#39;", "'").replace("&amp;", "&")
    for name, value in re.findall(
        r'<select[^>]*name="([^"]+)"[^>]*>.*?<option selected value="([^"]*)"', html, re.S
    ):
        data[name] = value
    return data


APPEAL_QUERY = (
    "/api/v1/appeal?placement=top&article_id=a1&section=news&tags=politics"
    "&articles_read=3&reader=42"
)


def test_an_admin_edits_campaign_copy_and_markup_is_removed(
    app: Flask, client: FlaskClient, admin: StaffUser
) -> None:
    campaign = _campaign(app, variants=("a", "b"))
    # Readers' appeal answers are now cached (APPEAL_CACHE_SECONDS, 30 s by default).
    before = client.get(APPEAL_QUERY).json
    assert before is not None and before["heading"] == f"{before['variant']} top heading"
    page = client.get(f"/staff/campaigns/{campaign.id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "a top heading" in html and 'data-preview-host="top"' in html
    # The preview is the widget itself, loaded from its immutable URL in preview mode; the
    # URL comes from PUBLIC_BASE_URL, never from the request's Host.
    base = re.escape(app.extensions["settings"].public_base_url)
    assert re.search(rf'<script src="{base}/widget\.[0-9a-f]{{16}}\.js" data-preview', html)
    data = _edit_form_data(html)
    data["variants-0-top_heading"] = 'Help us <script>alert("x")</script>now'
    data["variants-0-top_body"] = "<img src=x onerror=alert(1)>Join {supporters} &lt;b&gt;readers"
    data["variants-1-top_heading"] = "Be part of it"
    data["variants-1-weight"] = "3"
    data["include_tags"] = "Politics, Housing ,politics"
    response = client.post(f"/staff/campaigns/{campaign.id}/edit", data=data)
    assert response.status_code == 302, re.findall(
        r"class=\"error\">([^<]*)<", response.get_data(as_text=True)
    )
    # The very next appeal answer carries the saved copy: saving dropped the cache.
    after = client.get(APPEAL_QUERY).json
    assert after is not None
    assert after["heading"] == {"a": "Help us now", "b": "Be part of it"}[after["variant"]]
    with arranged(app) as session:
        saved = session.get(Campaign, campaign.id)
        assert saved is not None
        variant_a = next(v for v in saved.variants if v.key == "a")
        top = next(c for c in variant_a.copies if c.placement == "top")
        assert top.heading == "Help us now"
        assert top.body == "Join {supporters} readers"
        assert "<" not in top.body + top.heading
        assert next(v for v in saved.variants if v.key == "b").weight == 3
        assert saved.include_tags == ["housing", "politics"]


def test_the_editor_refuses_a_negative_minimum_of_articles(
    app: Flask, client: FlaskClient, admin: StaffUser
) -> None:
    token = token_from(client, "/staff/campaigns/new")
    data = {
        "csrf_token": token,
        "name": "Loyal readers",
        "slug": "loyal",
        "goal_behaviour": "thank_you",
        "min_articles_read": "-1",
        "variants-0-key": "a",
        "variants-0-weight": "1",
        "variants-0-top_heading": "We need your help",
        "variants-0-top_body": "{supporters} readers already give.",
        "variants-0-top_cta": "Contribute",
    }
    response = client.post("/staff/campaigns/new", data=data)
    assert response.status_code == 422
    assert "Number must be between 0 and 1000" in response.get_data(as_text=True)
    with arranged(app) as session:
        assert session.scalar(select(Campaign).where(Campaign.slug == "loyal")) is None
    data["min_articles_read"] = "0"
    assert client.post("/staff/campaigns/new", data=data).status_code == 302


def test_an_admin_creates_a_campaign(app: Flask, client: FlaskClient, admin: StaffUser) -> None:
    token = token_from(client, "/staff/campaigns/new")
    data = {
        "csrf_token": token,
        "name": "Winter drive",
        "slug": "winter",
        "active": "y",
        "goal_supporters": "6000",
        "goal_behaviour": "next_goal",
        "goal_step": "500",
        "priority": "1",
        "min_articles_read": "0",
        "formats": "inline",
        "variants-0-key": "a",
        "variants-0-weight": "1",
        "variants-0-top_heading": "We need your help",
        "variants-0-top_body": "{supporters} readers already give.",
        "variants-0-top_cta": "Contribute",
    }
    response = client.post("/staff/campaigns/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with arranged(app) as session:
        saved = session.scalar(select(Campaign).where(Campaign.slug == "winter"))
        assert saved is not None and saved.goal_step == 500
        assert [c.placement.value for c in saved.variants[0].copies] == ["top"]


def test_the_editor_refuses_half_written_copy_and_bad_dates(
    app: Flask, client: FlaskClient, admin: StaffUser
) -> None:
    token = token_from(client, "/staff/campaigns/new")
    data = {
        "csrf_token": token,
        "name": "Broken",
        "slug": "broken",
        "starts_at": "2026-05-02T10:00",
        "ends_at": "2026-05-01T10:00",
        "goal_behaviour": "thank_you",
        "variants-0-key": "a",
        "variants-0-weight": "1",
        "variants-0-top_heading": "Only a heading",
    }
    response = client.post("/staff/campaigns/new", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "the end must be after the start" in body
    assert "give the top box a heading, a body and a button" in body
    with arranged(app) as session:
        assert session.scalar(select(Campaign).where(Campaign.slug == "broken")) is None


def test_forms_without_their_csrf_token_are_refused(
    app: Flask, client: FlaskClient, admin: StaffUser
) -> None:
    campaign = _campaign(app)
    data = _edit_form_data(
        client.get(f"/staff/campaigns/{campaign.id}/edit").get_data(as_text=True)
    )
    data["name"] = "Changed without a token"
    del data["csrf_token"]
    assert client.post(f"/staff/campaigns/{campaign.id}/edit", data=data).status_code == 400
    data["csrf_token"] = "forged"
    assert client.post(f"/staff/campaigns/{campaign.id}/edit", data=data).status_code == 400
    assert client.post("/staff/sign-out", data={}).status_code == 400
    assert client.post("/staff/users", data={"email": "x@paper.example"}).status_code == 400
    with arranged(app) as session:
        assert session.get(Campaign, campaign.id).name == "Campaign spring"  # type: ignore[union-attr]


def test_supporter_and_donation_lists_filter_and_page(
    app: Flask, client: FlaskClient, viewer: StaffUser
) -> None:
    now = utcnow()
    with arranged(app) as session:
        alice = factories.supporter(
            session, email="alice@mail.example", supported_until=now + timedelta(days=30)
        )
        factories.supporter(
            session, email="bob@mail.example", supported_until=now - timedelta(days=1)
        )
        for i in range(55):
            factories.donation(
                session,
                supporter_id=alice.id,
                email="alice@mail.example",
                paid_at=now - timedelta(minutes=i),
                amount_minor=1000 + i,
            )
        factories.donation(session, email="bob@mail.example", currency="gbp")
    body = client.get("/staff/supporters?state=supporting").get_data(as_text=True)
    assert "alice@mail.example" in body and "bob@mail.example" not in body
    body = client.get("/staff/supporters?q=BOB").get_data(as_text=True)
    assert "bob@mail.example" in body and "alice@mail.example" not in body
    first = client.get("/staff/donations?q=alice").get_data(as_text=True)
    assert first.count("<tr>") == 51  # header + 50 rows
    assert 'rel="next"' in first and "€10.00" in first
    second = client.get("/staff/donations?q=alice&page=2").get_data(as_text=True)
    assert second.count("<tr>") == 6 and 'rel="next"' not in second
    gbp = client.get("/staff/donations?currency=gbp").get_data(as_text=True)
    assert "£10.00" in gbp and "alice@mail.example" not in gbp


def test_the_event_inbox_lists_failures_and_an_admin_replays_one(
    app: Flask, client: FlaskClient, admin: StaffUser
) -> None:
    with arranged(app) as session:
        # Failed once; replaying it now finds a type we do not act on, so it is ignored.
        failed = factories.stripe_event(
            session,
            type="customer.created",
            error="no such subscription sub_123",
            payload={
                "id": "evt_replay",
                "object": "event",
                "type": "customer.created",
                "created": 1700000000,
                "livemode": False,
                "data": {"object": {"id": "cus_1", "object": "customer"}},
            },
        )
        factories.stripe_event(session, outcome=EventOutcome.IGNORED, error="not ours")
        factories.stripe_event(
            session, outcome=EventOutcome.IGNORED, error=None, type="payment_method.attached"
        )
        factories.stripe_event(
            session, outcome=EventOutcome.APPLIED, error=None, type="charge.refunded"
        )
        factories.stripe_event(
            session,
            outcome=EventOutcome.APPLIED,
            error=None,
            type="invoice.paid",
            stripe_event_id="evt_applied_long_ago",
            received_at=utcnow() - timedelta(days=2),
        )
        dead = factories.stripe_event(
            session,
            stripe_event_id="evt_dead",
            received_at=utcnow() - timedelta(days=4),
            attempts=10,
        )
    # The inbox opens on what needs attention: failures and what was applied recently.
    body = client.get("/staff/events").get_data(as_text=True)
    assert "no such subscription sub_123" in body
    assert "charge.refunded" in body
    assert "evt_applied_long_ago" not in body
    assert "not ours" not in body and "payment_method.attached" not in body
    assert body.count(">Replay</button>") == 2
    assert body.count('class="badge badge-dead"') == 1
    # Ignored events are one click away, each saying why.
    assert 'href="/staff/events?view=ignored"' in body
    ignored = client.get("/staff/events?view=ignored").get_data(as_text=True)
    assert ignored.count('data-why="ignored"') == 2
    assert "not ours" in ignored
    assert "Not used: the ledger learns nothing from payment_method.attached events." in ignored
    assert "sub_123" not in ignored
    only_dead = client.get("/staff/events?view=dead").get_data(as_text=True)
    assert dead.stripe_event_id in only_dead and "sub_123" not in only_dead
    applied = client.get("/staff/events?view=applied").get_data(as_text=True)
    assert "evt_applied_long_ago" in applied and "charge.refunded" in applied
    refused = client.get("/staff/events?view=bogus")
    assert refused.status_code == 422 and "No such view of the inbox" in refused.get_data(
        as_text=True
    )
    token = csrf_token(body)
    response = client.post(f"/staff/events/{failed.id}/replay", data={"csrf_token": token})
    assert response.status_code == 302
    with arranged(app) as session:
        queued = session.get(StripeEvent, failed.id)
        assert queued is not None and queued.outcome is EventOutcome.PENDING
    # A worker applies it (the replay queued its job).
    drain_jobs(app)
    with arranged(app) as session:
        replayed = session.get(StripeEvent, failed.id)
        assert replayed is not None
        assert (replayed.outcome, replayed.attempts, replayed.error) == (
            EventOutcome.IGNORED,
            2,
            None,
        )


def test_admins_manage_staff(app: Flask, client: FlaskClient, admin: StaffUser) -> None:
    token = token_from(client, "/staff/users")
    response = client.post(
        "/staff/users",
        data={
            "csrf_token": token,
            "email": "new@paper.example",
            "role": "viewer",
            "password": "a long enough password",
        },
    )
    assert response.status_code == 302
    with arranged(app) as session:
        new = session.scalar(select(StaffUser).where(StaffUser.email == "new@paper.example"))
        assert new is not None and new.role == StaffRole.VIEWER
    token = token_from(client, "/staff/users")
    assert (
        client.post(
            f"/staff/users/{new.id}/role", data={"csrf_token": token, "role": "admin"}
        ).status_code
        == 302
    )
    # Nobody changes or removes their own account (so the last admin cannot vanish).
    assert (
        client.post(f"/staff/users/{admin.id}/remove", data={"csrf_token": token}).status_code
        == 409
    )
    assert (
        client.post(f"/staff/users/{new.id}/remove", data={"csrf_token": token}).status_code == 302
    )
    with arranged(app) as session:
        assert session.get(StaffUser, new.id) is None


def test_the_dashboard_shows_the_numbers_and_their_definitions(
    app: Flask, client: FlaskClient, viewer: StaffUser
) -> None:
    now = utcnow()
    with arranged(app) as session:
        person = factories.supporter(
            session, supported_until=now + timedelta(days=10), first_supported_at=now
        )
        factories.monthly(session, supporter_id=person.id, amount_minor=1500)
        factories.monthly(session, status=MonthlyStatus.PAST_DUE, amount_minor=700)
        factories.donation(session, amount_minor=2500, paid_at=now)
    response = client.get("/staff/")
    body = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert 'data-metric="supporters">1<' in body
    assert "€15.00" in body and "1 at risk (past due), €7.00" in body
    assert "€25.00" in body
    assert "A supporter is a distinct person" in body
    assert body.count("<svg") == 2 and "<title" in body and "<desc" in body


def test_staff_see_jobs_by_status_and_an_admin_retries_a_dead_one(
    app: Flask, client: FlaskClient, admin: StaffUser
) -> None:
    with arranged(app) as session:
        enqueue(session, "test.no-such-kind", {"n": 1}, key="dead-one")
        enqueue(session, "test.no-such-kind", {"n": 2}, key="queued-one")
        enqueue(session, "test.no-such-kind", {"n": 3}, key="done-one")
        dead = session.scalars(select(Job).where(Job.key == "dead-one")).one()
        dead.status, dead.attempts, dead.last_error = JobStatus.DEAD, 10, "LookupError: no handler"
        done = session.scalars(select(Job).where(Job.key == "done-one")).one()
        done.status = JobStatus.DONE
    body = client.get("/staff/jobs").get_data(as_text=True)
    assert "dead-one" in body and "queued-one" in body and "LookupError: no handler" in body
    assert "done-one" not in body, "done jobs are counted, not listed"
    assert body.count(">Retry</button>") == 1
    only_dead = client.get("/staff/jobs?status=dead").get_data(as_text=True)
    assert "dead-one" in only_dead and "queued-one" not in only_dead

    response = client.post(f"/staff/jobs/{dead.id}/retry", data={"csrf_token": csrf_token(body)})

    assert response.status_code == 302
    with arranged(app) as session:
        job = session.get(Job, dead.id)
        assert job is not None
        assert (job.status, job.attempts, job.last_error) == (
            JobStatus.QUEUED,
            0,
            "LookupError: no handler",
        )
    again = client.post(f"/staff/jobs/{dead.id}/retry", data={"csrf_token": csrf_token(body)})
    assert again.status_code == 302
    assert "only failed and dead jobs are retried" in client.get("/staff/jobs").get_data(
        as_text=True
    )


def test_a_viewer_sees_jobs_but_cannot_retry_them(
    app: Flask, client: FlaskClient, viewer: StaffUser
) -> None:
    with arranged(app) as session:
        enqueue(session, "test.no-such-kind", {}, key="failing")
        job = session.scalars(select(Job).where(Job.key == "failing")).one()
        job.status = JobStatus.FAILED
    body = client.get("/staff/jobs").get_data(as_text=True)
    assert "failing" in body and ">Retry</button>" not in body
    token = token_from(client, "/staff/jobs")
    assert client.post(f"/staff/jobs/{job.id}/retry", data={"csrf_token": token}).status_code == 403


def test_an_admin_sets_formats_caps_and_audience_and_sees_them_again(
    app: Flask, client: FlaskClient, admin: StaffUser
) -> None:
    from werkzeug.datastructures import MultiDict

    token = token_from(client, "/staff/campaigns/new")
    data = MultiDict(
        {
            "csrf_token": token,
            "name": "Win-back",
            "slug": "win-back",
            "goal_behaviour": "thank_you",
            "min_articles_read": "0",
            "max_views": "4",
            "views_days": "30",
            "max_dismissals": "2",
            "countries": "ie, FR",
            "variants-0-key": "a",
            "variants-0-weight": "1",
            "variants-0-banner_heading": "We miss you",
            "variants-0-banner_body": "{supporters} readers give.",
            "variants-0-banner_cta": "Come back",
        }
    )
    for name, value in [
        ("formats", "banner"),
        ("formats", "header"),
        ("devices", "phone"),
        ("referrers", "newsletter"),
        ("donor_states", "lapsed"),
    ]:
        data.add(name, value)
    response = client.post("/staff/campaigns/new", data=data)
    assert response.status_code == 302, re.findall(
        r"class=\"error\">([^<]*)<", response.get_data(as_text=True)
    )
    with arranged(app) as session:
        saved = session.scalars(select(Campaign).where(Campaign.slug == "win-back")).one()
        assert saved.formats == ["banner", "header"]
        assert (saved.max_views, saved.views_days, saved.max_dismissals) == (4, 30, 2)
        assert saved.devices == ["phone"] and saved.referrers == ["newsletter"]
        assert saved.countries == ["FR", "IE"] and saved.donor_states == ["lapsed"]
        assert [c.placement.value for c in saved.variants[0].copies] == ["banner"]
        campaign_id = saved.id
    html = client.get(f"/staff/campaigns/{campaign_id}/edit").get_data(as_text=True)
    checked = set(re.findall(r'<input checked[^>]*name="(\w+)"[^>]*value="(\w+)"', html))
    checked |= set(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="(\w+)"[^>]*checked', html))
    assert {("formats", "banner"), ("formats", "header"), ("devices", "phone")} <= checked
    assert ("formats", "inline") not in checked
    assert 'value="FR, IE"' in html


def test_dashboard_charts_label_months_with_their_year_and_name_recurring_cancellations(
    app: Flask, client: FlaskClient, viewer: StaffUser
) -> None:
    with arranged(app) as session:
        factories.donation(session, amount_minor=1500)
        factories.monthly(session, status=MonthlyStatus.CANCELED, canceled_at=utcnow())
    body = client.get("/staff/").get_data(as_text=True)
    now = utcnow()
    assert f">{now:%b %Y}<" in body
    # "Dec 25" reads as the 25th of December.
    assert re.search(r">[A-Z][a-z]{2} \d{2}<", body) is None
    assert "Recurring gifts cancelled" in body and "Monthly gifts cancelled" not in body
    assert f"{now.year}" in re.findall(r"<th scope=\"row\">(\d{1,2} \w{3} \d{4})</th>", body)[-1]
