"""Handlers one by one: delayed payments, checkout attempts, objects that are not ours."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.ledger.models import (
    AttemptStatus,
    CheckoutAttempt,
    Donation,
    EventOutcome,
    Frequency,
    MonthlyDonation,
    StripeEvent,
)
from tests.ledger.stripe_events import (
    OURS,
    deliver,
    event,
    new_id,
    one_off_session,
    outcome_of,
    stripe_object,
)


def _reload(session: Session, attempt: CheckoutAttempt) -> CheckoutAttempt:
    return session.scalars(
        select(CheckoutAttempt).where(CheckoutAttempt.public_id == attempt.public_id)
    ).one()


def _attempt(session: Session) -> CheckoutAttempt:
    attempt = CheckoutAttempt(frequency=Frequency.ONE_OFF, amount_minor=1000, currency="eur")
    session.add(attempt)
    session.flush()
    return attempt


def test_a_delayed_payment_is_recorded_only_when_it_succeeds(
    client: FlaskClient, session: Session
) -> None:
    attempt = _attempt(session)
    checkout = one_off_session(metadata=OURS | {"checkout_attempt": attempt.public_id})
    unpaid = checkout | {"payment_status": "unpaid"}

    assert deliver(client, event("checkout.session.completed", unpaid)).status_code == 200
    assert session.scalar(select(func.count()).select_from(Donation)) == 0
    attempt = _reload(session, attempt)
    assert attempt.status is AttemptStatus.COMPLETED
    assert attempt.stripe_checkout_session_id == checkout["id"]

    succeeded = event("checkout.session.async_payment_succeeded", checkout)
    assert deliver(client, succeeded).status_code == 200
    donation = session.scalars(select(Donation)).one()
    assert donation.stripe_checkout_session_id == checkout["id"]


def test_a_failed_delayed_payment_marks_the_attempt_and_records_nothing(
    client: FlaskClient, session: Session
) -> None:
    attempt = _attempt(session)
    checkout = one_off_session(metadata=OURS | {"checkout_attempt": attempt.public_id})
    failed = checkout | {"payment_status": "unpaid"}

    evt = event("checkout.session.async_payment_failed", failed)
    response = deliver(client, evt)

    assert (response.status_code, response.json["outcome"]) == (200, "pending")
    assert outcome_of(session, evt) is EventOutcome.APPLIED
    attempt = _reload(session, attempt)
    assert attempt.status is AttemptStatus.FAILED
    assert session.scalar(select(func.count()).select_from(Donation)) == 0


def test_subscriptions_invoices_charges_and_disputes_of_others_are_ignored(
    client: FlaskClient, session: Session
) -> None:
    others = [
        event(
            "customer.subscription.created",
            stripe_object("subscription", id=new_id("sub_"), status="active", metadata={}),
        ),
        event(
            "invoice.paid",
            stripe_object(
                "invoice",
                id=new_id("in_"),
                amount_paid=1000,
                parent={
                    "type": "subscription_details",
                    "quote_details": None,
                    "subscription_details": {"subscription": new_id("sub_"), "metadata": {}},
                },
            ),
        ),
        event("invoice.paid", stripe_object("invoice", id=new_id("in_"), parent=None)),
        event("charge.refunded", stripe_object("charge", id=new_id("ch_"), metadata={})),
    ]

    assert [deliver(client, evt).status_code for evt in others] == [200] * len(others)

    outcomes = [outcome_of(session, evt) for evt in others]
    assert outcomes == [EventOutcome.IGNORED] * len(others)
    assert session.scalar(select(func.count()).select_from(MonthlyDonation)) == 0
    assert session.scalar(select(func.count()).select_from(Donation)) == 0
    assert session.scalar(select(func.count()).select_from(StripeEvent)) == len(others)
