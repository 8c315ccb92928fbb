"""`flask --app service worker`: run background jobs in this process until SIGTERM."""

from __future__ import annotations

import signal
from datetime import timedelta
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext

from service.core.db import build_engine
from service.core.extensions import db
from service.core.jobs.worker import WorkerPool


@click.command("worker")
@click.option("--threads", default=4, show_default=True, help="Jobs run at once (PostgreSQL).")
@click.option(
    "--lease-seconds",
    default=120,
    show_default=True,
    help="How long a job may run before another worker may take it over.",
)
@click.option("--poll-seconds", default=0.5, show_default=True, help="Wait when idle.")
@with_appcontext
def worker_command(threads: int, lease_seconds: int, poll_seconds: float) -> None:
    """Run queued jobs until SIGTERM or Ctrl-C; the job in hand finishes first."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.extensions["database"]["engine"].dialect.name == "sqlite" and threads > 1:
        click.echo("SQLite admits one writer at a time: running one worker thread")
        threads = 1
    elif threads > 4:
        # One database connection per thread, so no thread waits on the pool.
        database = app.extensions["database"]
        settings = app.extensions["settings"]
        old_engine = database["engine"]
        database["engine"] = build_engine(settings.database_url, pool_size=threads + 1)
        db.bind_sessions(app, database["engine"])
        old_engine.dispose()
    pool = WorkerPool(app, threads=threads, lease=timedelta(seconds=lease_seconds))

    def _stop(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"worker: {signal.Signals(signum).name}, finishing the jobs in hand")
        pool.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    pool.start(poll_seconds=poll_seconds)
    click.echo(f"worker: {threads} thread(s) running jobs")
    while pool.alive() and not pool.stop.wait(1.0):
        pass
    pool.shutdown()
    click.echo("worker: stopped")
