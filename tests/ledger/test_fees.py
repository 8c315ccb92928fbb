"""Stripe's fees and net reach the ledger, and the money report agrees with Stripe's balance."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.ledger.models import Donation
from service.staff.reports import Period, money_received, money_totals
from tests.ledger.conftest import Stack, pay


def test_payments_and_refunds_agree_to_the_cent_with_stripes_balance_transactions(
    stack: Stack,
) -> None:
    one_off = pay(stack.sandbox, stack.settings, amount=2500)
    monthly = pay(stack.sandbox, stack.settings, frequency="monthly", amount=1000)
    assert monthly.subscription_id is not None
    stack.sandbox.sim.renew_subscription(monthly.subscription_id)
    stack.settle()
    stack.sandbox.sim.refund(charge_id=one_off.charge_id, amount=700)
    stack.settle()

    with stack.sandbox.state.lock:
        transactions = stack.sandbox.state.objects("balance_transaction")
    charges = [t for t in transactions if t["type"] == "charge"]
    refunds = [t for t in transactions if t["type"] == "refund"]
    assert len(charges) == 3 and len(refunds) == 1

    with Session(stack.engine) as session:
        donations = session.scalars(select(Donation)).all()
        by_charge = {d.stripe_charge_id: d for d in donations}
        for txn in charges:
            donation = by_charge[txn["source"]]
            assert (donation.fee_minor, donation.net_minor) == (txn["fee"], txn["net"])
        today = utcnow().date()
        [total] = money_totals(money_received(session, today, today, Period.DAY))

    assert total.currency == "eur"
    assert total.payments == 3
    assert total.gross_minor == sum(t["amount"] for t in charges) == 2500 + 1000 + 1000
    assert total.fees_minor == sum(t["fee"] for t in charges) > 0
    assert total.refunds_minor == -sum(t["amount"] for t in refunds) == 700
    assert total.disputes_minor == 0
    assert total.net_minor == sum(t["net"] for t in transactions)
    assert total.fees_unknown == 0
