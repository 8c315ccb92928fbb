"""Background jobs: a transactional outbox in the `jobs` table and the workers that run it.

A feature writes a job with `enqueue(session, kind, payload, key=...)` in the same
transaction as the change that causes it, and registers what runs that kind with
`register(kind, handle, prepare=...)` in its init_app. Workers (`flask --app service
worker`, or a thread inside `make run`) claim due jobs and run them; see worker.py.
"""

from __future__ import annotations

from service.core.jobs.models import Job, JobStatus
from service.core.jobs.outbox import enqueue, retry_job, status_counts
from service.core.jobs.periodic import daily_key, every_day, schedule_daily
from service.core.jobs.registry import (
    MAX_ATTEMPTS,
    JobHandler,
    JobRun,
    RunAgain,
    handler_for,
    register,
)
from service.core.jobs.worker import Worker, WorkerPool

__all__ = [
    "MAX_ATTEMPTS",
    "Job",
    "JobHandler",
    "JobRun",
    "JobStatus",
    "RunAgain",
    "Worker",
    "WorkerPool",
    "daily_key",
    "enqueue",
    "every_day",
    "handler_for",
    "register",
    "retry_job",
    "schedule_daily",
    "status_counts",
]
