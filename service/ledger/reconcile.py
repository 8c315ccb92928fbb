"""Catching up with Stripe: list the events we may have missed and apply them through the inbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import stripe_gateway
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger.inbox import SETTLED, process_event
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
    session: Session, settings: Settings, *, since: datetime | None = None
) -> ReconcileReport:
    """List Stripe's events since the newest applied one and apply whatever we lack.

    Uses the same inbox path as webhooks, so events already applied are skipped and a
    delivery racing with this run still has one effect.
    """
    if since is None:
        newest = session.scalar(
            select(func.max(StripeEvent.stripe_created_at)).where(StripeEvent.outcome.in_(SETTLED))
        )
        floor = utcnow() - STRIPE_EVENT_RETENTION
        since = max(newest - RECONCILE_OVERLAP, floor) if newest else floor
    events = stripe_gateway.list_events_since(settings, int(since.timestamp()))
    ids = [event["id"] for event in events]
    settled: set[str] = set()
    for start in range(0, len(ids), 500):  # keep each IN list well inside SQLite's limits
        settled.update(
            session.scalars(
                select(StripeEvent.stripe_event_id).where(
                    StripeEvent.stripe_event_id.in_(ids[start : start + 500]),
                    StripeEvent.outcome.in_(SETTLED),
                )
            )
        )
    outcomes: dict[str, int] = {}
    for event in events:
        if event["id"] in settled:
            continue
        result = process_event(session, event, settings)
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
    return ReconcileReport(since=since, listed=len(events), outcomes=outcomes)
