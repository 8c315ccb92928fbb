"""The maintained count always equals what the ledger says: `recount` proves it."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.ledger.models import FOREVER, EventOutcome, StripeEvent, Supporter
from service.ledger.supporters import count_supporters, recount
from stripe_sandbox import SandboxServer
from tests.conftest import drain_jobs
from tests.ledger.conftest import pay
from tests.ledger.stripe_events import deliver, event, one_off_session

DELIVERIES = 1000
EMAILS = [f"reader{n}@example.com" for n in range(60)]


class _Story:
    """Random things readers and Stripe do, played in the sandbox from one seed."""

    def __init__(self, sandbox: SandboxServer, settings: Any, rng: random.Random) -> None:
        self.sandbox, self.settings, self.rng = sandbox, settings, rng
        self.subscriptions: list[str] = []
        self.charges: list[str] = []
        self.open_disputes: list[str] = []

    def step(self) -> None:
        sim, rng = self.sandbox.sim, self.rng
        live = [s for s in self.subscriptions if self._status(s) in ("active", "past_due")]
        choice = rng.choices(
            [
                "one_off",
                "monthly",
                "renew",
                "fail",
                "cancel",
                "end",
                "amount",
                "refund",
                "dispute",
                "close",
            ],
            weights=[6, 4, 6, 2, 1, 1, 1, 2, 1, 1],
        )[0]
        if choice in ("one_off", "monthly") or (not live and choice in ("renew", "fail")):
            frequency = "monthly" if choice == "monthly" else "one_off"
            donor = pay(
                self.sandbox,
                self.settings,
                frequency=frequency,
                amount=rng.choice([300, 500, 1000, 2500]),
                email=rng.choice(EMAILS),
            )
            if donor.subscription_id:
                self.subscriptions.append(donor.subscription_id)
            if donor.charge_id:
                self.charges.append(donor.charge_id)
        elif choice in ("renew", "fail"):
            sim.renew_subscription(rng.choice(live), "paid" if choice == "renew" else "failed")
        elif choice == "cancel" and live:
            sim.cancel_subscription(rng.choice(live), at_period_end=rng.random() < 0.5)
        elif choice == "end" and live:
            sim.cancel_subscription(rng.choice(live))
        elif choice == "amount" and live:
            sim.change_amount(rng.choice(live), rng.choice([700, 1200]))
        elif choice == "refund" and self.charges:
            charge = self.sandbox.state.get(rng.choice(self.charges))
            left = charge["amount"] - charge["amount_refunded"]
            if left > 0 and not charge["disputed"]:
                amount = left if rng.random() < 0.7 else max(1, left // 2)
                sim.refund(charge_id=charge["id"], amount=amount)
        elif choice == "dispute" and self.charges:
            charge = self.sandbox.state.get(rng.choice(self.charges))
            if not charge["disputed"] and charge["amount_refunded"] < charge["amount"]:
                self.open_disputes.append(sim.dispute(charge["id"]).object["id"])
        elif choice == "close" and self.open_disputes:
            dispute = self.open_disputes.pop(rng.randrange(len(self.open_disputes)))
            sim.close_dispute(dispute, rng.choice(["won", "lost"]))

    def _status(self, subscription_id: str) -> str:
        subscription = self.sandbox.state.live(subscription_id) or {}
        return str(subscription.get("status"))

    def supporters_at_stripe(self) -> int:
        """The definition applied to Stripe's own objects, independently of our ledger."""
        state = self.sandbox.state
        customers = {c["id"]: (c["email"] or "").lower() for c in state.objects("customer")}
        lost_or_open = {
            d["charge"] for d in state.objects("dispute") if d["status"] not in ("won",)
        }
        people = {
            customers[s["customer"]]
            for s in state.objects("subscription")
            if s["status"] in ("active", "past_due")
        }
        people |= {
            customers[c["customer"]]
            for c in state.objects("charge")
            if c["metadata"].get("app") == "reader-contributions"
            and c["status"] == "succeeded"
            and c["amount_refunded"] < c["amount"]
            and c["id"] not in lost_or_open
        }
        return len(people)


# Each event is now stored, then applied by the worker (a dry run to gather Stripe's
# answers, then the write): more round trips than applying in the request, which on a
# loaded PostgreSQL takes this test past the suite's default 300 s.
@pytest.mark.timeout(900)
def test_after_1000_random_events_recount_equals_the_maintained_count(
    app: Flask,
    client: FlaskClient,
    session: Session,
    sandbox: SandboxServer,
) -> None:
    settings = app.extensions["settings"]
    # Each step happens a minute after the last (its own events share a second, as at Stripe).
    clock = [time.time() - 6 * 3600]
    sandbox.state.clock = lambda: clock[0]
    rng = random.Random(20261125)
    story = _Story(sandbox, settings, rng)
    while len(sandbox.state.event_records()) < DELIVERIES * 9 // 10:
        story.step()
        clock[0] += 60
    event_ids = [record.id for record in sandbox.state.event_records()][: DELIVERIES * 9 // 10]
    # Stripe's order is only roughly the story's: shuffle within a window, and repeat some.
    order = sorted(range(len(event_ids)), key=lambda i: i + rng.uniform(0, 12))
    deliveries = [event_ids[i] for i in order]
    while len(deliveries) < DELIVERIES:
        deliveries.insert(rng.randrange(len(deliveries)), rng.choice(event_ids))

    # Delivered as Stripe would, acknowledged at once; the worker applies what has
    # arrived every 20 deliveries (a later copy of an applied event changes nothing).
    statuses = set()
    for index, event_id in enumerate(deliveries, 1):
        body, headers = sandbox.webhooks.signed(event_id)
        statuses.add(client.post("/webhooks/stripe", data=body, headers=headers).status_code)
        if index % 20 == 0:
            drain_jobs(app)
    drain_jobs(app)

    assert statuses == {200}
    assert set(session.scalars(select(StripeEvent.outcome))) <= {
        EventOutcome.APPLIED,
        EventOutcome.IGNORED,
    }
    maintained = count_supporters(session, settings)
    report = recount(session, settings)
    assert report.changes == []
    assert report.count_before == report.count_after == maintained
    assert maintained == story.supporters_at_stripe()
    assert maintained > 10, "the story should leave a fair number of supporters"


def test_recount_corrects_and_reports_a_drifted_count(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    settings = app.extensions["settings"]
    for n in range(3):
        checkout = one_off_session(email=f"drift{n}@example.com")
        assert deliver(client, event("checkout.session.completed", checkout)).status_code == 200
    supporters = list(session.scalars(select(Supporter).order_by(Supporter.id)))
    right = [s.supported_until for s in supporters]
    supporters[0].supported_until = None
    supporters[1].supported_until = FOREVER
    session.flush()

    result = app.test_cli_runner().invoke(args=["recount"])

    assert result.exit_code == 0, result.output
    assert f"supporter {supporters[0].id}: supported_until None -> " in result.output
    assert f"supporter {supporters[1].id}: supported_until 9999-12-31" in result.output
    assert "supporters: 2 before, 3 after; 2 corrected" in result.output
    for supporter in supporters:
        session.refresh(supporter)
    assert [s.supported_until for s in supporters] == right
    assert recount(session, settings).changes == []


def test_recount_applies_a_new_window(app: Flask, client: FlaskClient, session: Session) -> None:
    settings = app.extensions["settings"]
    old = int((utcnow() - timedelta(days=100)).timestamp())
    checkout = one_off_session(email="old@example.com")
    assert deliver(client, event("checkout.session.completed", checkout, created=old)).status_code
    assert count_supporters(session, settings) == 1

    shorter = settings.with_overrides({"supporter_window_days": 90})
    report = recount(session, shorter)

    assert (report.count_before, report.count_after, len(report.changes)) == (1, 0, 1)
