"""The worker as its own process: a kill -9 mid-job loses nothing and doubles nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from flask import Flask
from sqlalchemy import Engine, select, text

from service.core.extensions import db
from service.core.jobs import Job, JobStatus, enqueue
from service.core.settings import PROJECT_ROOT
from tests.conftest import TEST_SECRET_KEY, make_test_app, truncate_all
from tests.core.job_worker_process import EFFECTS_TABLE


@pytest.fixture
def committing_app(database_url: str, engine: Engine) -> Iterator[Flask]:
    app = make_test_app(database_url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {EFFECTS_TABLE} (job_key VARCHAR(255))"))
    try:
        yield app
    finally:
        truncate_all(engine)
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE {EFFECTS_TABLE}"))


class JobState(NamedTuple):
    status: JobStatus
    attempts: int
    last_error: str | None


def _worker(database_url: str, *command: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "LOG_LEVEL": "CRITICAL",
    }
    return subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.poll() is None, f"the worker exited early: {process.stdout.read()}"  # type: ignore[union-attr]
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _job(app: Flask, key: str) -> JobState:
    with app.app_context():
        job = db.session.scalars(select(Job).where(Job.key == key)).one()
        return JobState(job.status, job.attempts, job.last_error)


def _effects(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        query = text(f"SELECT job_key FROM {EFFECTS_TABLE}")  # noqa: S608 (a constant)
        return list(connection.scalars(query))


def _stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, as a supervisor stops it; the worker must exit cleanly and say so."""
    os.killpg(process.pid, signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def test_a_job_killed_mid_run_runs_again_and_its_effect_happens_once(
    committing_app: Flask, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    with committing_app.app_context():
        enqueue(
            db.session,
            "test.effect_then_stall",
            {"started_file": str(started)},
            key="killed-mid-run",
        )
        db.session.commit()
    worker_args = ("--lease-seconds", "1", "--poll-seconds", "0.05")
    first = _worker(database_url, "tests.core.job_worker_process", *worker_args)
    try:
        _wait_for(started.exists, first, "the first try to start")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)
    job = _job(committing_app, "killed-mid-run")
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    assert _effects(engine) == []  # the try's effect died with its transaction

    second = _worker(database_url, "tests.core.job_worker_process", *worker_args)
    try:
        _wait_for(
            lambda: _job(committing_app, "killed-mid-run").status is JobStatus.DONE,
            second,
            "the job to be claimed again after its lease and finish",
        )
    finally:
        output = _stop(second)
    assert "worker: stopped" in output
    assert _job(committing_app, "killed-mid-run").attempts == 2
    assert _effects(engine) == ["killed-mid-run"]


def test_the_worker_command_runs_jobs_and_stops_on_sigterm(
    committing_app: Flask, database_url: str
) -> None:
    with committing_app.app_context():
        enqueue(db.session, "test.kind-without-handler", {}, key="seen-by-the-worker")
        db.session.commit()
    worker = _worker(database_url, "flask", "--app", "service", "worker", "--poll-seconds", "0.05")
    try:
        _wait_for(
            lambda: _job(committing_app, "seen-by-the-worker").status is JobStatus.FAILED,
            worker,
            "the worker to try the job",
        )
    finally:
        output = _stop(worker)
    assert "SIGTERM, finishing the jobs in hand" in output
    error = _job(committing_app, "seen-by-the-worker").last_error
    assert error is not None
    assert "no handler is registered" in error
