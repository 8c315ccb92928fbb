"""The database's connect and statement timeouts come from the settings."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from service.core.extensions import db
from service.core.settings import Settings
from tests.conftest import make_test_app
from tests.faults.switch import unreachable_database_url


def test_the_timeouts_have_defaults_and_come_from_the_environment() -> None:
    assert Settings.from_env({}).database_statement_timeout_ms == 10_000
    assert Settings.from_env({}).database_connect_timeout_seconds == 5
    settings = Settings.from_env(
        {"DATABASE_STATEMENT_TIMEOUT_MS": "0", "DATABASE_CONNECT_TIMEOUT_SECONDS": "2"}
    )
    assert (settings.database_statement_timeout_ms, settings.database_connect_timeout_seconds) == (
        0,
        2,
    )


def test_postgresql_cancels_a_statement_that_runs_too_long(
    engine: Engine, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("SQLite has no statement timeout (the embedded database is not shared)")
    url = engine.url.render_as_string(hide_password=False)
    app = make_test_app(url)
    with app.app_context():
        assert db.session.scalar(text("SHOW statement_timeout")) == "10s"
    app = make_test_app(url, database_statement_timeout_ms=200)
    with app.app_context():
        started = time.monotonic()
        with pytest.raises(OperationalError, match="statement timeout"):
            db.session.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 2


def test_an_unreachable_database_fails_within_the_connect_timeout(
    engine: Engine, is_postgres: bool, tmp_path: Path
) -> None:
    app = make_test_app(
        unreachable_database_url(is_postgres, str(tmp_path)), database_connect_timeout_seconds=1
    )
    started = time.monotonic()
    with app.app_context():
        assert db.ping() is False
    assert time.monotonic() - started < 3
