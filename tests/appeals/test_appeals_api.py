"""GET /api/v1/appeal(s) and POST /api/v1/appeal-events over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from service.appeals.cache import invalidate_campaign_cache
from service.appeals.editing import update_campaign
from service.appeals.models import AppealCounter, Campaign
from service.core.models import utcnow
from tests.appeals.factories import campaign_input, make_campaign
from tests.conftest import make_test_app

ORIGIN = "https://news.example"
# A page view's id, as the widget makes one (32 hex digits).
VIEW = "5f0c2b9e8d7a41c3b6e0f1a2d3c4b5a6"
QUERY = "article_id=flood-wall&section=news&tags=council,flooding&articles_read=3&reader=42"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"supporter_count_offset": 5432, "appeal_cache_seconds": 30, "dismiss_days": 9}


@pytest.fixture
def campaign(session: Session) -> None:
    make_campaign(session, goal_supporters=6000, exclude_sections=["tragedy"])
    session.commit()


@contextmanager
def counting_queries(*engines: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


@pytest.mark.usefixtures("campaign")
def test_appeal_for_one_placement_follows_the_contract(client: FlaskClient) -> None:
    response = client.get(f"/api/v1/appeal?placement=top&{QUERY}")
    assert response.status_code == 200
    assert response.json == {
        "show": True,
        "reason": "shown",
        "placement": "top",
        "campaign": "winter",
        "variant": "a",
        "heading": "We need your help now",
        "body": "Already over 5,400 readers give.",
        "cta": "Contribute",
        "supporters": {"count": 5432, "display": "over 5,400"},
        "goal": 6000,
        "goal_meter": True,
        "currency": "eur",
        "currency_digits": 2,
        "asks": {
            "frequencies": ["monthly", "one_off", "annual"],
            "default_frequency": "monthly",
            "amounts": {
                "monthly": [500, 1000, 2000],
                "annual": [5000, 10000, 20000],
                "one_off": [1000, 2500, 5000],
            },
            "default_amounts": {"monthly": 1000, "annual": 10000, "one_off": 2500},
            "minimum": 100,
            "minimum_display": "€1.00",
        },
        "dismiss_days": 9,
    }


@pytest.mark.usefixtures("campaign")
def test_appeals_answers_both_placements_in_one_request(client: FlaskClient) -> None:
    answers = client.get(f"/api/v1/appeals?placements=top,bottom&{QUERY}").json
    assert answers is not None
    assert set(answers) == {"top", "bottom"}
    assert answers["bottom"]["body"] == "Over 5,400 readers support us. Goal: 6,000."
    only_bottom = client.get(f"/api/v1/appeals?placements=bottom&{QUERY}").json
    assert only_bottom is not None and set(only_bottom) == {"bottom"}


@pytest.mark.usefixtures("campaign")
@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("placement=top&section=Tragedy", "excluded"),
        ("placement=top&supporter=1", "supporter"),
        ("placement=bottom&dismissed_until=2999-01-01T00:00:00Z", "dismissed"),
        ("placement=bottom&dismissed_until=2001-01-01T00:00:00", "shown"),
    ],
)
def test_reader_state_and_targeting_travel_in_the_query(
    client: FlaskClient, query: str, reason: str
) -> None:
    answer = client.get(f"/api/v1/appeal?{query}").json
    assert answer is not None
    assert answer["reason"] == reason
    assert answer["show"] is (reason == "shown")


def test_no_campaign(client: FlaskClient) -> None:
    answer = client.get("/api/v1/appeal?placement=top").json
    assert answer is not None
    assert (answer["show"], answer["reason"], answer["heading"]) == (False, "no_campaign", None)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "placement=middle",
        "placement=top&articles_read=-1",
        "placement=top&articles_read=many",
        "placement=top&supporter=perhaps",
        "placement=top&dismissed_until=yesterday",
        "placement=top&reader=" + "x" * 65,
        "placement=top&reader=%3Cscript%3E",
        "placement=top&section=" + "s" * 101,
    ],
)
def test_bad_queries_get_a_422_with_the_field_named(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/appeal?{query}")
    assert response.status_code == 422
    assert response.json is not None and response.json["errors"]["query"]


def test_bad_placements_list(client: FlaskClient) -> None:
    response = client.get("/api/v1/appeals?placements=top,side")
    assert response.status_code == 422
    assert "placements" in response.json["errors"]["query"]  # type: ignore[index]


@pytest.mark.usefixtures("campaign")
def test_caching_headers_and_etag_revalidation(client: FlaskClient) -> None:
    url = f"/api/v1/appeals?{QUERY}"
    first = client.get(url)
    assert first.headers["Cache-Control"] == "public, max-age=30"
    assert "Origin" in first.headers["Vary"]
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get(url.replace("reader=42", "reader=43"), headers={"If-None-Match": etag})
    assert other.status_code in {200, 304}
    if other.status_code == 200:
        assert other.headers["ETag"] != etag or other.json == first.json


@pytest.mark.usefixtures("campaign")
def test_cors_only_for_allowed_origins(client: FlaskClient) -> None:
    allowed = client.get("/api/v1/appeal?placement=top", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    own = client.get("/api/v1/appeal?placement=top", headers={"Origin": "http://127.0.0.1:5000"})
    assert own.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5000"
    foreign = client.get("/api/v1/appeal?placement=top", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in foreign.headers
    preflight = client.options(
        "/api/v1/appeal-events",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    # Header names are case-insensitive; the preflight echoes the requested spelling.
    assert preflight.headers["Access-Control-Allow-Headers"].lower() == "content-type"


@pytest.mark.usefixtures("campaign")
def test_a_warmed_appeal_request_makes_no_database_query(
    app: Flask, client: FlaskClient, engine: Engine
) -> None:
    app_engine = app.extensions["database"]["engine"]
    with counting_queries(engine, app_engine) as cold:
        assert client.get(f"/api/v1/appeals?{QUERY}").status_code == 200
    assert cold, "the first request loads campaigns and the count"
    with counting_queries(engine, app_engine) as warm:
        for reader in range(20):
            query = QUERY.replace("reader=42", f"reader={reader}")
            assert client.get(f"/api/v1/appeals?{query}").status_code == 200
            assert client.get(f"/api/v1/appeal?placement=top&{query}").status_code == 200
    assert warm == []


def test_database_down_answers_no_appeal_not_an_error(tmp_path: Any) -> None:
    app = make_test_app(f"sqlite:///{tmp_path}/missing/dir/contributions.db")
    client = app.test_client()
    response = client.get(f"/api/v1/appeal?placement=top&{QUERY}", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.json is not None
    assert (response.json["show"], response.json["reason"]) == (False, "unavailable")
    assert response.headers["Cache-Control"] == "public, max-age=5"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    both = client.get("/api/v1/appeals").json
    assert both is not None and both["top"]["reason"] == both["bottom"]["reason"] == "unavailable"
    lost = client.post("/api/v1/appeal-events", json=beacon())
    assert lost.status_code == 503
    app.extensions["database"]["engine"].dispose()


@pytest.mark.usefixtures("campaign")
def test_goal_behaviours_through_the_api(app: Flask, client: FlaskClient, session: Session) -> None:
    before = client.get("/api/v1/appeal?placement=top").json
    assert before is not None and before["show"] is True
    row = session.scalars(select(Campaign)).one()
    update_campaign(session, row, campaign_input(goal_supporters=5000, goal_behaviour="hide"))
    session.commit()
    with app.app_context():
        invalidate_campaign_cache()
    # The same URL answers differently once the cache is invalidated (no stale memo).
    hidden = client.get("/api/v1/appeal?placement=top").json
    assert hidden is not None and (hidden["show"], hidden["reason"]) == (False, "goal_reached")

    # The request above closed the shared session, so load the row again.
    row = session.scalars(select(Campaign)).one()
    update_campaign(
        session,
        row,
        campaign_input(goal_supporters=5000, goal_behaviour="next_goal", goal_step=1000),
    )
    session.commit()
    with app.app_context():
        invalidate_campaign_cache()
    moved = client.get("/api/v1/appeal?placement=bottom").json
    assert moved is not None and moved["goal"] == 6000
    assert moved["body"] == "Over 5,400 readers support us. Goal: 6,000."


# ----------------------------------------------------------------------------- beacons


def beacon(**fields: Any) -> dict[str, Any]:
    values = {
        "type": "impression",
        "campaign": "winter",
        "variant": "a",
        "placement": "top",
        "view_id": VIEW,
    }
    values.update(fields)
    return values


def counters(session: Session) -> list[tuple[str, str, str, int, int, int]]:
    session.expire_all()
    return [
        (r.campaign, r.variant, r.placement, r.impressions, r.clicks, r.dismissals)
        for r in session.scalars(select(AppealCounter).order_by(AppealCounter.placement))
    ]


@pytest.mark.usefixtures("campaign")
def test_beacons_fold_into_one_counter_row_per_day(client: FlaskClient, session: Session) -> None:
    views = [VIEW[:-1] + str(n) for n in range(3)]
    for view in views:
        assert client.post("/api/v1/appeal-events", json=beacon(view_id=view)).status_code == 204
    click, close = beacon(type="click", view_id=views[0]), beacon(type="dismiss", view_id=views[1])
    assert client.post("/api/v1/appeal-events", json=click).status_code == 204
    assert client.post("/api/v1/appeal-events", json=close).status_code == 204
    bottom = beacon(placement="bottom")
    assert client.post("/api/v1/appeal-events", json=bottom).status_code == 204
    assert counters(session) == [
        ("winter", "a", "bottom", 1, 0, 0),
        ("winter", "a", "top", 3, 1, 1),
    ]
    row = session.scalars(select(AppealCounter)).first()
    assert row is not None and row.day == utcnow().date()


@pytest.mark.usefixtures("campaign")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (beacon(type="view"), "type"),
        (beacon(placement="side"), "placement"),
        (beacon(campaign=""), "campaign"),
        (beacon(extra=1), "extra"),
        ({"type": "click"}, "campaign"),
        ({k: v for k, v in beacon().items() if k != "view_id"}, "view_id"),
        (beacon(view_id="short"), "view_id"),
        (beacon(view_id="x" * 16 + "\u0000"), "view_id"),
    ],
)
def test_malformed_beacons_are_refused_and_change_nothing(
    client: FlaskClient, session: Session, body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/appeal-events", json=body)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]  # type: ignore[index]
    assert counters(session) == []


@pytest.mark.usefixtures("campaign")
def test_beacons_for_unknown_campaigns_are_not_counted_and_non_json_is_refused(
    client: FlaskClient, session: Session
) -> None:
    # Accepted, as the document says (a beacon may arrive after the campaign ended).
    unknown = client.post("/api/v1/appeal-events", json=beacon(campaign="nope"))
    assert unknown.status_code == 204
    other_variant = client.post("/api/v1/appeal-events", json=beacon(variant="z"))
    assert other_variant.status_code == 204
    assert client.post("/api/v1/appeal-events", data="not json").status_code in {400, 415, 422}
    assert counters(session) == []


@pytest.mark.usefixtures("campaign")
def test_beacons_are_rate_limited(client: FlaskClient) -> None:
    statuses = [client.post("/api/v1/appeal-events", json=beacon()).status_code for _ in range(61)]
    assert statuses[:60] == [204] * 60
    assert statuses[60] == 429


def test_the_openapi_document_describes_the_appeal_api(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").json["paths"]  # type: ignore[index]
    assert {"/api/v1/appeal", "/api/v1/appeals", "/api/v1/appeal-events"} <= set(paths)


def test_dismissed_until_in_the_past_is_not_dismissed(
    client: FlaskClient, session: Session
) -> None:
    make_campaign(session, starts_at=utcnow() - timedelta(days=1))
    session.commit()
    answer = client.get("/api/v1/appeal?placement=top&dismissed_until=2020-01-01T00:00:00%2B01:00")
    assert answer.json is not None and answer.json["show"] is True
