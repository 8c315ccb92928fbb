"""The job outbox: written with its cause, run once, retried with backoff, dead after ten."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from service.core.extensions import db
from service.core.jobs import (
    MAX_ATTEMPTS,
    Job,
    JobRun,
    JobStatus,
    RunAgain,
    Worker,
    enqueue,
    register,
    retry_job,
    status_counts,
)
from service.core.jobs.worker import backoff_delay
from service.core.models import utcnow
from tests.conftest import drain_jobs, make_test_app, truncate_all


def _effect(run: JobRun) -> None:
    """Leave a visible effect in the job's own transaction: another job."""
    enqueue(run.session, "test.noop", {}, key=f"effect-of:{run.key}")
    if run.payload.get("fail"):
        raise RuntimeError(f"failing on purpose, try {run.attempt}")


def _prepare(run: JobRun) -> dict[str, Any]:
    # A write here is thrown away: prepare's transaction is rolled back.
    enqueue(run.session, "test.noop", {}, key=f"written-in-prepare:{run.key}")
    return {"fetched": run.payload["value"] * 2}


def _with_prepared(run: JobRun) -> None:
    enqueue(run.session, "test.noop", {"got": run.prepared}, key=f"effect-of:{run.key}")


def _rehearse_then_report(run: JobRun) -> int:
    with run.throwaway() as session:
        enqueue(session, "test.noop", {}, key=f"rehearsed:{run.key}")
    return 1


def _note_failure(run: JobRun, error: str) -> None:
    enqueue(run.session, "test.noop", {"error": error}, key=f"failure-note:{run.key}:{run.attempt}")


def _race_once(run: JobRun) -> None:
    if run.attempt == 1:
        raise RunAgain("the world moved under the first try")
    _effect(run)


register("test.noop", lambda run: None)
register("test.race-once", _race_once, on_failure=_note_failure)
register("test.effect", _effect)
register("test.prepared", _with_prepared, prepare=_prepare)
register("test.rehearsed", _with_prepared, prepare=_rehearse_then_report)
register("test.noted", _effect, on_failure=_note_failure)


def _job(session: Session, key: str) -> Job:
    return session.scalars(
        select(Job).where(Job.key == key).execution_options(populate_existing=True)
    ).one()


def _keys(session: Session) -> set[str]:
    return set(session.scalars(select(Job.key)))


def test_enqueue_belongs_to_the_callers_transaction(session: Session) -> None:
    with session.begin_nested() as nested:
        assert enqueue(session, "test.noop", {"n": 1}, key="lost-with-its-cause")
        nested.rollback()
    assert "lost-with-its-cause" not in _keys(session)
    assert enqueue(session, "test.noop", {"n": 1}, key="kept-with-its-cause")
    assert _job(session, "kept-with-its-cause").status is JobStatus.QUEUED


def test_a_key_enqueues_one_job_however_often_its_cause_repeats(session: Session) -> None:
    assert enqueue(session, "test.noop", {"n": 1}, key="once")
    assert not enqueue(session, "test.noop", {"n": 2}, key="once")
    assert session.scalar(select(func.count()).where(Job.key == "once")) == 1
    assert _job(session, "once").payload == {"n": 1}


def test_a_key_must_be_given(session: Session) -> None:
    with pytest.raises(ValueError, match="key"):
        enqueue(session, "test.noop", {}, key="")


def test_the_worker_commits_the_effect_with_done(app: Flask, session: Session) -> None:
    enqueue(session, "test.effect", {}, key="works")
    session.commit()
    assert drain_jobs(app) == 2  # the job, then the job its effect queued
    job = _job(session, "works")
    assert (job.status, job.attempts, job.claim_token) == (JobStatus.DONE, 1, None)
    assert job.finished_at is not None
    assert _job(session, "effect-of:works").status is JobStatus.DONE


def test_a_failed_try_rolls_back_its_effect_and_waits_a_backoff(
    app: Flask, session: Session
) -> None:
    enqueue(session, "test.effect", {"fail": True}, key="fails")
    session.commit()
    before = utcnow()
    assert drain_jobs(app) == 1  # then it waits for its backoff, so it is not due
    job = _job(session, "fails")
    assert job.status is JobStatus.FAILED
    assert job.attempts == 1
    assert job.last_error == "RuntimeError: failing on purpose, try 1"
    # 10 s base, 50 to 100% jitter.
    assert before + timedelta(seconds=4.9) <= job.run_at <= utcnow() + timedelta(seconds=10)
    assert "effect-of:fails" not in _keys(session)


def test_backoff_grows_exponentially_up_to_a_cap() -> None:
    delays = [backoff_delay(n, base=10, cap=3600).total_seconds() for n in range(1, 11)]
    for attempts, delay in enumerate(delays, start=1):
        ceiling = min(3600, 10 * 2 ** (attempts - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert delays[-1] <= 3600


class Clock:
    """A clock the test moves forward (the worker takes its time from it)."""

    def __init__(self) -> None:
        # A moment ahead, so jobs enqueued just now are already due.
        self.now = utcnow() + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def test_a_poison_job_is_dead_after_ten_tries_and_others_keep_flowing(
    app: Flask, session: Session
) -> None:
    enqueue(session, "test.effect", {"fail": True}, key="poison")
    session.commit()
    clock = Clock()
    worker = Worker(app, clock=clock)
    for index in range(MAX_ATTEMPTS):
        enqueue(session, "test.noop", {}, key=f"healthy-{index}")
        session.commit()
        worker.run_until_empty()
        assert _job(session, f"healthy-{index}").status is JobStatus.DONE
        clock.advance(timedelta(hours=2))
    job = _job(session, "poison")
    assert (job.status, job.attempts) == (JobStatus.DEAD, MAX_ATTEMPTS)
    assert job.last_error == f"RuntimeError: failing on purpose, try {MAX_ATTEMPTS}"
    clock.advance(timedelta(days=1))
    assert worker.run_until_empty() == 0  # dead stays dead
    assert status_counts(session)[JobStatus.DEAD] == 1


def test_staff_retry_gives_a_dead_job_fresh_tries(app: Flask, session: Session) -> None:
    enqueue(session, "test.effect", {"fail": True}, key="revived")
    session.commit()
    clock = Clock()
    worker = Worker(app, clock=clock)
    for _ in range(MAX_ATTEMPTS):
        worker.run_until_empty()
        clock.advance(timedelta(hours=2))
    job = _job(session, "revived")
    assert job.status is JobStatus.DEAD
    assert not retry_job(session, job.id + 1000)  # no such job
    # Fix the cause (here: the payload), then retry.
    job.payload = {"fail": False}
    assert retry_job(session, job.id)
    session.commit()
    job = _job(session, "revived")
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 0)
    assert worker.run_until_empty() == 2
    assert _job(session, "revived").status is JobStatus.DONE
    assert not retry_job(session, job.id)  # a done job is not retried


def test_an_unknown_kind_fails_with_a_clear_error(app: Flask, session: Session) -> None:
    enqueue(session, "test.nobody-handles-this", {}, key="orphan")
    session.commit()
    drain_jobs(app)
    job = _job(session, "orphan")
    assert job.status is JobStatus.FAILED
    assert job.last_error == (
        "LookupError: no handler is registered for job kind 'test.nobody-handles-this'"
    )


def test_prepare_runs_first_and_its_writes_are_thrown_away(app: Flask, session: Session) -> None:
    enqueue(session, "test.prepared", {"value": 21}, key="prepared")
    session.commit()
    drain_jobs(app)
    assert _job(session, "effect-of:prepared").payload == {"got": {"fetched": 42}}
    assert "written-in-prepare:prepared" not in _keys(session)


def test_run_again_retries_at_once_without_on_failure(app: Flask, session: Session) -> None:
    enqueue(session, "test.race-once", {}, key="raced")
    session.commit()
    assert drain_jobs(app) == 3  # the race, the second try, the effect's job
    job = _job(session, "raced")
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)
    assert job.last_error == "RunAgain: the world moved under the first try"
    assert not any(key.startswith("failure-note:raced") for key in _keys(session))


def test_a_throwaway_transaction_keeps_nothing(app: Flask, session: Session) -> None:
    enqueue(session, "test.rehearsed", {}, key="rehearsal")
    session.commit()
    drain_jobs(app)
    assert _job(session, "effect-of:rehearsal").payload == {"got": 1}
    assert "rehearsed:rehearsal" not in _keys(session)


def test_on_failure_writes_with_the_failed_try_and_not_after_success(
    app: Flask, session: Session
) -> None:
    enqueue(session, "test.noted", {"fail": True}, key="noted")
    enqueue(session, "test.noted", {}, key="fine")
    session.commit()
    drain_jobs(app)
    assert _job(session, "failure-note:noted:1").payload == {
        "error": "RuntimeError: failing on purpose, try 1"
    }
    assert "effect-of:noted" not in _keys(session)
    assert not any(key.startswith("failure-note:fine") for key in _keys(session))


def test_a_job_whose_worker_stopped_is_claimed_again_after_its_lease(
    app: Flask, session: Session
) -> None:
    enqueue(session, "test.effect", {}, key="abandoned")
    session.commit()
    clock = Clock()
    first = Worker(app, name="first", clock=clock, lease=timedelta(minutes=2))
    second = Worker(app, name="second", clock=clock, lease=timedelta(minutes=2))
    abandoned = first.claim()  # ... and the first worker dies here.
    assert abandoned is not None
    assert _job(session, "abandoned").locked_by == "first"
    assert second.claim() is None  # still under lease
    clock.advance(timedelta(minutes=2, seconds=1))
    assert second.run_one()
    job = _job(session, "abandoned")
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)
    # Had the first worker only been slow, its late finish is refused: one effect.
    first._run(abandoned)
    assert session.scalar(select(func.count()).where(Job.key == "effect-of:abandoned")) == 1


@pytest.fixture
def committing_app(database_url: str, engine: Engine) -> Iterator[Flask]:
    """An app whose sessions commit for real (several workers, several connections)."""
    app = make_test_app(database_url)
    try:
        yield app
    finally:
        truncate_all(engine)


def test_concurrent_workers_never_run_one_job_twice(committing_app: Flask) -> None:
    ran: Counter[str] = Counter()
    lock = threading.Lock()

    def _count(run: JobRun) -> None:
        with lock:
            ran[run.key] += 1
        time.sleep(0.005)  # long enough for the others to reach the same row

    register("test.counted", _count)
    with committing_app.app_context():
        for index in range(60):
            enqueue(db.session, "test.counted", {}, key=f"counted-{index}")
        db.session.commit()
    workers = [Worker(committing_app, name=f"w{n}") for n in range(4)]
    threads = [threading.Thread(target=w.run_until_empty) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert ran == Counter({f"counted-{index}": 1 for index in range(60)})
    with committing_app.app_context():
        assert status_counts(db.session)[JobStatus.DONE] == 60
