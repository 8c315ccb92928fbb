"""Stripe failing, stalled or busy: readers get a fast, plain 503 and appeals keep answering.

The breaker (5 consecutive failures, then a cool-down, then one trial), the time budget of
a checkout, the per-process bulkhead of slots for Stripe calls, the database away at
checkout, and a Redis outage that must not break checkout.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select

from service.ledger.models import CheckoutAttempt
from tests.faults.switch import app_without_database
from tests.live import reserve_port

DONATION = {"frequency": "one_off", "amount": 2500, "currency": "eur"}
ORIGIN = {"Origin": "https://news.example"}
UNAVAILABLE = "Donations are briefly unavailable, please try again in a minute."


@pytest.fixture
def live_app_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    overrides = {"stripe_breaker_cooldown_seconds": 1.0, "checkout_rate_limit": "1000 per minute"}
    overrides.update(getattr(request, "param", {}))
    return overrides


def _checkout(app: Flask) -> tuple[Any, float]:
    started = time.monotonic()
    response = app.test_client().post("/api/v1/checkout", json=DONATION, headers=ORIGIN)
    return response, time.monotonic() - started


def _attempts(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(CheckoutAttempt)) or 0)


def _assert_unavailable(response: Any, seconds: float) -> None:
    assert response.status_code == 503
    assert seconds < 0.5
    body = response.get_json()
    assert body["code"] == 503 and body["message"].startswith(UNAVAILABLE)
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Access-Control-Allow-Origin"] == "https://news.example"


def test_the_breaker_opens_after_five_failures_then_lets_one_trial_through(
    sandbox_live_app: Flask, sandbox: Any, engine: Engine
) -> None:
    # Five checkouts of two tries each, all answered 500.
    sandbox.state.set_fault("error", status=500, count=10)
    for _ in range(5):
        response, _ = _checkout(sandbox_live_app)
        assert response.status_code == 502
    assert sandbox.state.fault is None  # every injected failure was spent

    # Open: answered at once, nothing written, Stripe not called (it would say yes now).
    response, seconds = _checkout(sandbox_live_app)
    _assert_unavailable(response, seconds)
    status = sandbox_live_app.test_client().get("/api/v1/checkout/sessions/cs_test_x")
    assert status.status_code == 503
    assert _attempts(engine) == 5
    assert sandbox.state.objects("checkout.session") == []

    # After the cool-down one trial goes through; its success closes the breaker.
    time.sleep(1.1)
    response, _ = _checkout(sandbox_live_app)
    assert response.status_code == 201
    response, _ = _checkout(sandbox_live_app)
    assert response.status_code == 201

    # A failed trial opens it again at once.
    sandbox.state.set_fault("error", status=503, count=12)
    for _ in range(5):
        assert _checkout(sandbox_live_app)[0].status_code == 502
    time.sleep(1.1)
    assert _checkout(sandbox_live_app)[0].status_code == 502  # the trial
    response, seconds = _checkout(sandbox_live_app)
    _assert_unavailable(response, seconds)


def test_a_refusal_is_not_a_failure_of_stripe(sandbox_live_app: Flask, sandbox: Any) -> None:
    # Stripe answering 400s is Stripe up: the breaker stays closed.
    sandbox.state.set_fault("error", status=400, count=7)
    for _ in range(7):
        assert _checkout(sandbox_live_app)[0].status_code == 502
    assert _checkout(sandbox_live_app)[0].status_code == 201


@pytest.mark.parametrize(
    "live_app_overrides",
    [{"stripe_reader_budget_seconds": 2.0, "stripe_timeout_seconds": 20.0}],
    indirect=True,
)
def test_a_stalled_stripe_holds_a_checkout_no_longer_than_the_budget(
    sandbox_live_app: Flask, sandbox: Any
) -> None:
    # Both tries stall far past the budget; the reader has an answer within it.
    sandbox.state.set_fault("slow", seconds=4.0, count=2)
    response, seconds = _checkout(sandbox_live_app)
    assert response.status_code == 502
    assert seconds < 2.5


@pytest.mark.parametrize(
    "live_app_overrides",
    [{"stripe_reader_slots": 1}],
    indirect=True,
)
def test_a_full_bulkhead_answers_503_at_once_while_appeals_keep_answering(
    sandbox_live_app: Flask, sandbox: Any, engine: Engine
) -> None:
    # The first checkout holds the only slot while Stripe takes 1.5 s to answer.
    sandbox.state.set_fault("slow", seconds=1.5, count=1)
    first: list[Any] = []
    waiting = threading.Thread(target=lambda: first.append(_checkout(sandbox_live_app)))
    waiting.start()
    deadline = time.monotonic() + 5
    while sandbox.state.fault is not None and time.monotonic() < deadline:
        time.sleep(0.01)  # until the sandbox has taken the slow request

    response, seconds = _checkout(sandbox_live_app)
    _assert_unavailable(response, seconds)
    started = time.monotonic()
    appeals = sandbox_live_app.test_client().get("/api/v1/appeals?placements=top,bottom")
    assert appeals.status_code == 200 and time.monotonic() - started < 0.5
    assert waiting.is_alive()  # all of that while the first still waits on Stripe

    waiting.join(10)
    assert first[0][0].status_code == 201
    # The refused one wrote nothing; the slot is free again.
    assert _attempts(engine) == 1
    assert _checkout(sandbox_live_app)[0].status_code == 201


@pytest.mark.parametrize(
    "live_app_overrides",
    [{"redis_url": f"redis://127.0.0.1:{reserve_port()}/0"}],
    indirect=True,
)
def test_checkout_works_while_redis_is_away(sandbox_live_app: Flask) -> None:
    response, _ = _checkout(sandbox_live_app)
    assert response.status_code == 201


def test_checkout_answers_503_with_a_message_while_the_database_is_away(
    is_postgres: bool, tmp_path: Path
) -> None:
    app = app_without_database(is_postgres, str(tmp_path))
    response, _ = _checkout(app)
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.get_json()["message"].startswith(UNAVAILABLE)
    assert response.headers["Access-Control-Allow-Origin"] == "https://news.example"

    form = app.test_client().post(
        "/support/checkout", data={"frequency": "one_off", "amount_one_off": "2500"}
    )
    assert form.status_code == 503
    assert UNAVAILABLE in form.get_data(as_text=True)


def test_session_status_is_kept_per_session_and_rate_limited(
    sandbox_live_app: Flask, sandbox: Any
) -> None:
    created, _ = _checkout(sandbox_live_app)
    session_id = created.get_json()["session_id"]
    client = sandbox_live_app.test_client()
    first = client.get(f"/api/v1/checkout/sessions/{session_id}")
    # Stripe now fails, but the answer of a moment ago is reused rather than asked again.
    sandbox.state.set_fault("error", status=500)
    again = client.get(f"/api/v1/checkout/sessions/{session_id}")
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    sandbox.state.clear_fault()

    # Unknown ids are live calls too: one client gets 30 a minute, then 429.
    answers = [client.get(f"/api/v1/checkout/sessions/cs_test_{n}").status_code for n in range(28)]
    assert set(answers) == {404}
    assert client.get("/api/v1/checkout/sessions/cs_test_more").status_code == 429
