"""Models and migrations agree, and migrations go both ways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from service.core.db import build_engine
from service.core.migrations import alembic_config
from service.core.models import Base
from tests.conftest import new_database_url


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    url, remove = new_database_url(tmp_path)
    yield url
    remove()


def test_upgrade_head_gives_exactly_the_models_schema(empty_database_url: str) -> None:
    command.upgrade(alembic_config(empty_database_url), "head")
    engine = build_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_downgrade_to_base_removes_every_table(empty_database_url: str) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = build_engine(empty_database_url)
    try:
        remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    assert remaining == set()
    command.upgrade(config, "head")  # and back up again cleanly


def test_annual_gifts_migration_keeps_monthly_rows_and_admits_annual(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    command.upgrade(config, "0002_jobs")
    engine = build_engine(empty_database_url)
    stamp = {"t": "2026-11-30 12:00:00"}
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO monthly_donations (stripe_subscription_id, status, amount_minor,"
                    " currency, cancel_at_period_end, created_at, updated_at)"
                    " VALUES ('sub_old', 'active', 500, 'eur', false, :t, :t)"
                ),
                stamp,
            )
        command.upgrade(config, "0003_annual_gifts")
        with engine.begin() as connection:
            assert connection.scalar(text("SELECT interval FROM monthly_donations")) == "month"
            connection.execute(
                text(
                    "INSERT INTO donations (frequency, status, amount_minor,"
                    " amount_refunded_minor, currency, paid_at, created_at, updated_at)"
                    " VALUES ('annual', 'succeeded', 5000, 0, 'eur', :t, :t, :t)"
                ),
                stamp,
            )
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE monthly_donations SET interval = 'week'"))
    finally:
        engine.dispose()
