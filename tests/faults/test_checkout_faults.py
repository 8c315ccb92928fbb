"""Stripe slow, failing or unreachable while a reader starts checkout.

The reader gets a 502 with a plain sentence; our attempt row is kept and marked failed;
no other table gains a row but the attempt's resolution job.
(tests/donations/test_stripe_failures.py checks the same faults for the ledger tables and
the form; here every table is checked, and the answer's shape.)
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select

from service.core.jobs import Job
from service.core.models import Base
from service.donations.stale_attempts import RESOLVE_KIND
from service.ledger.models import AttemptStatus, CheckoutAttempt
from tests.live import reserve_port

DONATION = {"frequency": "one_off", "amount": 2500, "currency": "eur"}
FAULTS = {
    # Slower than the gateway's read timeout (0.3 s here), on every retry too.
    "slow": {"fault": ("slow", {"seconds": 1.5}), "overrides": {"stripe_timeout_seconds": 0.3}},
    "500": {"fault": ("error", {"status": 500}), "overrides": {}},
    "refusing connections": {
        "fault": None,
        "overrides": {"stripe_api_base": f"http://127.0.0.1:{reserve_port()}"},
    },
}


@pytest.fixture
def live_app_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    overrides: dict[str, Any] = FAULTS[request.param]["overrides"]
    return overrides


@pytest.mark.parametrize("live_app_overrides", list(FAULTS), indirect=True)
def test_a_stripe_fault_answers_502_marks_the_attempt_failed_and_writes_nothing_else(
    request: pytest.FixtureRequest, sandbox_live_app: Flask, sandbox: Any, engine: Engine
) -> None:
    fault = FAULTS[request.node.callspec.params["live_app_overrides"]]["fault"]
    if fault is not None:
        mode, options = fault
        sandbox.state.set_fault(mode, **options)

    response = sandbox_live_app.test_client().post(
        "/api/v1/checkout", json=DONATION, headers={"Origin": "https://news.example"}
    )
    sandbox.state.clear_fault()

    assert response.status_code == 502
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) >= {"code", "status", "message"} and body["code"] == 502
    message = body["message"]
    assert "nothing was charged" in message
    for leak in ("Traceback", "stripe.", "Error", "http://", "sk_test_", "127.0.0.1"):
        assert leak not in message
    # The widget on the publisher's page can read the 502 and show the sentence.
    assert response.headers["Access-Control-Allow-Origin"] == "https://news.example"

    with engine.connect() as connection:
        attempts = connection.execute(select(CheckoutAttempt.__table__)).mappings().all()
        jobs = connection.execute(select(Job.kind, Job.key)).all()
        others = {
            table.name: connection.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
            if table.name not in {CheckoutAttempt.__tablename__, Job.__tablename__}
        }
    assert len(attempts) == 1
    assert attempts[0]["status"] == AttemptStatus.FAILED.value
    assert attempts[0]["error"] and attempts[0]["stripe_checkout_session_id"] is None
    assert (attempts[0]["amount_minor"], attempts[0]["currency"]) == (2500, "eur")
    assert {name: n for name, n in others.items() if n} == {}
    # Only the job that will resolve the attempt if it were left half-done.
    assert [tuple(job) for job in jobs] == [
        (RESOLVE_KIND, f"resolve-attempt:{attempts[0]['public_id']}")
    ]
    sessions = sandbox.state.objects("checkout.session")
    if fault is not None and fault[0] == "slow":
        # Stripe may finish what we gave up waiting for: that session is traceable to the
        # failed attempt, and nobody has its URL, so it can only expire unpaid.
        assert {s["client_reference_id"] for s in sessions} <= {attempts[0]["public_id"]}
    else:
        assert sessions == []
