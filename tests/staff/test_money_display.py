"""Amounts in zero-decimal currencies read right on the staff pages and in the CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.core.models import utcnow
from service.core.settings import _parse_currency_limits
from service.staff.models import StaffRole
from tests.staff import factories
from tests.staff.helpers import arranged, sign_in


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"currency_limits": _parse_currency_limits("eur:100:1000000,jpy:100:1000000")}


def _with_gifts(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.VIEWER)
        factories.donation(session, amount_minor=1000, currency="jpy", paid_at=utcnow())
        factories.donation(session, amount_minor=1250, currency="eur", paid_at=utcnow())
    sign_in(client, user.email)


def test_donations_page_shows_yen_as_whole_yen(app: Flask, client: FlaskClient) -> None:
    _with_gifts(app, client)
    html = client.get("/staff/donations").get_data(as_text=True)
    assert "¥1,000" in html
    assert "€12.50" in html
    assert "¥10.00" not in html


def test_dashboard_shows_yen_as_whole_yen(app: Flask, client: FlaskClient) -> None:
    _with_gifts(app, client)
    html = client.get("/staff/").get_data(as_text=True)
    assert "¥1,000" in html
    assert "€12.50" in html
    assert "¥10.00" not in html


def test_csv_writes_yen_without_decimals(app: Flask, client: FlaskClient) -> None:
    _with_gifts(app, client)
    text = client.get("/staff/reports/donations.csv").get_data(as_text=True).lstrip("\ufeff")
    amounts = {row["currency"]: row["amount"] for row in csv.DictReader(io.StringIO(text))}
    assert amounts == {"jpy": "1000", "eur": "12.50"}
