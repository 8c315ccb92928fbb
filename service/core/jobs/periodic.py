"""Daily jobs: a kind registered here is enqueued once per UTC day, for the day just ended.

Every worker now and then enqueues "yesterday" for each daily kind, with the day in the
job's key (`daily:<kind>:<YYYY-MM-DD>`), so however many workers do it, one job per day
is written and run; a worker that was down catches up on its next pass (yesterday only:
back-filling older days is each feature's own command).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from service.core.jobs.outbox import enqueue

_daily: set[str] = set()


def every_day(kind: str) -> None:
    """Run jobs of `kind` (registered with `register`) once a day; payload {"day": ...}."""
    _daily.add(kind)


def daily_key(kind: str, day: date) -> str:
    """The idempotency key of one day's job of a daily kind."""
    return f"daily:{kind}:{day.isoformat()}"


def schedule_daily(session: Session, today: date) -> int:
    """Enqueue the day before `today` for every daily kind; how many jobs were new."""
    day = today - timedelta(days=1)
    return sum(
        enqueue(session, kind, {"day": day.isoformat()}, key=daily_key(kind, day))
        for kind in sorted(_daily)
    )
