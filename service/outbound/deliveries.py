"""Delivering events: a delivery per endpoint written with the ledger change, then tries.

Each ledger change becomes one delivery per active endpoint, in the change's own
transaction, with the first try as a job. A try posts the body, signed per Standard
Webhooks, in the job's `prepare` (no lock or write transaction held while the endpoint is
slow); `handle` records the answer. A failed try queues the next one after a growing
pause (RETRY_DELAYS); when those run out the delivery is dead, kept and shown to staff
until someone redelivers it. One endpoint's failures never hold up another's events or
any other job: every try is its own job, due at its own time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from service.core.db import insert_ignoring_conflicts
from service.core.jobs import Job, JobRun, JobStatus, enqueue
from service.core.models import utcnow
from service.ledger import LedgerChange
from service.outbound.endpoints import active_endpoints, signing_secrets
from service.outbound.models import DeliveryStatus, OutboundDelivery, OutboundEndpoint

log = logging.getLogger(__name__)

DELIVER_KIND = "outbound.deliver"
# The pause before each retry: the first try is at once; after the last, the delivery is dead.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=8),
    timedelta(hours=24),
)
MAX_TRIES = len(RETRY_DELAYS) + 1
DEFAULT_TIMEOUT_SECONDS = 10.0
EXCERPT = 300
USER_AGENT = "reader-contributions-outbound/1"


def message_id(change_key: str) -> str:
    """The event's `webhook-id`: stable for a change, so receivers can drop repeats."""
    return "msg_" + hashlib.sha256(change_key.encode()).hexdigest()[:32]


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def event_body(change: LedgerChange) -> str:
    """The JSON body, as Standard Webhooks suggests: type, timestamp and data."""
    return json.dumps(
        {"type": change.change.value, "timestamp": _iso(change.at), "data": change.data},
        separators=(",", ":"),
        sort_keys=True,
    )


def _try_key(delivery: OutboundDelivery) -> str:
    return f"outbound:{delivery.id}:try:{delivery.attempts + 1}"


def _queue_try(session: Session, delivery: OutboundDelivery, run_at: datetime) -> None:
    delivery.next_attempt_at = run_at
    enqueue(
        session, DELIVER_KIND, {"delivery_id": delivery.id}, key=_try_key(delivery), run_at=run_at
    )


def deliver_change(session: Session, change: LedgerChange) -> None:
    """The ledger's listener: one delivery per active endpoint, its first try queued."""
    endpoints = active_endpoints(session)
    if not endpoints:
        return
    body = event_body(change)
    msg_id = message_id(change.key)
    now = utcnow()
    for endpoint in endpoints:
        # ON CONFLICT DO NOTHING: the same change announced again (a redelivered Stripe
        # event, or two events about one payment applied at once) is sent once.
        inserted = insert_ignoring_conflicts(
            session,
            OutboundDelivery.__table__,  # type: ignore[arg-type]
            {
                "endpoint_id": endpoint.id,
                "message_id": msg_id,
                "event_type": change.change.value,
                "body": body,
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "round_attempts": 0,
                "created_at": now,
            },
        )
        if not inserted:
            continue
        delivery = session.scalars(
            select(OutboundDelivery).where(
                OutboundDelivery.endpoint_id == endpoint.id,
                OutboundDelivery.message_id == msg_id,
            )
        ).one()
        _queue_try(session, delivery, now)


@dataclass(frozen=True)
class Answer:
    """What one try got back: a status code and a body excerpt, or the error."""

    at: datetime
    status_code: int | None
    excerpt: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer, not a place to post supporters' data to.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def signed_headers(
    endpoint: OutboundEndpoint, msg_id: str, body: str, at: datetime
) -> dict[str, str]:
    """Standard Webhooks headers; in a rotation's overlap, both secrets' signatures."""
    signatures = " ".join(
        Webhook(secret).sign(msg_id, at, body) for secret in signing_secrets(endpoint, at)
    )
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


def post(url: str, body: str, headers: dict[str, str], timeout: float) -> Answer:
    """POST the body; never raises for the endpoint's failures, it answers them."""
    at = utcnow()
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310 (checked http(s) URLs only)
    try:
        with _opener.open(request, timeout=timeout) as response:
            text = response.read(EXCERPT * 4).decode("utf-8", "replace")
            return Answer(at, int(response.status), text[:EXCERPT], None)
    except urllib.error.HTTPError as error:
        text = error.read(EXCERPT * 4).decode("utf-8", "replace") if error.fp else ""
        return Answer(at, int(error.code), text[:EXCERPT], None)
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        return Answer(at, None, None, f"{type(error).__name__}: {reason}"[:EXCERPT])


def prepare_try(run: JobRun) -> Answer | None:
    """Post the delivery (read-only transaction; nothing locked while the endpoint thinks)."""
    delivery = run.session.get(OutboundDelivery, int(run.payload["delivery_id"]))
    if delivery is None or delivery.status is DeliveryStatus.DELIVERED:
        return None
    endpoint = delivery.endpoint
    if not endpoint.active:
        return None
    at = utcnow()
    headers = signed_headers(endpoint, delivery.message_id, delivery.body, at)
    timeout = float(current_app.config.get("OUTBOUND_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    started = time.monotonic()
    answer = post(endpoint.url, delivery.body, headers, timeout)
    # The delivery id and status only: the body holds a supporter's email.
    log.info(
        "outbound delivery %s to endpoint %s: %s in %.0f ms",
        delivery.id,
        endpoint.id,
        answer.status_code or answer.error,
        (time.monotonic() - started) * 1000,
    )
    return answer


def record_try(run: JobRun) -> None:
    """Record the answer; queue the next try after a pause, or declare the delivery dead."""
    answer: Answer | None = run.prepared
    delivery = run.session.get(
        OutboundDelivery, int(run.payload["delivery_id"]), with_for_update=True
    )
    if answer is None or delivery is None or delivery.status is DeliveryStatus.DELIVERED:
        return
    delivery.attempts += 1
    delivery.round_attempts += 1
    delivery.last_attempt_at = answer.at
    delivery.last_status_code = answer.status_code
    delivery.last_response = answer.excerpt
    delivery.last_error = answer.error
    if answer.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = answer.at
        delivery.next_attempt_at = None
    elif delivery.round_attempts >= MAX_TRIES:
        delivery.status = DeliveryStatus.DEAD
        delivery.next_attempt_at = None
        log.warning("outbound delivery %s is dead after %d tries", delivery.id, delivery.attempts)
    else:
        delivery.status = DeliveryStatus.FAILING
        _queue_try(run.session, delivery, utcnow() + RETRY_DELAYS[delivery.round_attempts - 1])
    run.session.flush()


def redeliver(session: Session, delivery: OutboundDelivery) -> None:
    """Staff's button: send it again now, with a fresh budget of tries."""
    now = utcnow()
    delivery.status = DeliveryStatus.PENDING
    delivery.round_attempts = 0
    delivery.delivered_at = None
    delivery.next_attempt_at = now
    session.flush()
    # A retry already queued for later is brought forward rather than doubled.
    waiting = session.execute(
        update(Job)
        .where(Job.key == _try_key(delivery), Job.status.in_([JobStatus.QUEUED, JobStatus.FAILED]))
        .values(run_at=now)
    )
    if not waiting.rowcount:  # type: ignore[attr-defined]
        _queue_try(session, delivery, now)
