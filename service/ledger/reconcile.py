"""Catching up with Stripe: list the events we may have missed and apply them through the inbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import func, select

from service import stripe_gateway
from service.core.extensions import db
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger.applying import SETTLED, apply_now
from service.ledger.inbox import store_event
from service.ledger.models import EventOutcome, StripeEvent

# How far before the newest applied event `reconcile` looks again: deliveries arrive out
# of order, so an older event can be missing behind a newer one that arrived.
RECONCILE_OVERLAP = timedelta(days=3)
# Stripe keeps events for 30 days; there is nothing older to list.
STRIPE_EVENT_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class ReconcileReport:
    """What `reconcile` found at Stripe and did with it."""

    since: datetime
    listed: int
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return self.outcomes.get(EventOutcome.FAILED.value, 0)


def reconcile_events(
    app: Flask, settings: Settings, *, since: datetime | None = None
) -> ReconcileReport:
    """List Stripe's events since the newest applied one and apply whatever we lack.

    Uses the same inbox path as webhooks (store and queue, then the job's own apply, with
    Stripe read first and each event in transactions of its own), so events already
    applied are skipped and a delivery or a worker racing with this run has one effect.
    """
    if since is None:
        with app.app_context(), db.unit_of_work() as session:
            newest = session.scalar(
                select(func.max(StripeEvent.stripe_created_at)).where(
                    StripeEvent.outcome.in_(SETTLED)
                )
            )
        floor = utcnow() - STRIPE_EVENT_RETENTION
        since = max(newest - RECONCILE_OVERLAP, floor) if newest else floor
    events = stripe_gateway.list_events_since(settings, int(since.timestamp()))
    ids = [event["id"] for event in events]
    settled: set[str] = set()
    with app.app_context(), db.unit_of_work() as session:
        for start in range(0, len(ids), 500):  # keep each IN list well inside SQLite's limits
            settled.update(
                session.scalars(
                    select(StripeEvent.stripe_event_id).where(
                        StripeEvent.stripe_event_id.in_(ids[start : start + 500]),
                        StripeEvent.outcome.in_(SETTLED),
                    )
                )
            )
        missing = [event for event in events if event["id"] not in settled]
        for event in missing:
            # Stripe's own copy replaces a stored one we could not read or apply.
            store_event(session, event, refresh_payload=True)
    outcomes: dict[str, int] = {}
    for event in missing:
        outcome = apply_now(app, event["id"])
        outcomes[outcome.value] = outcomes.get(outcome.value, 0) + 1
    return ReconcileReport(since=since, listed=len(events), outcomes=outcomes)
