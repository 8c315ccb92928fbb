"""The production server (gunicorn) and a throwaway PostgreSQL database for benchmarks."""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from service.core.db import build_engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
# The README's production command (see "Running in production"): gthread workers, so a
# slow Stripe call holds a thread rather than a whole process.
WORKERS = max(2, os.cpu_count() or 1)
THREADS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def gunicorn_command(
    app: str, port: int, *, workers: int = WORKERS, threads: int = THREADS
) -> list[str]:
    """The gunicorn command line the README recommends, bound to loopback."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
        app,
    ]


def wait_until_up(port: int, path: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not answer {path} in {seconds}s")


@contextmanager
def gunicorn(
    app: str,
    env: Mapping[str, str],
    *,
    ready_path: str = "/healthz",
    workers: int = WORKERS,
    threads: int = THREADS,
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Run `app` under gunicorn on a free loopback port; yield its base URL."""
    port = free_port()
    command = gunicorn_command(app, port, workers=workers, threads=threads)
    command[-1:-1] = list(extra_args)
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdin=subprocess.DEVNULL
    )
    try:
        wait_until_up(port, ready_path, process, 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def postgres_server_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_POSTGRES


def postgres_version(server_url: str) -> str:
    engine = build_engine(server_url)
    try:
        with engine.connect() as connection:
            full = str(connection.execute(text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()
    return full.split()[0]


@contextmanager
def bench_database(server_url: str) -> Iterator[str]:
    """A new, migrated PostgreSQL database, dropped afterwards."""
    from service.core.migrations import upgrade_database

    name = f"bench_{secrets.token_hex(4)}"
    admin = build_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_database(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
