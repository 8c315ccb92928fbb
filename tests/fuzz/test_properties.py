"""Hypothesis: amounts as readers type them, and any signed body Stripe could never send.

The appeal decision's properties live with it in tests/appeals/test_appeals.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.money import ZERO_DECIMAL_CURRENCIES, parse_major_amount
from service.ledger.models import (
    CheckoutAttempt,
    Donation,
    EventOutcome,
    MonthlyDonation,
    StripeCustomer,
    StripeEvent,
    Supporter,
)
from stripe_sandbox.server import SandboxServer
from tests.conftest import TEST_STRIPE_KEY, TEST_WEBHOOK_SECRET, drain_jobs
from tests.stripe_fixtures import checked_sandbox

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- amounts -----------------------------------------------------------------------------

two_decimal = st.sampled_from(["eur", "gbp", "usd"])
minor_amounts = st.integers(min_value=0, max_value=10**9)


@FUZZ
@given(st.text(max_size=40), st.sampled_from(["eur", "gbp", "usd", "jpy"]))
def test_parsing_any_text_gives_whole_minor_units_or_nothing(text: str, currency: str) -> None:
    result = parse_major_amount(text, currency)
    assert result is None or isinstance(result, int)


@FUZZ
@given(minor_amounts, two_decimal, st.sampled_from(["{}", " {} ", "€{}", "€ {}", "£{}", "${}"]))
def test_an_amount_written_with_a_point_parses_back_exactly(
    minor: int, currency: str, shape: str
) -> None:
    symbol = {"eur": "€", "gbp": "£", "usd": "$"}[currency]
    if any(s in shape for s in "€£$") and symbol not in shape:
        shape = shape.replace("€", symbol).replace("£", symbol).replace("$", symbol)
    typed = shape.format(f"{minor // 100}.{minor % 100:02d}")
    assert parse_major_amount(typed, currency) == minor


@FUZZ
@given(minor_amounts, two_decimal)
def test_a_decimal_comma_means_the_same_as_a_point(minor: int, currency: str) -> None:
    typed = f"{minor // 100},{minor % 100:02d}"
    assert parse_major_amount(typed, currency) == minor


@FUZZ
@given(st.integers(min_value=0, max_value=10**9), two_decimal)
def test_whole_units_are_hundreds_of_minor_units(units: int, currency: str) -> None:
    assert parse_major_amount(str(units), currency) == units * 100


@FUZZ
@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(sorted(ZERO_DECIMAL_CURRENCIES)))
def test_zero_decimal_currencies_take_whole_units(units: int, currency: str) -> None:
    assert parse_major_amount(str(units), currency) == units
    assert parse_major_amount(f"{units}.5", currency) is None


@FUZZ
@given(minor_amounts, st.integers(min_value=1, max_value=9), two_decimal)
def test_fractions_of_a_cent_are_refused_not_rounded(minor: int, extra: int, currency: str) -> None:
    typed = f"{minor // 100}.{minor % 100:02d}{extra}"
    assert parse_major_amount(typed, currency) is None


@FUZZ
@given(st.sampled_from(["NaN", "nan", "Infinity", "-inf", "sNaN", "1e3", "1E-2", "0x10"]))
def test_special_and_scientific_numbers_are_refused(typed: str) -> None:
    result = parse_major_amount(typed, "eur")
    assert result is None or typed.lower().startswith("1e")  # 1e3 is a number, but never NaN
    if typed.lower() in {"nan", "snan", "infinity", "-inf"}:
        assert result is None


# -- webhook payloads --------------------------------------------------------------------

LEDGER = (Donation, MonthlyDonation, Supporter, StripeCustomer, CheckoutAttempt)
HANDLED_TYPES = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
]


FOREIGN_CHARGES: list[str] = []


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """A sandbox holding one paid charge of someone else's (another app on the account)."""
    with checked_sandbox(deliver_webhooks=False) as server:
        client = stripe.StripeClient(TEST_STRIPE_KEY, base_addresses={"api": server.url})
        checkout = client.v1.checkout.sessions.create(
            {
                "mode": "payment",
                "success_url": "https://shop.example/done",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "eur",
                            "unit_amount": 1500,
                            "product_data": {"name": "T-shirt"},
                        },
                    }
                ],
                "metadata": {"app": "the-shop"},
                "payment_intent_data": {"metadata": {"app": "the-shop"}},
            }
        )
        server.sim.complete_checkout(checkout.id, email="shopper@example.com")
        FOREIGN_CHARGES[:] = [
            e["data"]["object"]["id"] for e in server.events if e["type"] == "charge.succeeded"
        ]
        assert FOREIGN_CHARGES
        yield server


@pytest.fixture
def app_overrides(sandbox: SandboxServer) -> dict[str, Any]:
    # Handlers may fetch objects from "Stripe"; here it knows none of them.
    return {"stripe_api_base": sandbox.url}


def _signed_post(client: FlaskClient, body: bytes) -> Any:
    timestamp = int(time.time())
    digest = hmac.new(
        TEST_WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return client.post(
        "/webhooks/stripe",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": f"t={timestamp},v1={digest}",
        },
    )


def _counts(app: Flask, session: Session) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (*LEDGER, StripeEvent)
        }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
stripe_ids = st.from_regex(r"\A(cs|sub|in|ch|pi|cus|dp|evt)_[A-Za-z0-9]{1,24}\Z")
# Metadata that is not ours: anything but {"app": "reader-contributions"}.
foreign_metadata = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["app", "campaign", "order"]), st.text(max_size=24), max_size=3
    ).filter(lambda m: m.get("app") != "reader-contributions"),
)
foreign_objects = st.fixed_dictionaries(
    {
        "id": stripe_ids,
        "object": st.sampled_from(
            ["checkout.session", "invoice", "subscription", "charge", "dispute"]
        ),
        "metadata": foreign_metadata,
    },
    optional={
        "customer": stripe_ids,
        "subscription": stripe_ids,
        # Stripe's events name objects that exist at Stripe: someone else's charge.
        "charge": st.deferred(lambda: st.sampled_from(FOREIGN_CHARGES)),
        "payment_intent": stripe_ids,
        "amount_total": st.integers(-10, 10**7),
        "amount": st.integers(-10, 10**7),
        "amount_refunded": st.integers(-10, 10**7),
        "currency": st.sampled_from(["eur", "EUR", "xx", ""]),
        "mode": st.sampled_from(["payment", "subscription", "setup"]),
        "payment_status": st.sampled_from(["paid", "unpaid", "no_payment_required"]),
        "status": st.text(max_size=12),
        "paid": st.booleans(),
        "customer_details": st.fixed_dictionaries({"email": st.emails() | st.none()}),
        "parent": json_values,
        "lines": json_values,
    },
)


def _event(event_id: str, event_type: str, obj: dict[str, Any], created: int) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": created,
            "livemode": False,
            "api_version": "2026-10-28.endive",
            "data": {"object": obj},
        }
    ).encode()


@FUZZ
@given(body=st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200)))
def test_a_signed_body_that_is_not_an_event_is_refused_without_a_write(
    app: Flask, client: FlaskClient, session: Session, body: bytes
) -> None:
    before = _counts(app, session)
    response = _signed_post(client, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert _counts(app, session) == before


@FUZZ
@given(
    event_id=st.from_regex(r"\Aevt_[A-Za-z0-9]{1,30}\Z"),
    event_type=st.sampled_from(HANDLED_TYPES) | st.text(max_size=30),
    obj=foreign_objects,
    created=st.integers(0, 2**31),
)
def test_an_event_about_objects_that_are_not_ours_is_acknowledged_and_changes_no_ledger(
    app: Flask,
    client: FlaskClient,
    session: Session,
    event_id: str,
    event_type: str,
    obj: dict[str, Any],
    created: int,
) -> None:
    before = _counts(app, session)
    response = _signed_post(client, _event(event_id, event_type, obj, created))
    assert response.status_code < 500, response.get_data(as_text=True)
    drain_jobs(app)  # the endpoint stores it; the worker applies it
    after = _counts(app, session)
    assert {k: v for k, v in after.items() if k != "StripeEvent"} == {
        k: v for k, v in before.items() if k != "StripeEvent"
    }
    if response.status_code == 200:
        with app.app_context():
            row = session.scalar(select(StripeEvent).where(StripeEvent.stripe_event_id == event_id))
            assert row is not None and row.outcome in {EventOutcome.IGNORED, EventOutcome.APPLIED}
            assert row.outcome is EventOutcome.IGNORED or response.get_json()["duplicate"]


@pytest.mark.parametrize(
    ("event_id", "event_type"),
    [
        ("evt_nul", "customer.\x00created"),
        ("evt_long", "x" * 101),
        ("evt_\ud800", "customer.created"),
        ("evt_" + "a" * 260, "customer.created"),
        ("evt_surrogate_in_data", "customer.created"),
        ("evt_infinity_in_data", "customer.created"),
    ],
)
def test_a_signed_event_whose_id_or_type_no_column_can_hold_is_refused_without_a_write(
    app: Flask, client: FlaskClient, session: Session, event_id: str, event_type: str
) -> None:
    # Found by the property above on PostgreSQL: a NUL in the type gave 500 when stored.
    before = _counts(app, session)
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": 1_700_000_000,
            "data": {"object": {"object": "customer", "id": "cus_x", "name": "\ud800"}}
            if event_id == "evt_surrogate_in_data"
            else {"object": {"object": "customer", "id": "cus_x", "balance": float("inf")}}
            if event_id == "evt_infinity_in_data"
            else {"object": {"object": "customer", "id": "cus_x"}},
        }
    ).encode()
    response = _signed_post(client, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "not" in response.get_data(as_text=True)
    assert _counts(app, session) == before
