"""Order independence: every ordering of a gift's events ends in the same state."""

from __future__ import annotations

import itertools
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ledger.models import FOREVER, Donation, DonationStatus, MonthlyDonation, MonthlyStatus
from service.ledger.supporters import count_supporters
from stripe_sandbox import SandboxServer
from tests.ledger.conftest import Donor, deliver_sandbox_event, pay
from tests.ledger.stripe_events import (
    charge_for,
    deliver,
    dispute_for,
    event,
    new_id,
    one_off_session,
    refunded,
)

START = int(time.time()) - 3600
FIRST_FOUR = (
    "customer.subscription.created",
    "invoice.paid",
    "checkout.session.completed",
    "customer.subscription.updated",
)


def _monthly_story(sandbox: SandboxServer, settings: Any) -> tuple[Donor, list[str], str]:
    """A monthly gift paid at checkout then raised to 15.00: its first four events."""
    mark = len(sandbox.events)
    donor = pay(sandbox, settings, frequency="monthly", amount=500)
    assert donor.subscription_id
    sandbox.sim.change_amount(donor.subscription_id, 1500)
    ours = [e for e in sandbox.events[mark:] if e["type"] in FIRST_FOUR]
    assert [e["type"] for e in ours] == list(FIRST_FOUR)
    return donor, [e["id"] for e in ours], ours[1]["data"]["object"]["id"]


def _final_state(
    session: Session, sandbox: SandboxServer, donor: Donor, invoice_id: str
) -> tuple[Any, ...]:
    monthly = session.scalars(
        select(MonthlyDonation).where(
            MonthlyDonation.stripe_subscription_id == donor.subscription_id
        )
    ).one()
    subscription = sandbox.state.get(str(donor.subscription_id))
    item = subscription["items"]["data"][0]
    assert monthly.current_period_end is not None
    assert int(monthly.current_period_end.timestamp()) == item["current_period_end"]
    [donation] = session.scalars(select(Donation).where(Donation.monthly_donation_id == monthly.id))
    assert donation.stripe_invoice_id == invoice_id
    assert monthly.supporter is not None
    return (
        monthly.status,
        monthly.amount_minor,
        monthly.currency,
        monthly.cancel_at_period_end,
        monthly.campaign,
        monthly.supporter.email == donor.email,
        monthly.supporter.supported_until,
        donation.amount_minor,
        donation.status,
        donation.stripe_customer_id == donor.customer_id,
        bool(donation.stripe_payment_intent_id and donation.stripe_charge_id),
        donation.supporter_id == monthly.supporter_id,
    )


def test_every_ordering_of_a_monthly_gifts_first_four_events_ends_the_same(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    settings = app.extensions["settings"]
    orders = list(itertools.permutations(range(4)))
    stories = [_monthly_story(sandbox, settings) for _ in orders]

    for order, (_donor, event_ids, _invoice) in zip(orders, stories, strict=True):
        for index in order:
            assert deliver_sandbox_event(client, sandbox, event_ids[index]) == 200

    states = {_final_state(session, sandbox, donor, invoice) for donor, _, invoice in stories}
    assert states == {
        (
            MonthlyStatus.ACTIVE,
            1500,
            "eur",
            False,
            "spring",
            True,
            FOREVER,
            500,
            DonationStatus.SUCCEEDED,
            True,
            True,
            True,
        )
    }
    assert count_supporters(session, settings) == len(orders)


def _one_off_events(sandbox: SandboxServer, dispute_outcome: str) -> list[dict[str, Any]]:
    checkout = one_off_session(amount=1000, email=f"{new_id('reader-')}@example.com")
    charge = charge_for(checkout, created=START - 5)
    partly = refunded(charge, 300)
    # A dispute heard of before its payment sends the service to Stripe for the charge.
    sandbox.state.put(partly | {"disputed": True})
    return [
        event("checkout.session.completed", checkout, created=START),
        event("charge.refunded", partly, created=START + 60),
        event("charge.dispute.created", dispute_for(partly), created=START + 120),
        event(
            "charge.dispute.closed",
            dispute_for(partly, status=dispute_outcome),
            created=START + 180,
        ),
    ]


def test_every_ordering_of_a_one_offs_payment_refund_and_dispute_ends_the_same(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    finals: dict[str, set[tuple[Any, ...]]] = {"won": set(), "lost": set()}
    for outcome in finals:
        for order in itertools.permutations(range(4)):
            events = _one_off_events(sandbox, outcome)
            for index in order:
                assert deliver(client, events[index]).status_code == 200
            donation = session.scalars(
                select(Donation).where(
                    Donation.stripe_payment_intent_id
                    == events[0]["data"]["object"]["payment_intent"]
                )
            ).one()
            finals[outcome].add(
                (
                    donation.status,
                    donation.amount_refunded_minor,
                    donation.disputed_at is not None,
                    donation.stripe_charge_id is not None,
                    donation.stripe_checkout_session_id is not None,
                    donation.campaign,
                    int(donation.paid_at.timestamp()),
                )
            )

    paid_at = START - 5  # the charge's time, whichever event told us first
    assert finals["lost"] == {
        (DonationStatus.DISPUTE_LOST, 300, True, True, True, "spring", paid_at)
    }
    assert finals["won"] == {
        (DonationStatus.PARTIALLY_REFUNDED, 300, True, True, True, "spring", paid_at)
    }
    # 24 won (partly refunded, still counting) gifts from 24 people; the lost ones do not count.
    assert count_supporters(session, app.extensions["settings"]) == 24
