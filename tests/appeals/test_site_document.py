"""GET /api/v1/appeals/site and POST /api/v1/appeal-events/batch over HTTP."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.appeals.cache import invalidate_campaign_cache
from service.appeals.editing import update_campaign
from service.appeals.models import AppealCounter, Campaign
from service.appeals.site import READER_BUCKETS, site_document, unavailable_document
from tests.appeals.factories import campaign_input, make_campaign
from tests.faults.switch import app_without_database

SITE = "/api/v1/appeals/site"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"supporter_count_offset": 5432, "appeal_cache_seconds": 30, "dismiss_days": 9}


@pytest.fixture
def campaign(session: Session) -> None:
    make_campaign(session, goal_supporters=6000, exclude_sections=["tragedy"])
    session.commit()


@pytest.mark.usefixtures("campaign")
def test_the_site_document_has_every_campaign_ready_to_decide(client: FlaskClient) -> None:
    response = client.get(SITE)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.json
    assert document is not None
    assert document["available"] is True
    assert document["currency"] == "eur" and document["dismiss_days"] == 9
    assert document["currency_digits"] == 2
    assert document["supporters"] == {"count": 5432, "display": "over 5,400"}
    (winter,) = document["campaigns"]
    assert winter["slug"] == "winter" and winter["exclude_sections"] == ["tragedy"]
    assert winter["goal"] == 6000 and winter["thank_you"] is False
    assert winter["variants"] == [
        {
            "key": "a",
            "copy": {
                "top": {
                    "heading": "We need your help now",
                    "body": "Already over 5,400 readers give.",
                    "cta": "Contribute",
                },
                "bottom": {
                    "heading": "Readers like you",
                    "body": "Over 5,400 readers support us. Goal: 6,000.",
                    "cta": "Join",
                },
            },
            "asks": {},
        }
    ]
    assert winter["goal_meter"] is True
    # Every offered currency's default asks and the country map: one document for all.
    assert set(document["currencies"]) == {"eur", "gbp", "usd"}
    assert document["currencies"]["gbp"]["asks"]["amounts"]["monthly"] == [500, 1000, 2000]
    assert document["countries"]["GB"] == "gbp" and document["countries"]["DE"] == "eur"
    assert document["geo"] is False
    assert winter["buckets"] == [0] * READER_BUCKETS


@pytest.mark.usefixtures("campaign")
def test_one_cacheable_document_for_every_page_reader_and_origin(client: FlaskClient) -> None:
    client.set_cookie("session", "a-staff-session")
    first = client.get(SITE, headers={"Origin": "https://news.example"})
    other = client.get(SITE + "?article_id=x&reader=3", headers={"Origin": "https://b.example"})
    assert first.data == other.data and first.headers["ETag"] == other.headers["ETag"]
    assert first.headers["Cache-Control"] == (
        "public, max-age=30, stale-while-revalidate=30, stale-if-error=86400"
    )
    # Public data read without credentials: any page may read it, so one cached copy.
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert first.headers["Vary"] == "Accept-Encoding"
    assert "Set-Cookie" not in first.headers
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    again = client.get(SITE, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    zipped = client.get(SITE, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == first.data


@pytest.mark.usefixtures("campaign")
def test_the_document_follows_a_campaign_edit(app: Flask, client: FlaskClient) -> None:
    before = client.get(SITE)
    with app.app_context():
        from service.core.extensions import db

        row = db.session.scalars(select(Campaign)).one()
        update_campaign(db.session, row, campaign_input(exclude_sections=["sport"]))
        db.session.commit()
        invalidate_campaign_cache()
    after = client.get(SITE)
    assert after.json is not None
    assert after.json["campaigns"][0]["exclude_sections"] == ["sport"]
    assert after.headers["ETag"] != before.headers["ETag"]


def test_no_campaign_is_an_empty_list(client: FlaskClient) -> None:
    document = client.get(SITE).json
    assert document is not None and document["campaigns"] == []


def test_while_the_database_is_away_the_document_says_so(is_postgres: bool, tmp_path: Path) -> None:
    down = app_without_database(is_postgres, str(tmp_path))
    response = down.test_client().get(SITE)
    assert response.status_code == 200
    assert response.json is not None and response.json["available"] is False
    assert response.json["campaigns"] == []
    assert response.headers["Cache-Control"].startswith("public, max-age=5,")


def test_the_site_document_skips_the_flask_request_hooks(app: Flask, client: FlaskClient) -> None:
    seen: list[str] = []
    app.before_request(lambda: seen.append("flask") and None)
    client.get(SITE)
    client.get("/widget.js")
    assert seen == []
    client.get("/api/v1/supporters/count")
    assert seen == ["flask"]


def _events(*events: dict[str, str]) -> str:
    return json.dumps({"events": list(events)})


def _event(type_: str = "impression", placement: str = "top", **fields: str) -> dict[str, str]:
    return {
        "type": type_,
        "campaign": "winter",
        "variant": "a",
        "placement": placement,
        "view_id": "7d1e4a2b9c8f40e6a5b3c2d1e0f9a8b7",
        **fields,
    }


@pytest.mark.usefixtures("campaign")
def test_a_batch_of_beacons_sent_as_text_is_counted(client: FlaskClient, session: Session) -> None:
    body = _events(
        _event(),
        _event("impression", "bottom"),
        _event("click"),
        _event("dismiss", "bottom"),
        {**_event(), "campaign": "gone"},  # a campaign that stopped: skipped, not refused
    )
    response = client.post(
        "/api/v1/appeal-events/batch", data=body, content_type="text/plain;charset=UTF-8"
    )
    assert response.status_code == 204
    rows = {
        r.placement: (r.impressions, r.clicks, r.dismissals)
        for r in session.scalars(select(AppealCounter))
    }
    assert rows == {"top": (1, 1, 0), "bottom": (1, 0, 1)}


@pytest.mark.usefixtures("campaign")
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not json", 400),
        ("[]", 422),
        ('{"events": []}', 422),
        (_events({**_event(), "type": "purchase"}), 422),
        (_events(*[_event()] * 51), 422),
        (_events({**_event(), "extra": "x"}), 422),
        ("x" * 20_000, 413),
    ],
)
def test_a_bad_batch_is_refused_and_nothing_counted(
    client: FlaskClient, session: Session, body: str, status: int
) -> None:
    response = client.post("/api/v1/appeal-events/batch", data=body, content_type="text/plain")
    assert response.status_code == status
    assert session.scalars(select(AppealCounter)).first() is None


def test_the_site_document_tells_the_widget_a_currencys_digits() -> None:
    # The widget turns preset and typed amounts into minor units with these digits.
    assert site_document([], 0, currency="jpy", dismiss_days=7)["currency_digits"] == 0
    assert unavailable_document(currency="usd", dismiss_days=7)["currency_digits"] == 2
