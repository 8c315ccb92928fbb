"""The job table: one row per piece of background work, written with the change that causes it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.core.models import Base, partial_index, stored_enum, utcnow


class JobStatus(enum.StrEnum):
    """Where a job stands; queued, failed and running (lease expired) jobs are claimable."""

    QUEUED = "queued"
    RUNNING = "running"
    # Failed at least once and waiting for its next try at `run_at`.
    FAILED = "failed"
    DONE = "done"
    # Gave up after MAX_ATTEMPTS; only a person retries it.
    DEAD = "dead"


CLAIMABLE = (JobStatus.QUEUED, JobStatus.FAILED, JobStatus.RUNNING)


class Job(Base):
    """One job: its kind, its payload, its idempotency key and how its tries went."""

    __tablename__ = "jobs"
    __table_args__ = (
        # The worker's claim query: the earliest due job among the claimable ones.
        Index(
            "ix_jobs_claimable_run_at",
            "run_at",
            **partial_index("status IN ('queued', 'failed', 'running')"),
        ),
        Index("ix_jobs_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    # One logical job, one key: enqueueing it again (a redelivered cause) adds nothing.
    key: Mapped[str] = mapped_column(String(255), unique=True)
    payload: Mapped[dict[str, Any]]
    status: Mapped[JobStatus] = mapped_column(
        stored_enum(JobStatus, "job_status"), default=JobStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the job is next due; while it runs, when its worker's lease runs out.
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Which worker holds the lease, and the token of that claim (a stale worker's
    # late commit is refused by comparing it).
    locked_by: Mapped[str | None] = mapped_column(String(200))
    claim_token: Mapped[str | None] = mapped_column(String(36))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]


# The table itself, for the worker's core UPDATE … RETURNING statements.
jobs_table = cast(Table, Job.__table__)
