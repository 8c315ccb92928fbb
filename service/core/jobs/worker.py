"""The worker: claim a due job, run its handler, commit its effect with its "done".

A claim is a short transaction of its own: the job becomes `running`, its attempt is
counted and its `run_at` becomes the end of the worker's lease. On PostgreSQL the claim
picks the row with `FOR UPDATE SKIP LOCKED`, so workers never wait on each other and
never claim one job twice; on SQLite writers are serialised anyway. The handler's
effect and the job's `done` are one transaction, so an effect is committed once even
if the worker dies: a job whose worker stopped mid-run keeps `running` with an expired
lease and the next worker claims it again. A failed try goes back as `failed`, due
after an exponential backoff with jitter; after its handler's `max_attempts` it is
`dead`, with its last error, until staff retry it.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from service.core.extensions import db
from service.core.jobs.models import JobStatus, jobs_table
from service.core.jobs.periodic import schedule_daily
from service.core.jobs.registry import MAX_ATTEMPTS, JobHandler, JobRun, RunAgain, handler_for
from service.core.models import utcnow
from service.core.settings import Settings

log = logging.getLogger(__name__)

# Literal, not bound, so PostgreSQL can use the partial index in a prepared statement.
_CLAIMABLE_SQL = text("jobs.status IN ('queued', 'failed', 'running')")

DEFAULT_LEASE = timedelta(minutes=2)
# Done jobs (and so their keys) are kept this long, then purged by the worker.
DONE_RETENTION = timedelta(days=30)
_PURGE_EVERY = timedelta(hours=1)
# How often a worker makes sure yesterday's daily jobs are enqueued.
_SCHEDULE_EVERY = timedelta(minutes=10)


def _any_due(now: datetime) -> Any:
    return select(jobs_table.c.id).where(_CLAIMABLE_SQL, jobs_table.c.run_at <= now).limit(1)


@dataclass(frozen=True)
class Claimed:
    """A job this worker holds the lease on."""

    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int
    token: str


def backoff_delay(attempts: int, *, base: float, cap: float) -> timedelta:
    """Exponential delay after the given number of tries, with jitter (50 to 100%)."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))  # noqa: S311 (not security)


def describe_error(error: BaseException) -> str:
    """One line for the job's last error, without SQL parameters (they can hold emails)."""
    cause = error.orig if isinstance(error, StatementError) and error.orig else error
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first_line}"[:2000]


class Worker:
    """Runs due jobs from the app's database, one at a time per Worker."""

    def __init__(
        self,
        app: Flask,
        *,
        name: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        backoff_base: float = 10.0,
        backoff_cap: float = 3600.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.app = app
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.lease = lease
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.clock = clock
        self._last_purge: datetime | None = None
        self._last_schedule: datetime | None = None

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.extensions["settings"]
        return settings

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """The app context's session; rolled back and closed when the block ends."""
        with self.app.app_context():
            yield db.session

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A session whose work core's unit of work commits when the block ends."""
        with self.app.app_context(), db.unit_of_work() as session:
            yield session

    def claim(self) -> Claimed | None:
        """Take the lease on the earliest due job, in a transaction of its own."""
        now = self.clock()
        token = str(uuid.uuid4())
        due = (
            select(jobs_table.c.id)
            .where(_CLAIMABLE_SQL, jobs_table.c.run_at <= now)
            .order_by(jobs_table.c.run_at, jobs_table.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = (
            update(jobs_table)
            .where(jobs_table.c.id == due, _CLAIMABLE_SQL, jobs_table.c.run_at <= now)
            .values(
                status=JobStatus.RUNNING.value,
                attempts=jobs_table.c.attempts + 1,
                run_at=now + self.lease,
                locked_by=self.name[:200],
                claim_token=token,
                updated_at=now,
            )
            .returning(
                jobs_table.c.id,
                jobs_table.c.kind,
                jobs_table.c.key,
                jobs_table.c.payload,
                jobs_table.c.attempts,
            )
        )
        # Look before taking a write lock: an idle worker then never blocks a writer (on
        # SQLite, any UPDATE does, even one that matches nothing). In a transaction of its
        # own: on SQLite a read that turns into a write fails at once if another writer
        # committed in between, where one that starts with its write waits its turn.
        with self._session() as session:
            if session.execute(_any_due(now)).first() is None:
                return None
        with self._transaction() as session:
            row = session.execute(statement).one_or_none()
        if row is None:
            return None
        return Claimed(row.id, row.kind, row.key, dict(row.payload), row.attempts, token)

    def run_one(self) -> bool:
        """Claim and run one due job; False when none is due."""
        claimed = self.claim()
        if claimed is None:
            return False
        self._run(claimed)
        return True

    def run_until_empty(self, *, limit: int = 100_000) -> int:
        """Run due jobs until none is left (jobs waiting on a backoff are not due); count them."""
        ran = 0
        while ran < limit and self.run_one():
            ran += 1
        return ran

    def run(self, stop: threading.Event, *, poll_seconds: float = 0.5) -> None:
        """Run jobs until `stop` is set, finishing the one in hand; poll when idle."""
        while not stop.is_set():
            try:
                self._purge_now_and_then()
                self._schedule_now_and_then()
                if self.run_one():
                    continue
            except Exception:
                # The database is away or refused us; wait and try again.
                log.warning("job worker %s could not claim a job", self.name, exc_info=True)
            stop.wait(poll_seconds)

    def _run(self, claimed: Claimed) -> None:
        handler = handler_for(claimed.kind)
        max_attempts = handler.max_attempts if handler else MAX_ATTEMPTS
        if claimed.attempts > max_attempts:
            # Its previous workers all stopped mid-run (killed, or out of memory).
            self._record_failure(claimed, handler, "the worker stopped during every try", True)
            return
        try:
            if handler is None:
                raise LookupError(f"no handler is registered for job kind {claimed.kind!r}")
            prepared = None
            if handler.prepare is not None:
                # Its transaction is rolled back when the block ends: prepare only reads.
                with self._session() as session:
                    prepared = handler.prepare(self._job_run(claimed, session))
            # The effect and the job's "done" commit together, or neither does.
            with self._transaction() as session:
                if not self._mark_done(session, claimed):
                    log.warning("job %s: lease lost before it finished; leaving it", claimed.id)
                    return
                handler.handle(self._job_run(claimed, session, prepared))
        except RunAgain as again:
            log.info("job %s (%s) runs again: %s", claimed.id, claimed.kind, again)
            dead = claimed.attempts >= max_attempts
            self._record_failure(claimed, None, describe_error(again), dead, backoff=False)
        except Exception as error:
            log.error(
                "job %s (%s) try %d failed: %s\n%s",
                claimed.id,
                claimed.kind,
                claimed.attempts,
                describe_error(error),
                "".join(traceback.format_tb(error.__traceback__)),
            )
            dead = claimed.attempts >= max_attempts
            self._record_failure(claimed, handler, describe_error(error), dead)

    def _job_run(self, claimed: Claimed, session: Session, prepared: Any = None) -> JobRun:
        return JobRun(
            id=claimed.id,
            kind=claimed.kind,
            key=claimed.key,
            payload=claimed.payload,
            attempt=claimed.attempts,
            settings=self.settings,
            session=session,
            throwaway=self._session,
            prepared=prepared,
        )

    def _mark_done(self, session: Session, claimed: Claimed) -> bool:
        """First statement of the job's transaction: done, if this worker still holds it."""
        now = self.clock()
        result = session.execute(
            update(jobs_table)
            .where(
                jobs_table.c.id == claimed.id,
                jobs_table.c.claim_token == claimed.token,
                jobs_table.c.status == JobStatus.RUNNING.value,
            )
            .values(
                status=JobStatus.DONE.value,
                run_at=now,
                locked_by=None,
                claim_token=None,
                finished_at=now,
                updated_at=now,
            )
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def _record_failure(
        self,
        claimed: Claimed,
        handler: JobHandler | None,
        error: str,
        dead: bool,
        *,
        backoff: bool = True,
    ) -> None:
        """Put the job back as failed (due after a backoff) or dead, with its error."""
        now = self.clock()
        delay = (
            backoff_delay(claimed.attempts, base=self.backoff_base, cap=self.backoff_cap)
            if backoff
            else timedelta(0)
        )
        try:
            with self._transaction() as session:
                recorded = session.execute(
                    update(jobs_table)
                    .where(
                        jobs_table.c.id == claimed.id,
                        jobs_table.c.claim_token == claimed.token,
                    )
                    .values(
                        status=(JobStatus.DEAD if dead else JobStatus.FAILED).value,
                        run_at=now if dead else now + delay,
                        locked_by=None,
                        claim_token=None,
                        last_error=error,
                        finished_at=now if dead else None,
                        updated_at=now,
                    )
                )
                if recorded.rowcount == 1 and handler and handler.on_failure:  # type: ignore[attr-defined]
                    handler.on_failure(self._job_run(claimed, session), error)
        except Exception:
            # The lease runs out and the job is claimed again: nothing is lost.
            log.warning("job %s: could not record its failure", claimed.id, exc_info=True)
            return
        if dead:
            log.error(
                "job %s (%s) is dead after %d tries", claimed.id, claimed.kind, claimed.attempts
            )

    def _purge_now_and_then(self) -> None:
        """Delete done jobs past their retention, about once an hour."""
        now = self.clock()
        if self._last_purge is not None and now - self._last_purge < _PURGE_EVERY:
            return
        self._last_purge = now
        purge_done(self.app, older_than=now - DONE_RETENTION)

    def _schedule_now_and_then(self) -> None:
        """Enqueue yesterday's daily jobs, about every ten minutes (one per day: keyed)."""
        now = self.clock()
        if self._last_schedule is not None and now - self._last_schedule < _SCHEDULE_EVERY:
            return
        self._last_schedule = now
        self.schedule_daily()

    def schedule_daily(self) -> int:
        """Enqueue the daily jobs for the day before the worker's today; how many were new."""
        with self._transaction() as session:
            return schedule_daily(session, self.clock().date())


def purge_done(app: Flask, *, older_than: datetime) -> int:
    """Delete done jobs that finished before `older_than`; return how many."""
    with app.app_context(), db.unit_of_work() as session:
        result = session.execute(
            delete(jobs_table).where(
                jobs_table.c.status == JobStatus.DONE.value,
                jobs_table.c.finished_at < older_than,
            )
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


class WorkerPool:
    """Worker threads in this process (the worker command's, or one inside `make run`)."""

    def __init__(self, app: Flask, *, threads: int = 1, **worker_options: Any) -> None:
        self.stop = threading.Event()
        base = f"{socket.gethostname()}:{os.getpid()}"
        self.workers = [
            Worker(app, name=f"{base}:{index}", **worker_options) for index in range(threads)
        ]
        self._threads: list[threading.Thread] = []

    def start(self, *, poll_seconds: float = 0.5) -> WorkerPool:
        for worker in self.workers:
            thread = threading.Thread(
                target=worker.run,
                args=(self.stop,),
                kwargs={"poll_seconds": poll_seconds},
                name=f"job-worker-{worker.name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def shutdown(self, timeout: float | None = None) -> None:
        """Ask every thread to stop after its current job, and wait for them."""
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)
