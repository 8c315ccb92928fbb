"""`flask --app service reconcile`: recover events Stripe could not deliver."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.ledger.models import (
    Donation,
    EventOutcome,
    MonthlyDonation,
    MonthlyStatus,
    StripeEvent,
)
from service.ledger.supporters import count_supporters
from stripe_sandbox import SandboxServer
from tests.ledger.conftest import deliver_sandbox_event, pay


def _events_applied(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(StripeEvent)
            .where(StripeEvent.outcome.in_([EventOutcome.APPLIED, EventOutcome.IGNORED]))
        )
        or 0
    )


def test_reconcile_recovers_everything_missed_while_the_service_was_down(
    app: Flask, session: Session, sandbox: SandboxServer
) -> None:
    settings = app.extensions["settings"]
    for _ in range(24):
        pay(sandbox, settings)
    monthly = pay(sandbox, settings, frequency="monthly")
    assert monthly.subscription_id
    sandbox.sim.renew_subscription(monthly.subscription_id, "failed")
    total = len(sandbox.events)
    assert total > 100, "more than one page of events"

    result = app.test_cli_runner().invoke(args=["reconcile"])

    assert result.exit_code == 0, result.output
    assert f"listed {total} events" in result.output
    assert _events_applied(session) == total
    assert count_supporters(session, settings) == 25
    gift = session.scalars(select(MonthlyDonation)).one()
    assert gift.status is MonthlyStatus.PAST_DUE
    assert session.scalar(select(func.count()).select_from(Donation)) == 25

    again = app.test_cli_runner().invoke(args=["reconcile"])

    assert again.exit_code == 0, again.output
    assert "none missing" in again.output
    assert _events_applied(session) == total


def test_reconcile_fills_the_gap_after_the_last_applied_event(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    settings = app.extensions["settings"]
    before = pay(sandbox, settings)
    for evt in sandbox.events:
        assert deliver_sandbox_event(client, sandbox, evt["id"]) == 200
    delivered = len(sandbox.events)
    # The outage: these events never reach us.
    sandbox.sim.refund(charge_id=before.charge_id)
    pay(sandbox, settings)
    pay(sandbox, settings)

    result = app.test_cli_runner().invoke(args=["reconcile"])

    assert result.exit_code == 0, result.output
    missed = len(sandbox.events) - delivered
    assert missed == 9
    assert "processed: 3 applied, 6 ignored" in result.output
    assert _events_applied(session) == len(sandbox.events)
    assert count_supporters(session, settings) == 2


def test_reconcile_retries_failed_events(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    settings = app.extensions["settings"]
    pay(sandbox, settings, frequency="monthly")
    completed = next(e for e in sandbox.events if e["type"] == "checkout.session.completed")
    # Stripe answers 500 while the handler fetches the subscription: the event fails.
    sandbox.state.set_fault("error", status=500)
    # Stored (200), then its job fails: it waits for its backoff.
    assert deliver_sandbox_event(client, sandbox, completed["id"]) == 200
    sandbox.state.clear_fault()

    result = app.test_cli_runner().invoke(args=["reconcile"])

    assert result.exit_code == 0, result.output
    row = session.scalars(
        select(StripeEvent).where(StripeEvent.stripe_event_id == completed["id"])
    ).one()
    assert (row.outcome, row.attempts) == (EventOutcome.APPLIED, 2)
    assert count_supporters(session, settings) == 1


def test_reconcile_says_so_when_stripe_cannot_be_reached(
    app: Flask, session: Session, sandbox: SandboxServer
) -> None:
    sandbox.state.set_fault("error", status=401)

    result = app.test_cli_runner().invoke(args=["reconcile"])

    assert result.exit_code != 0
    assert "could not list events from Stripe" in result.output
    assert _events_applied(session) == 0
