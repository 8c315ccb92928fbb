"""When Stripe fails, the reader gets a plain 502 and the attempt is kept, marked failed.

These tests use an app that commits for real, to prove the failed attempt survives the
502 (the request's own transaction is rolled back on error responses).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select

from service.ledger.models import AttemptStatus, Donation, MonthlyDonation, Supporter
from tests.donations.helpers import count_attempts, only_attempt, sandbox_sessions
from tests.live import reserve_port

VALID = {"frequency": "monthly", "amount": 1000, "currency": "eur"}
PLAIN_MESSAGE = (
    "We could not reach our payment provider, so nothing was charged. Please try again in a moment."
)


def _assert_failed_and_nothing_else(engine: Engine) -> None:
    attempt = only_attempt(engine)
    assert attempt["status"] == AttemptStatus.FAILED.value
    assert attempt["stripe_checkout_session_id"] is None
    assert attempt["error"]
    with engine.connect() as connection:
        for model in (Donation, MonthlyDonation, Supporter):
            assert connection.scalar(select(func.count()).select_from(model)) == 0


@pytest.mark.parametrize("status", [503, 400, 401])
def test_stripe_error_answers_502_and_keeps_the_failed_attempt(
    sandbox_live_app: Flask, sandbox: Any, engine: Engine, status: int
) -> None:
    sandbox.state.set_fault("error", status=status)

    response = sandbox_live_app.test_client().post("/api/v1/checkout", json=VALID)

    assert response.status_code == 502
    assert response.get_json()["message"] == PLAIN_MESSAGE
    _assert_failed_and_nothing_else(engine)
    sandbox.state.clear_fault()
    assert sandbox_sessions(sandbox) == []


@pytest.fixture
def live_app_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", {})


@pytest.mark.parametrize("live_app_overrides", [{"stripe_timeout_seconds": 0.3}], indirect=True)
def test_stripe_timing_out_answers_502(
    sandbox_live_app: Flask, sandbox: Any, engine: Engine, live_app_overrides: dict[str, Any]
) -> None:
    sandbox.state.set_fault("slow", seconds=1.0)

    response = sandbox_live_app.test_client().post("/api/v1/checkout", json=VALID)

    assert response.status_code == 502
    assert response.get_json()["message"] == PLAIN_MESSAGE
    _assert_failed_and_nothing_else(engine)


@pytest.mark.parametrize(
    "live_app_overrides", [{"stripe_api_base": f"http://127.0.0.1:{reserve_port()}"}], indirect=True
)
def test_stripe_refusing_connections_answers_502(
    sandbox_live_app: Flask, engine: Engine, live_app_overrides: dict[str, Any]
) -> None:
    response = sandbox_live_app.test_client().post("/api/v1/checkout", json=VALID)

    assert response.status_code == 502
    assert response.get_json()["message"] == PLAIN_MESSAGE
    _assert_failed_and_nothing_else(engine)


def test_the_form_shows_a_plain_message_when_stripe_fails(
    sandbox_live_app: Flask, sandbox: Any, engine: Engine
) -> None:
    sandbox.state.set_fault("error", status=500)

    response = sandbox_live_app.test_client().post(
        "/support/checkout", data={"frequency": "monthly", "amount_monthly": "1000"}
    )

    assert response.status_code == 502
    assert "nothing was charged" in response.get_data(as_text=True)
    _assert_failed_and_nothing_else(engine)


def test_a_failed_attempt_submitted_again_is_retried_as_a_new_attempt(
    sandbox_live_app: Flask, sandbox: Any, engine: Engine
) -> None:
    client = sandbox_live_app.test_client()
    form = {
        "frequency": "monthly",
        "amount_monthly": "1000",
        "attempt": "1" * 8 + "-1111-4111-8111-" + "1" * 12,
    }
    sandbox.state.set_fault("error", status=500, count=3)
    assert client.post("/support/checkout", data=form).status_code == 502

    retried = client.post("/support/checkout", data=form)

    assert retried.status_code == 303
    assert count_attempts(engine) == 2
    assert len(sandbox_sessions(sandbox)) == 1


def test_the_same_attempt_sent_twice_at_once_opens_one_session(
    sandbox_server: Any, sandbox: Any, engine: Engine
) -> None:
    import json
    import threading
    import urllib.request
    import uuid

    key = str(uuid.uuid4())
    results: list[dict[str, Any]] = []
    start = threading.Barrier(2)

    def post() -> None:
        request = urllib.request.Request(
            f"{sandbox_server.url}/api/v1/checkout",
            data=json.dumps(VALID).encode(),
            headers={"Content-Type": "application/json", "Idempotency-Key": key},
        )
        start.wait()
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=30) as response:
            results.append({"status": response.status, **json.loads(response.read())})

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r["status"] for r in results] == [201, 201]
    assert results[0]["session_id"] == results[1]["session_id"]
    assert len(sandbox_sessions(sandbox)) == 1
    assert count_attempts(engine) == 1
