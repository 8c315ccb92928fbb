"""Resolve checkout attempts left half-done by a crash or an outage, from Stripe's state.

Every attempt is recorded with a job (`resolve-attempt`, in the same transaction) that
runs an hour later. By then a normal attempt has moved on (the webhook marked it
completed, or Stripe refused and it failed) and the job does nothing. One still
`created` or `session_created` is looked up in Stripe: a complete session makes it
`completed`, an expired one `expired`, and one still open is left as it is and looked
at again after Stripe expires it. An attempt that never got a session cannot have been
paid (the reader never had its URL), so it is `failed`. `flask --app service
sweep-attempts` does the same at once for every stale attempt, jobs or not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import stripe_gateway
from service.core.jobs import JobRun, enqueue
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger import AttemptStatus, CheckoutAttempt

log = logging.getLogger(__name__)

RESOLVE_KIND = "donations.resolve-attempt"
# Long past any request's end, and well inside Stripe's 24 h session lifetime.
STALE_AFTER = timedelta(hours=1)
# An open session is looked at again this long after Stripe says it expires.
AFTER_EXPIRY = timedelta(minutes=5)
# When Stripe does not say when it expires the session.
RECHECK_OPEN = timedelta(hours=6)
HALF_DONE = (AttemptStatus.CREATED, AttemptStatus.SESSION_CREATED)
NEVER_OPENED = "interrupted before Stripe opened a Checkout Session; nothing can be paid"


@dataclass(frozen=True)
class Resolution:
    """What Stripe says about a half-done attempt: its new status, or when to look again."""

    status: AttemptStatus | None
    error: str | None = None
    recheck_at: datetime | None = None


def schedule_resolution(
    session: Session, attempt: CheckoutAttempt, *, at: datetime | None = None, check: int = 1
) -> None:
    """Queue the attempt's resolution in the caller's transaction (once per attempt and check)."""
    key = f"resolve-attempt:{attempt.public_id}"
    enqueue(
        session,
        RESOLVE_KIND,
        {"attempt": attempt.public_id, "check": check},
        key=key if check == 1 else f"{key}:{check}",
        run_at=at or (attempt.created_at or utcnow()) + STALE_AFTER,
    )


def look_up(settings: Settings, status: AttemptStatus, session_id: str | None) -> Resolution:
    """Ask Stripe what became of a half-done attempt; raises GatewayError when it cannot say."""
    if status not in HALF_DONE:
        return Resolution(None)
    if not session_id:
        return Resolution(AttemptStatus.FAILED, NEVER_OPENED)
    try:
        info = stripe_gateway.fetch_checkout_session(settings, session_id)
    except stripe_gateway.GatewayError as error:
        if error.not_found:
            return Resolution(AttemptStatus.FAILED, "Stripe has no such Checkout Session")
        raise
    if info.status == "complete":
        return Resolution(AttemptStatus.COMPLETED)
    if info.status == "expired":
        return Resolution(AttemptStatus.EXPIRED)
    if info.expires_at:
        recheck = datetime.fromtimestamp(info.expires_at, UTC) + AFTER_EXPIRY
    else:
        recheck = utcnow() + RECHECK_OPEN
    return Resolution(None, recheck_at=max(recheck, utcnow() + AFTER_EXPIRY))


def apply(session: Session, attempt: CheckoutAttempt, resolution: Resolution) -> bool:
    """Move a still half-done attempt to the resolved status; True when it changed."""
    if attempt.status not in HALF_DONE or resolution.status is None:
        return False
    log.info("checkout attempt %s resolved as %s", attempt.id, resolution.status.value)
    attempt.status = resolution.status
    attempt.error = resolution.error
    attempt.updated_at = utcnow()
    session.flush()
    return True


def _attempt(session: Session, public_id: str) -> CheckoutAttempt | None:
    return session.scalar(select(CheckoutAttempt).where(CheckoutAttempt.public_id == public_id))


def prepare_resolution(run: JobRun) -> Resolution:
    """The job's first step: read the attempt, then ask Stripe, with nothing locked."""
    attempt = _attempt(run.session, run.payload["attempt"])
    if attempt is None:
        return Resolution(None)
    return look_up(run.settings, attempt.status, attempt.stripe_checkout_session_id)


def handle_resolution(run: JobRun) -> None:
    """The job's second step: write the resolution, or queue the next look."""
    resolution: Resolution = run.prepared
    attempt = _attempt(run.session, run.payload["attempt"])
    if attempt is None or attempt.status not in HALF_DONE:
        return  # a webhook got there first
    if resolution.recheck_at is not None:
        schedule_resolution(
            run.session,
            attempt,
            at=resolution.recheck_at,
            check=int(run.payload.get("check", 1)) + 1,
        )
        return
    apply(run.session, attempt, resolution)


def stale_attempts(session: Session, older_than: timedelta, limit: int) -> list[int]:
    """Ids of half-done attempts not touched for `older_than`, oldest first."""
    rows = session.scalars(
        select(CheckoutAttempt.id)
        .where(
            CheckoutAttempt.status.in_(HALF_DONE),
            CheckoutAttempt.updated_at < utcnow() - older_than,
        )
        .order_by(CheckoutAttempt.id)
        .limit(limit)
    ).all()
    return list(rows)
