"""Checkout takes what the reader's appeal offers: its frequencies, its minimum, fee cover."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.appeals import Asks, invalidate_campaign_cache
from service.appeals.editing import VariantInput
from service.core.money import fee_cover
from service.ledger.models import CheckoutAttempt
from tests.appeals.factories import TOP, make_campaign
from tests.donations.helpers import count_attempts, sandbox_sessions
from tests.stripe_fixtures import sandbox_overrides

POUNDS = Asks(
    frequencies=("annual", "one_off"),
    default_frequency="annual",
    amounts={"annual": (3000, 6000), "one_off": (500, 1000)},
    default_amounts={"annual": 6000, "one_off": 1000},
    minimum=500,
)


@pytest.fixture
def app_overrides(sandbox: Any) -> dict[str, Any]:
    return sandbox_overrides(sandbox)


@pytest.fixture
def campaign(session: Session, app: Any) -> None:
    make_campaign(session, variants=(VariantInput("a", 1, {"top": TOP}, {"gbp": POUNDS}),))
    session.commit()
    invalidate_campaign_cache(app)


def _post(client: FlaskClient, **body: Any) -> Any:
    payload = {"frequency": "one_off", "amount": 1000, "currency": "gbp"}
    payload.update(body)
    return client.post("/api/v1/checkout", json=payload)


@pytest.mark.usefixtures("campaign")
def test_checkout_refuses_a_frequency_or_amount_the_appeal_does_not_offer(
    client: FlaskClient, session: Session
) -> None:
    monthly = _post(client, frequency="monthly", campaign="winter", variant="a")
    assert monthly.status_code == 422
    assert monthly.get_json()["errors"]["json"]["frequency"] == [
        "This appeal takes once-off / yearly gifts."
    ]
    small = _post(client, amount=400, campaign="winter", variant="a")
    assert small.status_code == 422
    assert small.get_json()["errors"]["json"]["amount"] == ["The smallest gift here is £5.00."]
    # In euros the variant sets nothing: the defaults (monthly too, €1 minimum) apply.
    euros = _post(
        client, frequency="monthly", amount=400, currency="eur", campaign="winter", variant="a"
    )
    assert euros.status_code == 201, euros.get_json()
    assert count_attempts(session) == 1


def test_unknown_currency_or_frequency_is_a_422_with_a_message(client: FlaskClient) -> None:
    currency = _post(client, currency="chf")
    assert currency.status_code == 422
    assert currency.get_json()["errors"]["json"]["currency"] == ["Choose one of eur, gbp, usd."]
    frequency = _post(client, frequency="weekly")
    assert frequency.status_code == 422
    assert frequency.get_json()["errors"]["json"]["frequency"] == [
        "Choose one_off, monthly or annual."
    ]


def test_fee_cover_is_added_and_recorded_apart(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    response = _post(client, currency="eur", amount=1000, cover_fees=True)
    assert response.status_code == 201, response.get_json()
    attempt = session.scalars(select(CheckoutAttempt)).one()
    # €10 at 1.5% + €0.25: €10.41 charged, so €10 arrives after Stripe's fee.
    assert (attempt.amount_minor, attempt.fee_cover_minor) == (1041, 41)
    [stripe_session] = sandbox_sessions(sandbox)
    assert stripe_session["amount_total"] == 1041
    assert stripe_session["metadata"]["fee_cover"] == "41"


@pytest.mark.parametrize(
    ("amount", "bp", "fixed", "expected"),
    [(1000, 150, 25, 41), (500, 150, 20, 28), (2500, 290, 30, 106), (1, 0, 0, 0), (0, 150, 25, 0)],
)
def test_fee_cover_leaves_the_gift_whole_after_the_fee(
    amount: int, bp: int, fixed: int, expected: int
) -> None:
    added = fee_cover(amount, bp, fixed)
    assert added == expected
    if amount:
        total = amount + added
        # What arrives is the gift, never less (and at most a cent more).
        arrives = total - (total * bp / 10_000 + fixed)
        assert amount <= arrives < amount + 1


def test_fee_cover_never_takes_a_gift_past_the_maximum(
    client: FlaskClient, session: Session
) -> None:
    response = _post(client, currency="eur", amount=999_990, cover_fees=True)
    assert response.status_code == 201, response.get_json()
    attempt = session.scalars(select(CheckoutAttempt)).one()
    assert (attempt.amount_minor, attempt.fee_cover_minor) == (1_000_000, 10)
