"""Events ignored once that lose information: an expired checkout, a failed refund, a
changed email, a deleted customer and a dispute inquiry, each produced by the sandbox."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.ledger.models import (
    AttemptStatus,
    CheckoutAttempt,
    Donation,
    DonationStatus,
    StripeCustomer,
    Supporter,
)
from service.ledger.supporters import count_supporters
from stripe_sandbox import SandboxServer
from tests.ledger.conftest import deliver_sandbox_event, pay, start_checkout


def _deliver_new(client: FlaskClient, sandbox: SandboxServer, seen: set[str]) -> list[str]:
    """Deliver every sandbox event not delivered yet, in order; their types."""
    types = []
    for event in sandbox.events:
        if event["id"] not in seen:
            seen.add(event["id"])
            assert deliver_sandbox_event(client, sandbox, event["id"]) == 200
            types.append(event["type"])
    return types


def test_an_expired_checkout_marks_its_attempt_expired(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    session_id = start_checkout(app.extensions["settings"])
    attempt_id = sandbox.state.get(session_id)["metadata"]["checkout_attempt"]
    session.add(
        CheckoutAttempt(
            public_id=attempt_id,
            frequency="one_off",
            amount_minor=1000,
            currency="eur",
            status=AttemptStatus.SESSION_CREATED,
            stripe_checkout_session_id=session_id,
        )
    )
    session.flush()
    sandbox.sim.expire_checkout(session_id)

    assert _deliver_new(client, sandbox, set()) == ["checkout.session.expired"]

    attempt = session.scalars(select(CheckoutAttempt)).one()
    session.refresh(attempt)
    assert attempt.status is AttemptStatus.EXPIRED


def test_a_failed_refund_restores_the_gift_and_the_count(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    settings = app.extensions["settings"]
    donor = pay(sandbox, settings, amount=1000)
    seen: set[str] = set()
    _deliver_new(client, sandbox, seen)
    assert donor.charge_id
    refund = sandbox.sim.refund(charge_id=donor.charge_id).object
    _deliver_new(client, sandbox, seen)
    donation = session.scalars(select(Donation)).one()
    assert donation.status is DonationStatus.REFUNDED
    assert count_supporters(session, settings) == 0

    sandbox.sim.fail_refund(refund["id"])
    assert _deliver_new(client, sandbox, seen) == ["charge.refund.updated", "refund.failed"]

    session.refresh(donation)
    assert (donation.status, donation.amount_refunded_minor, donation.refunded_at) == (
        DonationStatus.SUCCEEDED,
        0,
        None,
    )
    assert count_supporters(session, settings) == 1


def test_a_changed_email_follows_the_same_person(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    settings = app.extensions["settings"]
    donor = pay(sandbox, settings, frequency="monthly", amount=500, email="old@example.com")
    seen: set[str] = set()
    _deliver_new(client, sandbox, seen)
    sandbox.sim.update_customer(donor.customer_id, email="new@example.com")
    assert _deliver_new(client, sandbox, seen) == ["customer.updated"]

    # Later the same person gives once more, as a new Stripe customer with the new address.
    pay(sandbox, settings, amount=1000, email="new@example.com")
    _deliver_new(client, sandbox, seen)

    supporter = session.scalars(select(Supporter)).one()
    assert supporter.email == "new@example.com"
    assert session.scalar(select(func.count()).select_from(Donation)) == 2
    assert count_supporters(session, settings) == 1


def test_a_deleted_customer_is_erased_and_their_gifts_kept_anonymised(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    settings = app.extensions["settings"]
    donor = pay(sandbox, settings, frequency="monthly", amount=500, email="gone@example.com")
    seen: set[str] = set()
    _deliver_new(client, sandbox, seen)
    sandbox.sim.delete_customer(donor.customer_id)
    assert _deliver_new(client, sandbox, seen) == [
        "customer.subscription.deleted",
        "customer.deleted",
    ]

    donation = session.scalars(select(Donation)).one()
    session.refresh(donation)
    assert (donation.email, donation.amount_minor, donation.status) == (
        None,
        500,
        DonationStatus.SUCCEEDED,
    )
    customer = session.scalars(select(StripeCustomer)).one()
    assert customer.email is None and customer.supporter.email is None
    emails = session.scalars(select(CheckoutAttempt.email)).all()
    assert "gone@example.com" not in emails


def test_a_dispute_inquiry_does_not_remove_a_supporter(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    settings = app.extensions["settings"]
    donor = pay(sandbox, settings, amount=1000)
    seen: set[str] = set()
    _deliver_new(client, sandbox, seen)
    assert donor.charge_id
    inquiry = sandbox.sim.dispute(donor.charge_id, inquiry=True).object
    sandbox.sim.close_dispute(inquiry["id"], "won")
    assert _deliver_new(client, sandbox, seen) == [
        "charge.dispute.created",
        "charge.dispute.closed",
    ]

    donation = session.scalars(select(Donation)).one()
    assert (donation.status, donation.disputed_at) == (DonationStatus.SUCCEEDED, None)
    assert count_supporters(session, settings) == 1
