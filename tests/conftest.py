"""Shared fixtures: one migrated database per run, each test in a rolled-back transaction.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set (CI does both).
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service import create_app, import_all_models
from service.core.db import build_engine
from service.core.extensions import db
from service.core.migrations import upgrade_database
from service.core.models import Base

import_all_models()

pytest_plugins = ["tests.live", "tests.stripe_fixtures"]

TEST_SECRET_KEY = "test-secret-key-" + "x" * 32
TEST_STRIPE_KEY = "sk_test_" + "T" * 24
TEST_WEBHOOK_SECRET = "whsec_" + "w" * 32


def _create_postgres_database(server_url: str) -> tuple[str, str]:
    """Create an empty database for this run next to TEST_DATABASE_URL's."""
    name = f"test_run_{secrets.token_hex(4)}"
    admin = build_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(server_url: str, name: str) -> None:
    admin = build_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def new_database_url(tmp_dir: Path) -> tuple[str, Any]:
    """An empty database of the backend under test, and a function that removes it."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if server_url:
        url, name = _create_postgres_database(server_url)
        return url, lambda: _drop_postgres_database(server_url, name)
    path = tmp_dir / f"test-{secrets.token_hex(4)}.db"
    return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database for the whole run, migrated to head by Alembic."""
    with tempfile.TemporaryDirectory(prefix="contrib-tests-") as tmp:
        url, remove = new_database_url(Path(tmp))
        upgrade_database(url)
        yield url
        remove()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


_apps_to_dispose: list[Flask] = []


@pytest.fixture(autouse=True)
def _dispose_test_apps() -> Iterator[None]:
    """Close the connection pools of every app a test made (PostgreSQL warns otherwise)."""
    yield
    while _apps_to_dispose:
        _apps_to_dispose.pop().extensions["database"]["engine"].dispose()


def make_test_app(database_url: str, **overrides: Any) -> Flask:
    """An app in test mode on the given database; its pool is closed after the test."""
    settings: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        "stripe_secret_key": TEST_STRIPE_KEY,
        "stripe_webhook_secrets": (TEST_WEBHOOK_SECRET,),
        "public_base_url": "http://127.0.0.1:5000",
        "allowed_embed_origins": ("https://news.example",),
    }
    settings.update(overrides)
    app = create_app(settings)
    _apps_to_dispose.append(app)
    return app


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its `app`."""
    return {}


@pytest.fixture
def app(database_url: str, engine: Engine, app_overrides: dict[str, Any]) -> Iterator[Flask]:
    """The app with every session inside one transaction rolled back after the test."""
    app = make_test_app(database_url, **app_overrides)
    connection = engine.connect()
    transaction = connection.begin()
    db.bind_sessions(app, connection, join_transaction_mode="create_savepoint")
    try:
        yield app
    finally:
        transaction.rollback()
        connection.close()
        app.extensions["database"]["engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """The app's own session, for arranging data and checking results."""
    with app.app_context():
        yield db.session


def truncate_all(engine: Engine) -> None:
    """Empty every table (for tests whose app commits for real)."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def drain_jobs(app: Flask, *, threads: int = 1, **worker_options: Any) -> int:
    """Run the real job worker until no job is due; return how many jobs ran.

    With `threads`, that many workers share the queue at once, as worker processes do on
    PostgreSQL; on SQLite, as `flask worker` does, one runs (SQLite has one writer).
    """
    from service.core.jobs import Worker

    if threads == 1 or app.extensions["database"]["engine"].dialect.name == "sqlite":
        return Worker(app, name="tests", **worker_options).run_until_empty()
    counts: list[int] = []
    workers = [Worker(app, name=f"tests-{n}", **worker_options) for n in range(threads)]
    runners = [
        threading.Thread(target=lambda w=worker: counts.append(w.run_until_empty()))
        for worker in workers
    ]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(120)
    return sum(counts)


def later(delta: timedelta = timedelta(hours=2)) -> Any:
    """A clock for the worker that reads `delta` ahead: retries waiting on a backoff are due."""
    from service.core.models import utcnow

    return lambda: utcnow() + delta
