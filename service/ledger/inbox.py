"""Stripe's webhooks: verify the signature, keep each event once, apply it in the same transaction.

The inbox (`stripe_events`) holds one row per Stripe event id. Recording an event and
applying it happen in one transaction, so a crash leaves neither; duplicates, concurrent
or not, find the row already applied and change nothing. A handler that raises is rolled
back to a savepoint and the event is kept as failed with its error, for a retry by
Stripe, by `reconcile`, or by staff through `replay_event`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from service import stripe_gateway
from service.core.db import insert_ignoring_conflicts
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger.handlers import HANDLERS, apply_event
from service.ledger.models import EventOutcome, StripeEvent

log = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300
SETTLED = frozenset({EventOutcome.APPLIED, EventOutcome.IGNORED})
# Events about the same person can deadlock or race on a unique key; the loser's savepoint
# is rolled back and it tries again (by then the winner has usually committed).
APPLY_TRIES = 3
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure

Obj = dict[str, Any]


class SignatureError(Exception):
    """The request is not a genuine, fresh Stripe event; answer 400 and write nothing."""


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> None:
    """Check Stripe-Signature (t=…, one or more v1=…) against every configured secret."""
    try:
        stripe_gateway.verify_webhook_signature(payload, header, secrets, tolerance=tolerance)
    except stripe_gateway.InvalidWebhookSignature as error:
        raise SignatureError(str(error)) from None


class MalformedEvent(Exception):
    """A genuine (signed) event whose ``data`` we cannot read: kept as failed, answered 400."""

    def __init__(self, event: Obj, reason: str) -> None:
        super().__init__(reason)
        self.event = event


def parse_event(payload: bytes) -> Obj:
    """Read a verified body as a Stripe event, checking the fields we rely on."""
    try:
        event = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise SignatureError("body is not JSON") from None
    if not (
        isinstance(event, dict)
        and event.get("object") == "event"
        and isinstance(event.get("id"), str)
        and event["id"]
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
    ):
        raise SignatureError("body is not a Stripe event")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent(event, "malformed event: its data.object is not an object")
    return event


@dataclass(frozen=True)
class EventResult:
    """What became of one delivery of an event."""

    stripe_event_id: str
    outcome: EventOutcome
    duplicate: bool = False
    #: The signed body could not be read as an event: answer 400, no retry will help.
    malformed: bool = False
    error: str | None = None


def _claim(session: Session, event: Obj) -> StripeEvent:
    """Insert the inbox row if new, then lock it; a concurrent twin waits here."""
    insert_ignoring_conflicts(
        session,
        StripeEvent.__table__,  # type: ignore[arg-type]
        {
            "stripe_event_id": event["id"],
            "type": event["type"],
            "stripe_created_at": datetime.fromtimestamp(event["created"], UTC),
            "livemode": bool(event.get("livemode")),
            "outcome": EventOutcome.PENDING.value,
            "attempts": 0,
            "payload": event,
            "received_at": utcnow(),
        },
    )
    return session.scalars(
        select(StripeEvent)
        .where(StripeEvent.stripe_event_id == event["id"])
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _is_transient(error: Exception) -> bool:
    """A clash with a concurrent transaction that a fresh try will not meet again."""
    if isinstance(error, IntegrityError):
        # Another event about the same person or payment inserted the row first.
        return True
    if isinstance(error, OperationalError):
        code = getattr(error.orig, "sqlstate", None)
        return code in TRANSIENT_SQLSTATES or "database is locked" in str(error.orig)
    return False


def _fail(session: Session, row: StripeEvent, error: Exception) -> EventResult:
    """Keep the event as failed with its error, for a retry to apply later."""
    log.exception("stripe event %s (%s) failed", row.stripe_event_id, row.type)
    row.outcome = EventOutcome.FAILED
    row.error = f"{type(error).__name__}: {error}"[:4000]
    row.processed_at = utcnow()
    session.flush()
    return EventResult(row.stripe_event_id, EventOutcome.FAILED, error=row.error)


def _lock_customer(session: Session, event: Obj) -> None:
    """On PostgreSQL, apply one customer's events one at a time.

    Events about the same person (checkout, invoice, subscription) insert the same
    supporter, customer and gift rows in different orders; concurrently they deadlock.
    A transaction-scoped advisory lock per customer serialises exactly those.
    """
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite already admits one writer at a time
    customer = event["data"]["object"].get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if isinstance(customer, str) and customer:
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"stripe-customer:{customer}"},
        )


def _apply(session: Session, row: StripeEvent, event: Obj, settings: Settings) -> EventResult:
    row.attempts += 1
    _lock_customer(session, event)
    for attempt in range(1, APPLY_TRIES + 1):
        try:
            with session.begin_nested():
                applied = apply_event(session, settings, event)
            break
        except stripe_gateway.GatewayError as error:
            if not error.not_found:
                return _fail(session, row, error)
            # Stripe has no such object (deleted test data, another account's id): no
            # retry can ever apply it, so acknowledge it rather than fail for days.
            log.warning("stripe event %s names an object Stripe does not have", row.stripe_event_id)
            row.outcome = EventOutcome.IGNORED
            row.error = f"not found at Stripe: {error.message}"[:4000]
            row.processed_at = utcnow()
            session.flush()
            return EventResult(row.stripe_event_id, row.outcome, error=row.error)
        except Exception as error:
            if attempt < APPLY_TRIES and _is_transient(error):
                log.info("stripe event %s clashed with another; trying again", row.stripe_event_id)
                continue
            return _fail(session, row, error)
    row.outcome = EventOutcome.APPLIED if applied else EventOutcome.IGNORED
    row.error = None
    row.processed_at = utcnow()
    session.flush()
    return EventResult(row.stripe_event_id, row.outcome)


def process_event(session: Session, event: Obj, settings: Settings) -> EventResult:
    """Record an event in the inbox and apply it, once; flushes, never commits."""
    row = _claim(session, event)
    if row.outcome in SETTLED:
        return EventResult(row.stripe_event_id, row.outcome, duplicate=True)
    if bool(event.get("livemode")) != (settings.stripe_mode == "live"):
        # A test-mode event must never touch a live ledger, nor a live one a test ledger
        # (possible only if an endpoint's secret is shared between modes).
        row.outcome = EventOutcome.IGNORED
        row.error = "livemode does not match this deployment's Stripe key"
        row.processed_at = utcnow()
        session.flush()
        return EventResult(row.stripe_event_id, row.outcome, error=row.error)
    return _apply(session, row, event, settings)


def receive_event(
    session: Session,
    payload: bytes,
    signature_header: str | None,
    settings: Settings,
) -> EventResult:
    """Verify a webhook delivery and process its event (SignatureError before any write)."""
    verify_signature(payload, signature_header, settings.stripe_webhook_secrets)
    try:
        event = parse_event(payload)
    except MalformedEvent as malformed:
        return _keep_malformed(session, malformed.event, str(malformed))
    return process_event(session, event, settings)


def _keep_malformed(session: Session, event: Obj, reason: str) -> EventResult:
    """Keep a signed but unreadable event as failed, saying why (reconcile fetches Stripe's
    own copy of it later); a duplicate of an event already settled changes nothing."""
    row = _claim(session, event)
    if row.outcome in SETTLED:
        return EventResult(row.stripe_event_id, row.outcome, duplicate=True)
    log.warning("stripe event %s (%s) is malformed: %s", row.stripe_event_id, row.type, reason)
    row.outcome = EventOutcome.FAILED
    row.error = reason
    row.processed_at = utcnow()
    session.flush()
    return EventResult(row.stripe_event_id, row.outcome, error=reason, malformed=True)


def why_ignored(event_type: str, error: str | None) -> str:
    """Say, for staff, why an event was acknowledged without changing the ledger."""
    if error:
        return error
    if event_type not in HANDLERS:
        return f"Not used: the ledger learns nothing from {event_type} events."
    return (
        "Not ours: it is about a payment or subscription another app made on this Stripe "
        "account (no reader-contributions marker)."
    )


def replay_event(
    session: Session, stripe_event_row: StripeEvent, settings: Settings
) -> EventOutcome:
    """Apply a stored event again (staff retrying a failed one); settled events stay as they are."""
    row = session.scalars(
        select(StripeEvent)
        .where(StripeEvent.id == stripe_event_row.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if row.outcome in SETTLED:
        return row.outcome
    return _apply(session, row, dict(row.payload), settings).outcome
