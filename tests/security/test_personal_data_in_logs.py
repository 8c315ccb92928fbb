"""No reader's personal data in any log: SQL parameters hidden, emails and names masked.

A full flow runs against a live server with every logger at DEBUG (SQLAlchemy's engine
logger too): a checkout with an email, Stripe's debug output, a webhook about the
reader, and a database error in the middle of a request. The reader's email appears
nowhere in what was logged or printed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe
from flask import Flask
from sqlalchemy import Engine, text

from service.core.logging_setup import redact
from stripe_sandbox.server import SandboxServer
from tests.conftest import make_test_app
from tests.live import LiveServer
from tests.stripe_fixtures import checked_sandbox

READER_EMAIL = "jane.reader@mail.example"
READER_NAME = "Jane Quietreader"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with checked_sandbox(deliver_webhooks=False) as server:
        yield server


@pytest.fixture
def live_app_overrides(sandbox: SandboxServer) -> dict[str, Any]:
    return {
        "stripe_api_base": sandbox.url,
        "log_level": "DEBUG",
        "checkout_rate_limit": "1000 per minute",
    }


@pytest.fixture
def everything_at_debug(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every logger at DEBUG, SQLAlchemy's statements and the stripe package's lines too."""
    monkeypatch.setattr(stripe, "log", "debug")
    caplog.set_level(logging.DEBUG)
    names = [*logging.root.manager.loggerDict, "sqlalchemy.engine"]
    loggers = [logging.getLogger(name) for name in names]
    levels = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield
    for logger, level in levels:
        logger.setLevel(level)


@pytest.fixture
def attempts_refused(engine: Engine, is_postgres: bool) -> Iterator[None]:
    """Make the database refuse every new checkout attempt, as a failing disk or a bug would."""
    with engine.begin() as connection:
        if is_postgres:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse_attempt() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_attempt BEFORE INSERT ON checkout_attempts "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_attempt()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_attempt BEFORE INSERT ON checkout_attempts "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
    try:
        yield
    finally:
        with engine.begin() as connection:
            drop = "DROP TRIGGER refuse_attempt" + (" ON checkout_attempts" if is_postgres else "")
            connection.execute(text(drop))
            if is_postgres:
                connection.execute(text("DROP FUNCTION refuse_attempt()"))


@pytest.mark.usefixtures("everything_at_debug")
def test_a_full_flow_with_a_database_error_logs_no_reader_email(
    live_app: Flask,
    live_server: LiveServer,
    engine: Engine,
    is_postgres: bool,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    base = live_server.url
    donation = {"frequency": "monthly", "amount": 1000, "currency": "eur", "email": READER_EMAIL}
    with requests.Session() as http:
        assert http.post(f"{base}/api/v1/checkout", json=donation).status_code == 201
        request.getfixturevalue("attempts_refused")
        response = http.post(f"{base}/api/v1/checkout", json={**donation, "amount": 2000})
        assert response.status_code == 500

    out, err = capfd.readouterr()
    logged = "\n".join(
        [caplog.text, out, err, *(record.exc_text or "" for record in caplog.records)]
    )
    # The capture really saw the flow, the database error and the SQL.
    assert "refused by the test" in logged
    assert "INSERT INTO checkout_attempts" in logged
    assert "Post details" in logged
    for line in logged.splitlines():
        assert READER_EMAIL not in line, line
    assert READER_EMAIL.replace("@", "%40") not in logged


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (f"reader {READER_EMAIL} paid", "reader [email] paid"),
        ("customer_email=jane.reader%40mail.example&x=1", "customer_email=[email]&x=1"),
        (f"{{'name': '{READER_NAME}', 'id': 'cus_1'}}", "{'name': '[name]', 'id': 'cus_1'}"),
        (f'{{"name": "{READER_NAME}"}}', '{"name": "[name]"}'),
        ("customer_details[name]=Jane+Quietreader&b=2", "customer_details[name]=[name]&b=2"),
    ],
)
def test_emails_and_names_are_masked_in_log_lines(line: str, kept: str) -> None:
    assert redact(line) == kept


def test_every_engine_hides_sql_parameters(database_url: str) -> None:
    app = make_test_app(database_url)
    assert app.extensions["database"]["engine"].hide_parameters


def test_checkout_session_ids_are_masked_in_log_lines() -> None:
    assert redact("GET /support/thank-you?session_id=cs_test_a1B2c3") == (
        "GET /support/thank-you?session_id=cs_[redacted]"
    )
