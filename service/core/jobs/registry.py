"""Job kinds and their handlers: features register theirs at start-up; core imports none."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from service.core.settings import Settings

# After this many tries a job is dead: kept with its last error until a person retries it.
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class JobRun:
    """One try of a job, as a handler sees it."""

    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    # 1 on the first try; a retried or reclaimed job counts up.
    attempt: int
    settings: Settings
    # In `prepare`: a session whose transaction is rolled back afterwards (read, call out).
    # In `handle`: the transaction that also marks the job done; never commit it.
    session: Session
    # A fresh transaction of its own, always rolled back when the block ends: for a dry
    # run that finds out what to read from other services before the real run.
    throwaway: Callable[[], AbstractContextManager[Session]]
    # What `prepare` returned, in `handle`.
    prepared: Any = None


@dataclass(frozen=True)
class JobHandler:
    """What runs a kind of job: optional `prepare`, then `handle` in the job's transaction.

    `prepare` runs first with no lock held and nothing written: that is where calls to
    other services belong (Stripe, SMTP, outbound webhooks), so no lock or write
    transaction is held while they are slow. `handle` then writes the effect; it commits
    together with the job's "done", or not at all.

    The rule for external side effects: every call that changes something outside our
    database carries an idempotency key derived from the job's `key` (plus a fixed
    suffix per call), so a try that ran the call but died before committing repeats
    it harmlessly. Reads need no key.
    """

    handle: Callable[[JobRun], None]
    prepare: Callable[[JobRun], Any] | None = None
    # Runs in the transaction that records a failed try (with the error's one line), so
    # the feature's own record of the work can say so too.
    on_failure: Callable[[JobRun, str], None] | None = None
    max_attempts: int = MAX_ATTEMPTS


class RunAgain(Exception):
    """Raised by a handler to be run again at once (counted as a try, with no backoff).

    For a race its own next try settles, such as the world changing between `prepare`
    and `handle`: the try's work is rolled back and `on_failure` is not called.
    """


_handlers: dict[str, JobHandler] = {}


def register(
    kind: str,
    handle: Callable[[JobRun], None],
    *,
    prepare: Callable[[JobRun], Any] | None = None,
    on_failure: Callable[[JobRun, str], None] | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> None:
    """Declare what runs jobs of `kind` (features call this from their init_app)."""
    handler = JobHandler(
        handle=handle, prepare=prepare, on_failure=on_failure, max_attempts=max_attempts
    )
    existing = _handlers.get(kind)
    if existing is not None and existing != handler:
        raise ValueError(f"job kind {kind!r} already has another handler")
    _handlers[kind] = handler


def handler_for(kind: str) -> JobHandler | None:
    """The handler registered for `kind`, if any."""
    return _handlers.get(kind)
