"""A stale `charge.refunded` (its snapshot taken before the refund failed) must not raise
the refunded total again, whether it arrives before or after the failure's events."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ledger.models import Donation, DonationStatus
from service.ledger.supporters import count_supporters
from stripe_sandbox import SandboxServer
from tests.ledger.conftest import deliver_sandbox_event, pay

FAILURE = ("charge.refund.updated", "refund.failed")


@pytest.mark.parametrize("stale_first", [True, False], ids=["stale-first", "stale-last"])
@pytest.mark.parametrize("amount", [1000, 400], ids=["full", "partial"])
def test_a_stale_charge_refunded_after_a_failed_refund_changes_nothing(
    app: Flask,
    client: FlaskClient,
    session: Session,
    sandbox: SandboxServer,
    stale_first: bool,
    amount: int,
) -> None:
    settings = app.extensions["settings"]
    donor = pay(sandbox, settings, amount=1000)
    for event in sandbox.events:
        assert deliver_sandbox_event(client, sandbox, event["id"]) == 200
    assert donor.charge_id
    before = {event["id"] for event in sandbox.events}

    refund = sandbox.sim.refund(charge_id=donor.charge_id, amount=amount).object
    sandbox.sim.fail_refund(refund["id"])
    new = [event for event in sandbox.events if event["id"] not in before]
    stale = [e for e in new if e["type"] == "charge.refunded"]
    failure = [e for e in new if e["type"] in FAILURE]
    assert len(stale) == 1 and stale[0]["data"]["object"]["amount_refunded"] == amount
    assert [e["type"] for e in failure] == list(FAILURE)

    for event in (stale + failure) if stale_first else (failure + stale):
        assert deliver_sandbox_event(client, sandbox, event["id"]) == 200

    donation = session.scalars(select(Donation)).one()
    session.refresh(donation)
    assert (donation.status, donation.amount_refunded_minor, donation.refunded_at) == (
        DonationStatus.SUCCEEDED,
        0,
        None,
    )
    assert count_supporters(session, settings) == 1


def test_a_later_refund_that_succeeded_still_counts_after_an_earlier_one_failed(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    """The current refunds decide: a failed 300 and a succeeded 200 leave 200 refunded,
    whatever order the snapshots (300, then 500, then the failure) arrive in."""
    settings = app.extensions["settings"]
    donor = pay(sandbox, settings, amount=1000)
    for event in sandbox.events:
        assert deliver_sandbox_event(client, sandbox, event["id"]) == 200
    assert donor.charge_id
    before = {event["id"] for event in sandbox.events}
    first = sandbox.sim.refund(charge_id=donor.charge_id, amount=300).object
    sandbox.sim.refund(charge_id=donor.charge_id, amount=200)
    sandbox.sim.fail_refund(first["id"])
    new = [event for event in sandbox.events if event["id"] not in before]

    for event in reversed(new):
        assert deliver_sandbox_event(client, sandbox, event["id"]) == 200

    donation = session.scalars(select(Donation)).one()
    session.refresh(donation)
    assert (donation.status, donation.amount_refunded_minor) == (
        DonationStatus.PARTIALLY_REFUNDED,
        200,
    )
