"""The app factory, health check, error pages and request-owned transactions."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.core.extensions import db
from service.ledger.models import Supporter
from tests.conftest import make_test_app


def test_healthz_answers_ok_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable() -> None:
    app = make_test_app("postgresql://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_support_page_shows_the_appeal_and_the_count(client: FlaskClient) -> None:
    response = client.get("/support")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "give what you can" in page
    assert "Be one of the first readers to support us." in page


def test_support_page_shows_the_count_with_its_friendly_floor(database_url: str) -> None:
    app = make_test_app(database_url, supporter_count_offset=5432)
    page = app.test_client().get("/support").get_data(as_text=True)
    assert "Over 5,400</strong> readers already support us." in page


def test_unknown_api_path_gets_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["code"] == 404


def test_unknown_page_gets_an_html_404(client: FlaskClient) -> None:
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert "text/html" in response.content_type
    assert "could not find that page" in response.get_data(as_text=True)


@pytest.fixture
def app_with_probe(app: Flask) -> Flask:
    """Add two routes that write a supporter, one succeeding and one failing after."""

    @app.post("/probe/ok")
    def probe_ok() -> Any:
        db.session.add(Supporter(email="ok@example.org"))
        db.session.flush()
        return {"ok": True}

    @app.post("/probe/fail")
    def probe_fail() -> Any:
        db.session.add(Supporter(email="fail@example.org"))
        db.session.flush()
        abort(400)

    @app.post("/probe/crash")
    def probe_crash() -> Any:
        db.session.add(Supporter(email="crash@example.org"))
        db.session.flush()
        raise RuntimeError("boom")

    return app


def _emails(app: Flask) -> set[str | None]:
    with app.app_context():
        return set(db.session.scalars(select(Supporter.email)))


def test_a_successful_request_commits(app_with_probe: Flask) -> None:
    assert app_with_probe.test_client().post("/probe/ok").status_code == 200
    assert "ok@example.org" in _emails(app_with_probe)


def test_a_failed_request_rolls_back(app_with_probe: Flask) -> None:
    client = app_with_probe.test_client()
    assert client.post("/probe/fail").status_code == 400
    assert client.post("/probe/crash").status_code == 500
    emails = _emails(app_with_probe)
    assert "fail@example.org" not in emails
    assert "crash@example.org" not in emails
    with app_with_probe.app_context():
        assert db.session.scalar(select(func.count()).select_from(Supporter)) == 0
