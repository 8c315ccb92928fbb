"""Beacons cannot push an A/B result: once per page view, clicks after impressions, a daily cap.

Issue 17 point 5. Each test here failed before: beacons had no view id, every repeat was
counted, a click needed no impression, and a client could add ~86,000 beacons a day.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.appeals.counters import client_key, sweep_beacon_marks
from service.appeals.models import AppealBeaconClient, AppealBeaconMark, AppealCounter
from service.core.models import utcnow
from tests.appeals.factories import make_campaign
from tests.conftest import TEST_SECRET_KEY

CAP = 5
READER_IP = "203.0.113.7"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"appeal_beacon_daily_cap": CAP}


@pytest.fixture(autouse=True)
def campaign(session: Session) -> None:
    make_campaign(session)
    session.commit()


def view(n: int) -> str:
    return f"{n:032x}"


def event(kind: str = "impression", n: int = 1, **fields: str) -> dict[str, str]:
    values = {"type": kind, "campaign": "winter", "variant": "a", "placement": "top"}
    return {**values, "view_id": view(n), **fields}


def send(client: FlaskClient, *events: dict[str, str], ip: str = READER_IP, **headers: str) -> None:
    response = client.post(
        "/api/v1/appeal-events/batch",
        data=json.dumps({"events": list(events)}),
        content_type="text/plain;charset=UTF-8",
        environ_base={"REMOTE_ADDR": ip},
        headers=headers,
    )
    # Counted or not, a well-formed beacon is accepted: the sender learns nothing.
    assert response.status_code == 204, response.get_json()


def counted(session: Session) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(impressions, clicks, dismissals) by (variant, placement); other campaigns by name."""
    session.expire_all()
    return {
        (r.variant if r.campaign == "winter" else r.campaign, r.placement): (
            r.impressions,
            r.clicks,
            r.dismissals,
        )
        for r in session.scalars(select(AppealCounter))
    }


def test_an_impression_counts_once_per_page_view_and_placement(
    client: FlaskClient, session: Session
) -> None:
    send(client, event(), event(), event(placement="bottom"))
    # The same page view sending again (a second flush, a replayed request) adds nothing.
    send(client, event(), event(placement="bottom"), event("click"), event("click"))
    client.post("/api/v1/appeal-events", json=event(), environ_base={"REMOTE_ADDR": READER_IP})
    assert counted(session) == {("a", "top"): (1, 1, 0), ("a", "bottom"): (1, 0, 0)}
    send(client, event(n=2))
    assert counted(session)[("a", "top")] == (2, 1, 0)


def test_a_click_or_close_counts_only_after_that_page_views_impression(
    client: FlaskClient, session: Session
) -> None:
    make_campaign(session, slug="other")
    session.commit()
    send(
        client,
        event("click", n=1),  # no impression in this page view
        event("dismiss", n=1),
        event("impression", n=2, placement="bottom"),
        event("click", n=2),  # the impression was at another placement
        event("impression", n=3, campaign="other"),
        event("click", n=3),  # the impression was of another campaign
    )
    assert counted(session) == {("a", "bottom"): (1, 0, 0), ("other", "top"): (1, 0, 0)}
    send(client, event("impression", n=1), event("click", n=1), event("dismiss", n=1))
    assert counted(session)[("a", "top")] == (1, 1, 1)


def test_beacons_past_the_daily_cap_are_accepted_but_not_counted(
    client: FlaskClient, session: Session
) -> None:
    send(client, *(event(n=n) for n in range(CAP + 3)))
    send(client, event(n=100))
    assert counted(session) == {("a", "top"): (CAP, 0, 0)}
    # Another reader is not held back by this one.
    send(client, event(n=200), ip="198.51.100.9")
    assert counted(session) == {("a", "top"): (CAP + 1, 0, 0)}


def test_the_cap_follows_the_ip_the_trusted_proxies_give_not_a_forwarded_header(
    client: FlaskClient, session: Session
) -> None:
    # No proxy is trusted here, so X-Forwarded-For is the client's own writing.
    for n in range(CAP + 3):
        send(client, event(n=n), **{"X-Forwarded-For": f"192.0.2.{n}"})
    assert counted(session) == {("a", "top"): (CAP, 0, 0)}


def test_beacons_for_a_campaign_that_is_not_running_count_nothing_and_use_no_cap(
    client: FlaskClient, session: Session
) -> None:
    send(client, *(event(n=n, campaign="phishing text") for n in range(CAP)))
    send(client, *(event(n=n, variant="zz") for n in range(CAP, 2 * CAP)))
    assert counted(session) == {}
    send(client, event(n=999))
    assert counted(session) == {("a", "top"): (1, 0, 0)}


def test_no_ip_is_stored_only_a_keyed_hash_of_it_and_the_day(
    client: FlaskClient, session: Session
) -> None:
    send(client, event())
    session.expire_all()
    [row] = session.scalars(select(AppealBeaconClient)).all()
    today = utcnow().date()
    assert row.client == client_key(TEST_SECRET_KEY, READER_IP, today)
    assert READER_IP not in row.client
    # Tomorrow the same IP has another key: days cannot be linked.
    assert row.client != client_key(TEST_SECRET_KEY, READER_IP, today + timedelta(days=1))
    [mark] = session.scalars(select(AppealBeaconMark)).all()
    assert (mark.view_id, mark.placement, mark.kind) == (view(1), "top", "impression")


def test_the_sweep_forgets_old_page_views_and_past_days_counts(
    client: FlaskClient, session: Session
) -> None:
    send(client, event())
    today = utcnow().date()
    sweep_beacon_marks(session, today + timedelta(days=1))
    session.flush()
    assert session.scalars(select(AppealBeaconClient)).all() == []
    # Yesterday's page views stay a day longer: a page open over midnight counts once.
    assert len(session.scalars(select(AppealBeaconMark)).all()) == 1
    sweep_beacon_marks(session, today + timedelta(days=2))
    session.flush()
    assert session.scalars(select(AppealBeaconMark)).all() == []


def test_a_beacon_request_sweeps_what_no_longer_matters(
    client: FlaskClient, session: Session
) -> None:
    long_ago = utcnow().date() - timedelta(days=3)
    old = {"placement": "top", "kind": "impression", "campaign": "winter", "variant": "a"}
    session.add(AppealBeaconMark(day=long_ago, view_id=view(7), **old))
    session.add(AppealBeaconClient(day=long_ago, client="0" * 32, counted=9))
    session.commit()
    send(client, event())
    session.expire_all()
    assert [m.view_id for m in session.scalars(select(AppealBeaconMark))] == [view(1)]
    assert [c.day for c in session.scalars(select(AppealBeaconClient))] == [utcnow().date()]
