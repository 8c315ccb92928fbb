"""No secret ever reaches a log: Stripe key, webhook secret, SECRET_KEY, staff passwords.

Real flows run against a live server and the sandbox with every logger at DEBUG and the
stripe package's own debug output switched on; everything logged or printed is searched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe
from flask import Flask

from service.core.extensions import db
from service.staff.accounts import create_staff_user
from service.staff.models import StaffRole
from stripe_sandbox.server import SandboxServer
from tests.conftest import TEST_SECRET_KEY, TEST_STRIPE_KEY, TEST_WEBHOOK_SECRET, make_test_app
from tests.live import LiveServer
from tests.stripe_fixtures import checked_sandbox

STAFF_PASSWORD = "staff-password-" + "p" * 16
SECRETS = (TEST_STRIPE_KEY, TEST_WEBHOOK_SECRET, TEST_SECRET_KEY, STAFF_PASSWORD)


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
    """Every logger at DEBUG, and the stripe package printing its own debug lines."""
    monkeypatch.setattr(stripe, "log", "debug")
    caplog.set_level(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    levels = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield
    for logger, level in levels:
        logger.setLevel(level)


def _sign(body: bytes, secret: str) -> str:
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _sign_in(http: requests.Session, base: str, password: str) -> requests.Response:
    page = http.get(f"{base}/staff/sign-in").text
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    return http.post(
        f"{base}/staff/sign-in",
        data={"email": "editor@paper.example", "password": password, "csrf_token": token},
        allow_redirects=False,
    )


@pytest.mark.usefixtures("everything_at_debug")
def test_real_flows_log_no_secret(
    live_app: Flask,
    live_server: LiveServer,
    sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    base = live_server.url
    with live_app.app_context():
        create_staff_user(db.session, "editor@paper.example", STAFF_PASSWORD, StaffRole.ADMIN)
        db.session.commit()
    donation = {"frequency": "monthly", "amount": 1000, "currency": "eur"}
    with requests.Session() as http:
        # Checkout: one that works, then Stripe failing in two ways.
        assert http.post(f"{base}/api/v1/checkout", json=donation).status_code == 201
        sandbox.state.set_fault("error", status=500)
        assert http.post(f"{base}/api/v1/checkout", json=donation).status_code == 502
        sandbox.state.set_fault("error", status=401)
        assert http.post(f"{base}/api/v1/checkout", json=donation).status_code == 502
        sandbox.state.clear_fault()

        # Webhooks: a forged one and a genuine one about somebody else's object.
        event = {
            "id": "evt_logs_1",
            "object": "event",
            "type": "charge.refunded",
            "created": int(time.time()),
            "data": {"object": {"id": "ch_1", "object": "charge", "metadata": {}}},
        }
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json"}
        forged = _sign(body, "whsec_forged")
        response = http.post(
            f"{base}/webhooks/stripe", data=body, headers={**headers, "Stripe-Signature": forged}
        )
        assert response.status_code == 400
        genuine = _sign(body, TEST_WEBHOOK_SECRET)
        response = http.post(
            f"{base}/webhooks/stripe", data=body, headers={**headers, "Stripe-Signature": genuine}
        )
        assert response.status_code == 200

        # Staff: a wrong password, then the right one.
        assert _sign_in(http, base, STAFF_PASSWORD[:-1] + "x").status_code == 200
        assert _sign_in(http, base, STAFF_PASSWORD).status_code == 302

    out, err = capfd.readouterr()
    logged = "\n".join(
        [caplog.text, out, err, *(record.exc_text or "" for record in caplog.records)]
    )
    # The capture really saw the flows, down to the stripe package's debug lines.
    assert "Request to Stripe api" in logged and "Post details" in logged
    assert "stripe error while creating a checkout session" in logged
    for secret in SECRETS:
        assert secret not in logged


@pytest.mark.parametrize(
    "logger_name",
    ["service.donations.checkout", "stripe", "urllib3.connectionpool", "werkzeug", "root"],
)
def test_a_secret_logged_by_any_logger_is_masked_in_every_handler(
    database_url: str,
    logger_name: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    make_test_app(database_url)  # installs the redaction, as every process of ours does
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger(None if logger_name == "root" else logger_name)
    # Flask's default handler on the app's logger writes to stderr, outside caplog.
    flask_logger = logging.getLogger("service")
    logger.warning("key %s, webhook secret %s", TEST_STRIPE_KEY, TEST_WEBHOOK_SECRET)
    logger.warning(f"Authorization: Bearer {TEST_STRIPE_KEY}")
    try:
        raise RuntimeError(f"Stripe said: invalid key {TEST_STRIPE_KEY}")
    except RuntimeError:
        logger.exception("call failed")
        flask_logger.exception("call failed")
    out, err = capfd.readouterr()
    logged = "\n".join([caplog.text, out, err])
    assert "[redacted]" in logged
    for secret in (TEST_STRIPE_KEY, TEST_WEBHOOK_SECRET):
        assert secret not in logged
