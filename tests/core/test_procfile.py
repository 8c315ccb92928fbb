"""The Procfile is the production topology, and honcho runs it: web answers, workers work."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, select

from service.core.extensions import db
from service.core.jobs import Job, JobStatus, enqueue
from service.core.settings import PROJECT_ROOT
from tests.conftest import TEST_SECRET_KEY, make_test_app, truncate_all
from tests.live import reserve_port


def test_the_procfile_names_the_web_and_worker_processes() -> None:
    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    processes = dict(
        line.split(":", 1) for line in lines if line.strip() and not line.startswith("#")
    )
    assert set(processes) == {"web", "stripe", "worker"}
    for pool in ("web", "stripe"):
        assert "gunicorn" in processes[pool] and "'service:create_app()'" in processes[pool]
    assert "flask --app service worker" in processes["worker"]


@pytest.fixture
def committing_app(database_url: str, engine: Engine) -> Iterator[Flask]:
    app = make_test_app(database_url)
    try:
        yield app
    finally:
        truncate_all(engine)


def _status(app: Flask, key: str) -> JobStatus:
    with app.app_context():
        status: JobStatus = db.session.scalars(select(Job.status).where(Job.key == key)).one()
        return status


def test_honcho_runs_the_procfile(committing_app: Flask, database_url: str) -> None:
    port = reserve_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "WORKER_THREADS": "2",
    }
    with committing_app.app_context():
        enqueue(db.session, "test.kind-without-handler", {}, key="seen-under-honcho")
        db.session.commit()
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "--no-prefix", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        healthy = tried = False
        while time.monotonic() < deadline and not (healthy and tried):
            assert honcho.poll() is None, "honcho exited early"
            tried = _status(committing_app, "seen-under-honcho") is JobStatus.FAILED
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                connection.request("GET", "/healthz")
                healthy = connection.getresponse().status == 200
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.1)
        assert healthy, "the web process never answered /healthz"
        assert tried, "the worker process never tried the job"
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        output, _ = honcho.communicate(timeout=60)
    assert "worker: stopped" in output
