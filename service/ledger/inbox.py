"""Stripe's webhooks: verify the signature, keep each event once, and queue its application.

The inbox (`stripe_events`) holds one row per Stripe event id. The endpoint stores a
verified event (a twin delivery, concurrent or not, finds the row and adds nothing) and
queues the job that applies it in the same transaction, then answers at once: no Stripe
call and no per-customer lock in the request. The job (applying.py) applies it once,
retries a failure with backoff and leaves a poison event failed with its attempts and
error (its job dead, for staff). Staff replay through `replay_event`; `reconcile`
stores what Stripe lists that we lack and applies it.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service import stripe_gateway
from service.core.db import insert_ignoring_conflicts
from service.core.input_guard import text_problem
from service.core.jobs import Job, JobStatus, enqueue, retry_job
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger.applying import APPLY_KIND, SETTLED, job_key
from service.ledger.handlers import HANDLERS
from service.ledger.models import EventOutcome, StripeEvent

log = logging.getLogger(__name__)

SIGNATURE_TOLERANCE_SECONDS = 300

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


def _no_constant(name: str) -> float:
    # NaN and Infinity are not JSON (Stripe never sends them; PostgreSQL's json refuses them).
    raise ValueError(f"{name} is not JSON")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError("a number too large for JSON")
    return value


def parse_event(payload: bytes) -> Obj:
    """Read a verified body as a Stripe event, checking the fields we rely on."""
    try:
        event = json.loads(payload, parse_constant=_no_constant, parse_float=_finite_float)
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
    # Stripe's ids and types are short ASCII words; anything else (a NUL, which PostgreSQL
    # refuses in text, or more than the columns hold) is not an event of Stripe's.
    for field, limit in (("id", 255), ("type", 100)):
        value = event[field]
        if len(value) > limit or text_problem(value, one_line=True):
            raise SignatureError(f"body is not a Stripe event: its {field} is not one of Stripe's")
    try:
        # A lone surrogate (valid JSON, not Unicode) would be refused by PostgreSQL's json.
        json.dumps(event, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise SignatureError("body is not a Stripe event: it holds invalid Unicode") from None
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


def _new_row(event: Obj, outcome: EventOutcome = EventOutcome.PENDING) -> dict[str, Any]:
    return {
        "stripe_event_id": event["id"],
        "type": event["type"],
        "stripe_created_at": datetime.fromtimestamp(event["created"], UTC),
        "livemode": bool(event.get("livemode")),
        "outcome": outcome.value,
        "attempts": 0,
        "payload": event,
        "received_at": utcnow(),
    }


def _row(session: Session, stripe_event_id: str) -> StripeEvent:
    return session.scalars(
        select(StripeEvent)
        .where(StripeEvent.stripe_event_id == stripe_event_id)
        .execution_options(populate_existing=True)
    ).one()


def store_event(session: Session, event: Obj, *, refresh_payload: bool = False) -> EventResult:
    """Keep a verified event once and queue the job that applies it, in the caller's
    transaction; no Stripe call, no lock beyond the new row's. Flushes, never commits.

    `refresh_payload` (reconcile, with Stripe's own copy): an event not yet applied is
    kept with this payload instead of the one first received.
    """
    new = insert_ignoring_conflicts(
        session,
        StripeEvent.__table__,  # type: ignore[arg-type]
        _new_row(event),
    )
    if new:
        enqueue(session, APPLY_KIND, {"event": event["id"]}, key=job_key(event["id"]))
        return EventResult(event["id"], EventOutcome.PENDING)
    row = _row(session, event["id"])
    if refresh_payload and row.outcome not in SETTLED:
        row.payload = event
    if row.outcome is EventOutcome.FAILED:
        # Sent again (Stripe's "resend", reconcile): a job that gave up runs once more.
        requeue(session, row, force=False)
    return EventResult(row.stripe_event_id, row.outcome, duplicate=True)


def requeue(session: Session, row: StripeEvent, *, force: bool) -> bool:
    """Queue the event's application again; True when a job is now due for it.

    `force` (staff's replay): a failed or dead job runs now with fresh tries, and a
    finished or purged one is followed by a new job. Otherwise only a dead or missing
    job is brought back; one waiting on its backoff keeps waiting.
    """
    base = job_key(row.stripe_event_id)
    job = session.scalars(
        select(Job)
        .where(or_(Job.key == base, Job.key.startswith(f"{base}:")))
        .order_by(Job.id.desc())
        .limit(1)
    ).one_or_none()
    if job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return True
    if job is not None and (
        job.status is JobStatus.DEAD or (force and job.status is JobStatus.FAILED)
    ):
        return retry_job(session, job.id)
    if job is None or force:
        key = base if job is None else job_key(row.stripe_event_id, replay=uuid.uuid4().hex[:12])
        return enqueue(session, APPLY_KIND, {"event": row.stripe_event_id}, key=key)
    return False


def receive_event(
    session: Session,
    payload: bytes,
    signature_header: str | None,
    settings: Settings,
) -> EventResult:
    """Verify a webhook delivery and store its event for a worker to apply (SignatureError
    before any write)."""
    verify_signature(payload, signature_header, settings.stripe_webhook_secrets)
    try:
        event = parse_event(payload)
    except MalformedEvent as malformed:
        return _keep_malformed(session, malformed.event, str(malformed))
    return store_event(session, event)


def _keep_malformed(session: Session, event: Obj, reason: str) -> EventResult:
    """Keep a signed but unreadable event as failed, saying why (reconcile fetches Stripe's
    own copy of it later); a duplicate of an event already settled changes nothing."""
    new = insert_ignoring_conflicts(
        session,
        StripeEvent.__table__,  # type: ignore[arg-type]
        _new_row(event, EventOutcome.FAILED),
    )
    row = _row(session, event["id"])
    if not new and row.outcome in SETTLED:
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
    """Queue a stored event to be applied again (staff retrying a failed one); settled
    events stay as they are. A worker applies it, as it does every event."""
    row = session.scalars(
        select(StripeEvent)
        .where(StripeEvent.id == stripe_event_row.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if row.outcome in SETTLED:
        return row.outcome
    requeue(session, row, force=True)
    row.outcome = EventOutcome.PENDING
    session.flush()
    return row.outcome
