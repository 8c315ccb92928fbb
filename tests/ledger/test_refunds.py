"""Refunds: `refunded_at` is when the money first went back, whatever arrives later."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ledger.models import Donation, DonationStatus
from stripe_sandbox import SandboxServer
from tests.ledger.stripe_events import (
    Obj,
    charge_for,
    deliver,
    event,
    one_off_session,
    refund_of,
)

START = int(time.time()) - 3600
FIRST_REFUND_AT = START + 600
SECOND_REFUND_AT = START + 1200


def _with_refunds(sandbox: SandboxServer, charge: Obj, *refunds: tuple[int, int]) -> Obj:
    """The charge after the given (amount, created) refunds.

    As at Stripe (API 2022-11-15 on), the charge does not carry its refunds: they are
    kept in the sandbox, where the service lists them.
    """
    for amount, created in refunds:
        refund_id = f"re_{charge['id']}_{created}"
        if sandbox.state.live(refund_id) is None:
            sandbox.state.put(refund_of(charge, amount, created=created) | {"id": refund_id})
    total = sum(amount for amount, _created in refunds)
    after = charge | {"amount_refunded": total, "refunded": total >= charge["amount"]}
    sandbox.state.put(after)
    return after


def test_a_charge_refunded_twice_dates_the_refund_by_the_first(
    client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    checkout = one_off_session(amount=1000)
    charge = charge_for(checkout, created=START)
    assert (
        deliver(client, event("checkout.session.completed", checkout, created=START)).status_code
        == 200
    )

    both = _with_refunds(sandbox, charge, (300, FIRST_REFUND_AT), (200, SECOND_REFUND_AT))
    assert (
        deliver(client, event("charge.refunded", both, created=SECOND_REFUND_AT)).status_code == 200
    )

    donation = session.scalars(select(Donation)).one()
    assert donation.amount_refunded_minor == 500
    assert donation.status is DonationStatus.PARTIALLY_REFUNDED
    assert donation.refunded_at == datetime.fromtimestamp(FIRST_REFUND_AT, UTC)


@pytest.mark.parametrize("first_heard", ["earlier refund", "later refund"])
def test_two_partial_refunds_heard_in_either_order_keep_the_first_refunds_time(
    client: FlaskClient, session: Session, sandbox: SandboxServer, first_heard: str
) -> None:
    checkout = one_off_session(amount=1000)
    charge = charge_for(checkout, created=START)
    assert (
        deliver(client, event("checkout.session.completed", checkout, created=START)).status_code
        == 200
    )
    one = event(
        "charge.refunded",
        _with_refunds(sandbox, charge, (300, FIRST_REFUND_AT)),
        created=FIRST_REFUND_AT,
    )
    two = event(
        "charge.refunded",
        _with_refunds(sandbox, charge, (300, FIRST_REFUND_AT), (700, SECOND_REFUND_AT)),
        created=SECOND_REFUND_AT,
    )

    for evt in (one, two) if first_heard == "earlier refund" else (two, one):
        assert deliver(client, evt).status_code == 200

    donation = session.scalars(select(Donation)).one()
    assert donation.amount_refunded_minor == 1000
    assert donation.status is DonationStatus.REFUNDED
    assert donation.refunded_at == datetime.fromtimestamp(FIRST_REFUND_AT, UTC)
