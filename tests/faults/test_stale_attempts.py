"""Checkout attempts left half-done by a crash or an outage are resolved from Stripe's state.

Webhooks are not delivered here (as when they are lost), so only the resolution job, or
the sweep command, can move the attempts on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.core.jobs import Job, JobStatus
from service.core.models import utcnow
from service.donations.checkout import DonationRequest, record_checkout_attempt
from service.donations.stale_attempts import AFTER_EXPIRY, NEVER_OPENED, RESOLVE_KIND
from service.ledger.models import AttemptStatus, CheckoutAttempt, Frequency
from tests.conftest import drain_jobs
from tests.stripe_fixtures import sandbox_overrides


@pytest.fixture
def app_overrides(sandbox: Any) -> dict[str, Any]:
    return sandbox_overrides(sandbox, checkout_rate_limit="100 per minute")


def _start(client: FlaskClient) -> str:
    response = client.post(
        "/api/v1/checkout", json={"frequency": "one_off", "amount": 1500, "currency": "eur"}
    )
    assert response.status_code == 201
    return str(response.get_json()["session_id"])


def _attempt(session: Session, session_id: str) -> CheckoutAttempt:
    session.expire_all()
    return session.scalars(
        select(CheckoutAttempt).where(CheckoutAttempt.stripe_checkout_session_id == session_id)
    ).one()


def _never_opened(session: Session) -> CheckoutAttempt:
    """An attempt recorded as a request does before calling Stripe, which then died."""
    attempt = record_checkout_attempt(
        session, DonationRequest(frequency=Frequency.MONTHLY, amount_minor=500, currency="eur")
    )
    session.commit()
    return attempt


def _later(hours: float) -> Any:
    return lambda: utcnow() + timedelta(hours=hours)


def test_each_attempt_is_resolved_from_stripe_an_hour_later(
    app: Flask, client: FlaskClient, session: Session, sandbox: Any
) -> None:
    paid, expired, still_open = _start(client), _start(client), _start(client)
    stuck = _never_opened(session)
    sandbox.sim.complete_checkout(paid, email="reader@example.com")
    with sandbox.state.lock:
        sandbox.state.live(expired)["status"] = "expired"

    # Every attempt carries its resolution job, due an hour after it was made.
    jobs = session.scalars(select(Job).where(Job.kind == RESOLVE_KIND)).all()
    assert len(jobs) == 4
    for job in jobs:
        assert abs(job.run_at - job.created_at - timedelta(hours=1)) < timedelta(seconds=2)
    assert drain_jobs(app) == 0
    assert _attempt(session, paid).status is AttemptStatus.SESSION_CREATED

    assert drain_jobs(app, clock=_later(1.1)) == 4

    assert _attempt(session, paid).status is AttemptStatus.COMPLETED
    assert _attempt(session, expired).status is AttemptStatus.EXPIRED
    assert _attempt(session, still_open).status is AttemptStatus.SESSION_CREATED
    session.refresh(stuck)
    assert (stuck.status, stuck.error) == (AttemptStatus.FAILED, NEVER_OPENED)
    # The open one is looked at again once Stripe has expired it.
    follow_up = session.scalars(
        select(Job).where(Job.kind == RESOLVE_KIND, Job.status == JobStatus.QUEUED)
    ).one()
    expires_at = datetime.fromtimestamp(sandbox.state.get(still_open)["expires_at"], UTC)
    assert follow_up.run_at == expires_at + AFTER_EXPIRY
    assert follow_up.payload["check"] == 2

    with sandbox.state.lock:
        sandbox.state.live(still_open)["status"] = "expired"
    assert drain_jobs(app, clock=_later(25)) == 1
    assert _attempt(session, still_open).status is AttemptStatus.EXPIRED


def test_the_job_leaves_an_attempt_a_webhook_has_moved_on(
    app: Flask, client: FlaskClient, session: Session, sandbox: Any
) -> None:
    session_id = _start(client)
    session.execute(update(CheckoutAttempt).values(status=AttemptStatus.COMPLETED))
    session.commit()
    with sandbox.state.lock:
        sandbox.state.live(session_id)["status"] = "expired"
    assert drain_jobs(app, clock=_later(2)) == 1
    assert _attempt(session, session_id).status is AttemptStatus.COMPLETED


def test_stripe_down_leaves_the_job_to_retry(
    app: Flask, client: FlaskClient, session: Session, sandbox: Any
) -> None:
    session_id = _start(client)
    sandbox.sim.complete_checkout(session_id, email="reader@example.com")
    sandbox.state.set_fault("error", status=500)
    assert drain_jobs(app, clock=_later(2)) == 1
    job = session.scalars(select(Job).where(Job.kind == RESOLVE_KIND)).one()
    session.refresh(job)
    assert job.status is JobStatus.FAILED and job.last_error
    assert _attempt(session, session_id).status is AttemptStatus.SESSION_CREATED

    sandbox.state.clear_fault()
    assert drain_jobs(app, clock=_later(4)) == 1
    assert _attempt(session, session_id).status is AttemptStatus.COMPLETED


def test_the_sweep_command_resolves_stale_attempts_without_jobs(
    app: Flask, client: FlaskClient, session: Session, sandbox: Any
) -> None:
    paid, still_open = _start(client), _start(client)
    stuck = _never_opened(session)
    sandbox.sim.complete_checkout(paid, email="reader@example.com")
    # Attempts from before the resolution job existed, two hours old.
    session.execute(delete(Job))
    session.execute(update(CheckoutAttempt).values(updated_at=utcnow() - timedelta(hours=2)))
    session.commit()

    result = app.test_cli_runner().invoke(args=["sweep-attempts"])

    assert result.exit_code == 0, result.output
    assert "3 stale attempts: 2 resolved, 1 still open" in result.output
    assert _attempt(session, paid).status is AttemptStatus.COMPLETED
    assert _attempt(session, still_open).status is AttemptStatus.SESSION_CREATED
    session.refresh(stuck)
    assert stuck.status is AttemptStatus.FAILED
