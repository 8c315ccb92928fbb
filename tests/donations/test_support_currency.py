"""/support in the reader's currency: their choice, else their country's (only from the
CDN header the operator named), with the appeal's asks and the fee cover."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ledger.models import CheckoutAttempt
from tests.stripe_fixtures import sandbox_overrides


@pytest.fixture
def app_overrides(sandbox: Any) -> dict[str, Any]:
    return sandbox_overrides(sandbox)


def test_the_reader_switches_to_pounds(client: FlaskClient) -> None:
    html = client.get("/support").get_data(as_text=True)
    assert "€10" in html and "£10" not in html
    assert '<option value="gbp">GBP</option>' in html
    pounds = client.get("/support?currency=gbp").get_data(as_text=True)
    assert re.search(r'name="amount_monthly" value="1000"\s+checked', pounds)
    assert "£10" in pounds and "€10" not in pounds
    assert '<input type="hidden" name="currency" value="gbp">' in pounds
    assert '<option value="gbp" selected>GBP</option>' in pounds


def test_a_country_header_is_ignored_unless_the_operator_named_it(client: FlaskClient) -> None:
    html = client.get("/support", headers={"CF-IPCountry": "GB"}).get_data(as_text=True)
    assert '<input type="hidden" name="currency" value="eur">' in html


def test_the_form_gives_in_pounds_with_the_fee_covered(
    client: FlaskClient, session: Session
) -> None:
    page = client.get("/support?currency=gbp").get_data(as_text=True)
    assert "1.5% + £0.20" in page
    response = client.post(
        "/support/checkout",
        data={
            "frequency": "one_off",
            "amount_one_off": "2500",
            "currency": "gbp",
            "cover_fees": "1",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    attempt = session.scalars(select(CheckoutAttempt)).one()
    assert attempt.currency == "gbp"
    assert (attempt.amount_minor, attempt.fee_cover_minor) == (2559, 59)


def test_an_unknown_currency_in_the_form_is_refused(client: FlaskClient, session: Session) -> None:
    response = client.post(
        "/support/checkout",
        data={"frequency": "monthly", "amount_monthly": "1000", "currency": "chf"},
    )
    assert response.status_code == 422
    assert "Choose one of eur, gbp, usd." in response.get_data(as_text=True)
    assert session.scalars(select(CheckoutAttempt)).first() is None


def test_without_country_header_the_widget_gets_no_country(client: FlaskClient) -> None:
    answer = client.get("/api/v1/reader-country", headers={"CF-IPCountry": "GB"})
    assert answer.get_json() == {"country": ""}
    assert "Vary" not in answer.headers
