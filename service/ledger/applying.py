"""Applying stored Stripe events: the `ledger.apply-stripe-event` job, reconcile and replay.

The webhook endpoint only stores an event and queues this job (see inbox.py). The job:

1. `prepare`, with nothing locked and no transaction open across a call: reads the
   stored event; when its `api_version` is not the pinned one, fetches the object at the
   pinned version instead of trusting the payload; then dry-runs the handler in throwaway
   transactions to learn which Stripe reads it needs and makes them (stripe_reads.py).
2. `handle`, in the job's own transaction (which also marks the job done): locks the inbox
   row (a settled event changes nothing: exactly once), takes the customer's lock (on
   PostgreSQL) and applies the handler with every Stripe read already in hand.

A failed try leaves the job failed (retried with backoff, dead after 10 tries: visible
at /staff/jobs) and the inbox row failed with its attempts and error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from service import stripe_gateway
from service.core.extensions import db
from service.core.jobs import JobRun, RunAgain
from service.core.jobs.worker import describe_error
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger import stripe_reads
from service.ledger.handlers import apply_event
from service.ledger.models import EventOutcome, StripeEvent
from service.ledger.stripe_json import Obj

log = logging.getLogger(__name__)

APPLY_KIND = "ledger.apply-stripe-event"
SETTLED = frozenset({EventOutcome.APPLIED, EventOutcome.IGNORED})
# Events about the same person can still race on a unique key; the loser's savepoint is
# rolled back and it tries again at once (by then the winner has usually committed).
APPLY_TRIES = 3
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure
# A handler needs at most a handful of reads; more means something loops.
MAX_READ_ROUNDS = 12

Throwaway = Callable[[], AbstractContextManager[Session]]


def job_key(stripe_event_id: str, replay: str = "") -> str:
    """The job that applies an event: one per event (a replay gets one of its own)."""
    key = f"stripe-event:{stripe_event_id}"
    return f"{key}:replay-{replay}" if replay else key


@dataclass(frozen=True)
class Prepared:
    """The event to apply (at the pinned version) and every Stripe read its handler makes."""

    event: Obj
    reads: stripe_reads.Reads


def _row(session: Session, stripe_event_id: str, *, lock: bool) -> StripeEvent | None:
    query = select(StripeEvent).where(StripeEvent.stripe_event_id == stripe_event_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one_or_none()


def _mode_mismatch(settings: Settings, event: Obj) -> bool:
    # A test-mode event must never touch a live ledger, nor a live one a test ledger
    # (possible only if an endpoint's secret is shared between modes).
    return bool(event.get("livemode")) != (settings.stripe_mode == "live")


_PINNED_FETCHES: dict[str, Callable[[Settings, str], Obj]] = {
    "invoice": stripe_gateway.fetch_invoice,
    "subscription": stripe_gateway.fetch_subscription,
    "charge": stripe_gateway.fetch_charge,
    "customer": stripe_gateway.fetch_customer,
}


def at_pinned_version(settings: Settings, event: Obj) -> Obj:
    """The event with its object as Stripe shows it at our pinned API version.

    A payload rendered at another version (an endpoint pinned to an older one, events
    created before an upgrade) is not trusted: the object is fetched again through the
    gateway, which pins the version. Objects we do not fetch this way (and a customer
    Stripe has deleted) keep their payload, which the handlers read in both shapes.
    """
    version = event.get("api_version")
    if not version or version == stripe_gateway.PINNED_API_VERSION:
        return event
    obj = event["data"]["object"]
    fetch = _PINNED_FETCHES.get(str(obj.get("object")))
    object_id = obj.get("id")
    if fetch is None or not isinstance(object_id, str) or event["type"] == "customer.deleted":
        return event
    try:
        current = fetch(settings, object_id)
    except stripe_gateway.GatewayError as error:
        if error.retryable:
            raise
        log.warning("event %s: no %s at the pinned version", event["id"], obj.get("object"))
        return event
    log.info("event %s is at API %s: using the %s at the pinned version", event["id"], version,
             obj.get("object"))  # fmt: skip
    return {**event, "data": {**event["data"], "object": current}}


def gather_reads(throwaway: Throwaway, settings: Settings, event: Obj) -> stripe_reads.Reads:
    """Dry-run the handler until it needs no read it lacks; make each read with nothing held."""
    reads: stripe_reads.Reads = {}
    for _round in range(MAX_READ_ROUNDS):
        missing = None
        with throwaway() as session, stripe_reads.answered_from(reads):
            try:
                with session.begin_nested():
                    apply_event(session, settings, event)
            except stripe_reads.MissingRead as needed:
                missing = needed
            except Exception:
                # The real run meets the same failure (or not) and records it.
                return reads
        if missing is None:
            return reads
        # The throwaway transaction is over: nothing of ours is locked while Stripe answers.
        stripe_reads.fetch_into(reads, missing)
    raise RuntimeError(f"event {event['id']} needed more than {MAX_READ_ROUNDS} Stripe reads")


def prepare(settings: Settings, throwaway: Throwaway, event_id: str) -> Any:
    """Everything `apply` needs from Stripe, fetched first; None when there is nothing to do."""
    with throwaway() as session:  # over before Stripe is called: no transaction stays open
        row = _row(session, event_id, lock=False)
        if row is None or row.outcome in SETTLED:
            return None
        event = dict(row.payload)
    if _mode_mismatch(settings, event):
        return Prepared(event, {})
    event = at_pinned_version(settings, event)
    return Prepared(event, gather_reads(throwaway, settings, event))


def _lock_customer(session: Session, event: Obj) -> None:
    """On PostgreSQL, write one customer's events one at a time (never across a Stripe call:
    every read was made before this transaction began).

    Events about the same person (checkout, invoice, subscription) insert the same
    supporter, customer and gift rows in different orders; concurrently they deadlock.
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


def _is_transient(error: Exception) -> bool:
    """A clash with a concurrent transaction that a fresh try will not meet again."""
    if isinstance(error, IntegrityError):
        return True  # another event about the same person inserted the row first
    if isinstance(error, OperationalError):
        code = getattr(error.orig, "sqlstate", None)
        return code in TRANSIENT_SQLSTATES or "database is locked" in str(error.orig)
    return False


def _settle(row: StripeEvent, outcome: EventOutcome, error: str | None = None) -> EventOutcome:
    row.outcome = outcome
    row.error = error
    row.processed_at = utcnow()
    return outcome


def apply(session: Session, settings: Settings, event_id: str, prepared: Any) -> EventOutcome:
    """Apply a stored event once, with its reads in hand; raises when the try failed."""
    row = _row(session, event_id, lock=True)
    if row is None:
        raise LookupError(f"no stored Stripe event {event_id}")
    if row.outcome in SETTLED:
        return row.outcome  # a twin job or an earlier try applied it: nothing to do
    if not isinstance(prepared, Prepared):
        raise RunAgain("the event was not prepared")
    row.attempts += 1
    event = prepared.event
    if _mode_mismatch(settings, event):
        mismatch = "livemode does not match this deployment's Stripe key"
        return _settle(row, EventOutcome.IGNORED, mismatch)
    _lock_customer(session, event)
    with stripe_reads.answered_from(prepared.reads):
        for attempt in range(1, APPLY_TRIES + 1):
            try:
                with session.begin_nested():
                    applied = apply_event(session, settings, event)
                break
            except stripe_reads.MissingRead as missing:
                # Our rows changed since the dry run and the handler now needs another read.
                raise RunAgain(f"{missing}; reading again with nothing locked") from None
            except stripe_gateway.GatewayError as error:
                if not error.not_found:
                    raise
                # Stripe has no such object (deleted test data, another account's id): no
                # retry can ever apply it, so acknowledge it rather than fail for days.
                log.warning("stripe event %s names an object Stripe does not have", event_id)
                message = f"not found at Stripe: {error.message}"[:4000]
                return _settle(row, EventOutcome.IGNORED, message)
            except Exception as error:
                if attempt < APPLY_TRIES and _is_transient(error):
                    log.info("stripe event %s clashed with another; trying again", event_id)
                    continue
                raise
    return _settle(row, EventOutcome.APPLIED if applied else EventOutcome.IGNORED)


def record_failure(session: Session, event_id: str, error: str) -> None:
    """Keep the event failed, with its error and one more attempt (its work is rolled back)."""
    row = _row(session, event_id, lock=True)
    if row is None or row.outcome in SETTLED:
        return
    row.attempts += 1
    _settle(row, EventOutcome.FAILED, error[:4000])
    log.warning("stripe event %s (%s) failed: %s", event_id, row.type, error)


# -- the job --------------------------------------------------------------------------------


def prepare_job(run: JobRun) -> Any:
    return prepare(run.settings, run.throwaway, run.payload["event"])


def handle_job(run: JobRun) -> None:
    apply(run.session, run.settings, run.payload["event"], run.prepared)


def on_job_failure(run: JobRun, error: str) -> None:
    record_failure(run.session, run.payload["event"], error)


# -- applying at once (reconcile, from the command line) ------------------------------------


def apply_now(app: Flask, event_id: str) -> EventOutcome:
    """Prepare and apply one stored event now, as its job would; failures are recorded."""
    settings: Settings = app.extensions["settings"]

    @contextmanager
    def throwaway() -> Iterator[Session]:
        with app.app_context():
            yield db.session

    try:
        for _try in range(APPLY_TRIES):
            prepared = prepare(settings, throwaway, event_id)
            try:
                with app.app_context(), db.unit_of_work() as session:
                    return apply(session, settings, event_id, prepared)
            except RunAgain:
                continue
        raise RuntimeError("Stripe's state kept changing while the event was applied")
    except Exception as error:
        with app.app_context(), db.unit_of_work() as session:
            record_failure(session, event_id, describe_error(error))
        return EventOutcome.FAILED
