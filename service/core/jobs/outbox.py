"""Writing jobs (in the caller's transaction) and what staff do with them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.core.jobs.models import Job, JobStatus, jobs_table
from service.core.models import utcnow


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    key: str,
    run_at: datetime | None = None,
) -> bool:
    """Add a job to the caller's transaction; False when a job with this key exists.

    Nothing is committed here: the job commits with the change that causes it, or
    neither does. `key` names one logical job (say `stripe-event:evt_123`), so a cause
    delivered twice enqueues it once.
    """
    if not key or len(key) > 255:
        raise ValueError("a job key must be 1 to 255 characters")
    now = utcnow()
    values = {
        "kind": kind,
        "key": key,
        "payload": payload,
        "status": JobStatus.QUEUED.value,
        "attempts": 0,
        "run_at": run_at or now,
        "created_at": now,
        "updated_at": now,
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(jobs_table)
        .values(values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(jobs_table.c.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def retry_job(session: Session, job_id: int) -> bool:
    """Queue a failed or dead job to run now with a fresh set of tries (staff's button)."""
    now = utcnow()
    result = session.execute(
        update(jobs_table)
        .where(
            jobs_table.c.id == job_id,
            jobs_table.c.status.in_([JobStatus.FAILED.value, JobStatus.DEAD.value]),
        )
        .values(
            status=JobStatus.QUEUED.value,
            attempts=0,
            run_at=now,
            finished_at=None,
            updated_at=now,
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def status_counts(session: Session) -> dict[JobStatus, int]:
    """How many jobs are in each status (every status present, zero when none)."""
    counts = dict.fromkeys(JobStatus, 0)
    for status, count in session.execute(select(Job.status, func.count()).group_by(Job.status)):
        counts[status] = count
    return counts
