"""Payouts reach the ledger: payout.* events set each payout's status, and a job reads what
it paid out from Stripe, tying each gift, refund and dispute to our donations."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.jobs import Job, JobStatus
from service.ledger import Donation, ItemKind, Payout, PayoutItem
from service.ledger.payouts import CONTENTS_KIND, apply_snapshot
from service.ledger.stripe_json import timestamp
from tests.conftest import drain_jobs
from tests.ledger.conftest import Stack, pay
from tests.ledger.stripe_events import body_of, event, sign


def _payout(session: Session) -> Payout:
    return session.scalars(select(Payout)).one()


def test_a_payouts_events_and_contents_reach_the_ledger(stack: Stack) -> None:
    one_off = pay(stack.sandbox, stack.settings, amount=2500)
    other = pay(stack.sandbox, stack.settings, amount=4000)
    stack.sandbox.sim.refund(charge_id=one_off.charge_id, amount=700)
    assert other.charge_id is not None
    stack.sandbox.sim.dispute(other.charge_id)
    stack.settle()
    balance = stack.sandbox.sim.balance
    balance.settle()
    [created] = balance.pay_out().payouts
    stack.settle()

    with Session(stack.engine) as session:
        payout = _payout(session)
        assert (payout.status, payout.amount_minor, payout.currency) == (
            "in_transit",
            created["amount"],
            "eur",
        )
        assert payout.arrival_at == timestamp(created["arrival_date"])
        # settle() ran the worker: it applied the payout's events, then the contents job
        # they queued (webhooks are applied by jobs now, so both run in one drain).
        assert payout.contents_at is not None
        contents_jobs = session.scalars(select(Job).where(Job.kind == CONTENTS_KIND)).all()
        assert [job.status for job in contents_jobs] == [JobStatus.DONE]

    txns = balance.transactions(payout=created["id"])
    with Session(stack.engine) as session:
        payout = _payout(session)
        assert payout.net_minor == payout.amount_minor == created["amount"]
        assert payout.gifts == payout.gifts_ours == 2
        assert payout.gross_minor == 6500
        assert payout.refunds_minor == 700
        assert payout.disputes_minor == 4000
        assert payout.fees_minor == sum(t["fee"] for t in txns) == 63 + 85 + 1500
        assert payout.other_minor == 0
        items = session.scalars(select(PayoutItem).order_by(PayoutItem.id)).all()
        assert {i.stripe_balance_transaction_id for i in items} == {t["id"] for t in txns}
        donations = {d.stripe_charge_id: d.id for d in session.scalars(select(Donation))}
        for item in items:
            if item.kind == ItemKind.PAYOUT:
                assert item.donation_id is None and item.amount_minor == -payout.amount_minor
            else:
                assert item.donation_id == donations[item.stripe_charge_id]
        assert {d.payout_id for d in session.scalars(select(Donation))} == {payout.id}
        kinds = sorted(i.kind for i in items)
        assert kinds == ["dispute", "gift", "gift", "payout", "refund"]

    balance.arrive(created["id"])
    stack.settle()
    drain_jobs(stack.app)
    with Session(stack.engine) as session:
        assert _payout(session).status == "paid"
        jobs = session.scalars(select(Job.key).where(Job.kind == CONTENTS_KIND)).all()
        assert sorted(jobs) == [
            f"payout-contents:{created['id']}:in_transit",
            f"payout-contents:{created['id']}:paid",
        ]


def test_a_failed_payout_and_the_one_that_pays_its_money_again(stack: Stack) -> None:
    pay(stack.sandbox, stack.settings, amount=2500)
    stack.settle()
    balance = stack.sandbox.sim.balance
    balance.settle()
    [first] = balance.pay_out().payouts
    balance.fail(first["id"])
    [second] = balance.pay_out().payouts
    stack.settle()
    drain_jobs(stack.app)
    with Session(stack.engine) as session:
        rows = {p.stripe_payout_id: p for p in session.scalars(select(Payout))}
        failed, retry = rows[first["id"]], rows[second["id"]]
        assert failed.status == "failed" and failed.failure_code == "account_closed"
        assert failed.failure_message
        assert failed.gifts == 1 and failed.net_minor == failed.amount_minor
        assert retry.status == "in_transit" and retry.gifts == 0
        assert retry.other_minor == retry.net_minor == retry.amount_minor == failed.amount_minor


def test_an_older_snapshot_never_overwrites_a_newer_one(stack: Stack) -> None:
    pay(stack.sandbox, stack.settings)
    stack.settle()
    stack.sandbox.sim.balance.settle()
    [created] = stack.sandbox.sim.balance.pay_out().payouts
    paid = stack.sandbox.sim.balance.arrive(created["id"]).payouts[0]
    stack.settle()
    at = timestamp(paid["created"])
    assert at is not None
    with Session(stack.engine) as session:
        assert _payout(session).status == "paid"
        # payout.created redelivered late, from the same second: the later status wins.
        assert apply_snapshot(session, created, at).status == "paid"
        # ... and a snapshot from before the one held changes nothing.
        assert apply_snapshot(session, created, at - timedelta(days=1)).status == "paid"
        # A newer one does: Stripe may fail a payout after it showed as paid.
        failed = paid | {"status": "failed", "failure_code": "could_not_process"}
        assert apply_snapshot(session, failed, at + timedelta(days=1)).status == "failed"
        session.rollback()


def test_a_payout_event_in_another_api_version_is_fetched_not_trusted(stack: Stack) -> None:
    pay(stack.sandbox, stack.settings)
    stack.settle()
    stack.sandbox.sim.balance.settle()
    [real] = stack.sandbox.sim.balance.pay_out().payouts
    stack.settle()
    drain_jobs(stack.app)
    # The same payout, and one Stripe does not have, in a 2020 shape with a wrong status.
    old = {"api_version": "2020-08-27"}
    stale = event("payout.paid", real | {"status": "paid", "amount": 1}, **old)
    unknown = event("payout.created", real | {"id": "po_000000000000000000000000"}, **old)
    with stack.app.test_client() as client:
        for evt in (stale, unknown):
            body = body_of(evt)
            answer = client.post(
                "/webhooks/stripe",
                data=body,
                headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"},
            )
            assert answer.status_code == 200
    with Session(stack.engine) as session:
        [row] = session.scalars(select(Payout)).all()
        assert (row.status, row.amount_minor) == ("in_transit", real["amount"])
    drain_jobs(stack.app)
    with Session(stack.engine) as session:
        [row] = session.scalars(select(Payout)).all()  # the unknown one stays unknown
        assert (row.status, row.amount_minor) == ("in_transit", real["amount"])
        states = session.scalars(select(Job.status).where(Job.kind == CONTENTS_KIND)).all()
        assert {str(s) for s in states} == {"done"}
