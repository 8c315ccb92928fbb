"""The inbox: each event applied once, however often and however concurrently it arrives;
a failing handler leaves the event failed (and nothing else) for a later delivery."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from service.core.jobs import Job, JobStatus
from service.ledger.inbox import replay_event
from service.ledger.models import (
    Donation,
    EventOutcome,
    MonthlyDonation,
    StripeCustomer,
    StripeEvent,
    Supporter,
)
from service.ledger.supporters import count_supporters
from stripe_sandbox import SandboxServer
from tests.conftest import drain_jobs, later, make_test_app, truncate_all
from tests.ledger.conftest import QuickLiveServer, pay
from tests.ledger.stripe_events import (
    body_of,
    charge_for,
    deliver,
    dispute_for,
    event,
    one_off_session,
    outcome_of,
    refunded,
    sign,
    stripe_object,
)
from tests.live import LiveServer


def _count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _job(session: Session, evt: dict[str, Any]) -> Job:
    """The job that applies an event."""
    return session.scalars(
        select(Job)
        .where(Job.key == f"stripe-event:{evt['id']}")
        .execution_options(populate_existing=True)
    ).one()


def test_the_same_event_ten_times_in_a_row_has_one_effect(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    evt = event("checkout.session.completed", one_off_session(amount=1500))

    responses = [deliver(client, evt) for _ in range(10)]

    assert [r.status_code for r in responses] == [200] * 10
    assert [r.json["duplicate"] for r in responses] == [False] + [True] * 9
    # Stored and queued by the first; applied by the worker before the second arrived.
    assert [r.json["outcome"] for r in responses] == ["pending"] + ["applied"] * 9
    assert _count(session, Donation) == 1
    assert _count(session, Supporter) == 1
    row = session.scalars(select(StripeEvent)).one()
    assert (row.stripe_event_id, row.outcome, row.attempts) == (evt["id"], EventOutcome.APPLIED, 1)
    assert row.type == "checkout.session.completed"
    assert row.processed_at is not None
    assert row.payload["id"] == evt["id"]
    assert count_supporters(session, app.extensions["settings"]) == 1


def test_a_refund_delivered_repeatedly_refunds_once(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    checkout = one_off_session(amount=1000)
    charge = charge_for(checkout)
    deliver(client, event("checkout.session.completed", checkout))
    refund_event = event("charge.refunded", refunded(charge, 400))

    for _ in range(10):
        assert deliver(client, refund_event).status_code == 200

    donation = session.scalars(select(Donation)).one()
    assert donation.amount_refunded_minor == 400
    assert count_supporters(session, app.extensions["settings"]) == 1


def test_objects_without_our_marker_are_acknowledged_and_ignored(
    client: FlaskClient, session: Session
) -> None:
    foreign = one_off_session(metadata={"shop": "t-shirts"})
    evt = event("checkout.session.completed", foreign)

    response = deliver(client, evt)

    assert response.status_code == 200
    assert outcome_of(session, evt) is EventOutcome.IGNORED
    assert _count(session, Donation) == 0
    assert _count(session, Supporter) == 0
    assert session.scalars(select(StripeEvent.outcome)).one() is EventOutcome.IGNORED


def test_event_types_we_do_not_handle_are_kept_as_ignored(
    client: FlaskClient, session: Session
) -> None:
    evt = event("customer.created", stripe_object("customer"))

    response = deliver(client, evt)

    assert response.status_code == 200
    assert outcome_of(session, evt) is EventOutcome.IGNORED


def test_an_event_about_an_object_stripe_does_not_have_is_ignored_not_retried(
    client: FlaskClient, session: Session
) -> None:
    # A dispute on a charge we never recorded and Stripe answers 404 for: no retry can
    # ever apply it, so Stripe must get a 2xx instead of retrying for days.
    unknown_charge = charge_for(one_off_session())
    evt = event("charge.dispute.created", dispute_for(unknown_charge))

    response = deliver(client, evt)

    assert response.status_code == 200
    assert outcome_of(session, evt) is EventOutcome.IGNORED
    row = session.scalars(select(StripeEvent)).one()
    assert row.outcome is EventOutcome.IGNORED
    assert row.error is not None and row.error.startswith("not found at Stripe")
    assert _count(session, Donation) == 0


def test_a_live_mode_event_never_touches_a_test_mode_ledger(
    client: FlaskClient, session: Session
) -> None:
    live = event("checkout.session.completed", one_off_session(), livemode=True)

    response = deliver(client, live)

    assert response.status_code == 200
    assert outcome_of(session, live) is EventOutcome.IGNORED
    assert session.scalars(select(StripeEvent.error)).one() == (
        "livemode does not match this deployment's Stripe key"
    )
    assert _count(session, Donation) == 0


def _monthly_checkout_completed(sandbox: SandboxServer, settings: Any) -> dict[str, Any]:
    """A reader's monthly gift paid in the sandbox: its checkout.session.completed event.

    Applying it links the supporter (a write) and then fetches the subscription from
    Stripe, so a Stripe outage makes it fail (in the dry run that gathers Stripe's
    answers, before the real run writes anything).
    """
    pay(sandbox, settings, frequency="monthly")
    return next(e for e in sandbox.events if e["type"] == "checkout.session.completed")


def _stripe_down(sandbox: SandboxServer) -> None:
    """Every API request answers 500 until the fault is cleared."""
    sandbox.state.set_fault("error", status=500)


def test_a_handler_that_raises_keeps_the_event_failed_and_changes_nothing(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    evt = _monthly_checkout_completed(sandbox, app.extensions["settings"])
    _stripe_down(sandbox)

    response = deliver(client, evt)

    assert response.status_code == 200, "stored: its job retries, not Stripe"
    row = session.scalars(select(StripeEvent)).one()
    assert row.outcome is EventOutcome.FAILED
    assert row.error == "GatewayError: Stripe refused while fetching a subscription"
    assert row.attempts == 1
    assert _count(session, MonthlyDonation) == 0
    assert _count(session, Supporter) == 0, "the handler's own writes were rolled back"
    assert _count(session, StripeCustomer) == 0
    assert _job(session, evt).status is JobStatus.FAILED

    sandbox.state.clear_fault()
    redelivered = deliver(client, evt)
    assert (redelivered.status_code, redelivered.json["duplicate"]) == (200, True)
    assert drain_jobs(app) == 0, "the retry waits for its backoff"
    assert drain_jobs(app, clock=later()) == 1

    session.refresh(row)
    assert (row.outcome, row.error, row.attempts) == (EventOutcome.APPLIED, None, 2)
    assert _job(session, evt).status is JobStatus.DONE
    assert _count(session, MonthlyDonation) == 1
    assert _count(session, Supporter) == 1


def test_staff_replay_applies_a_failed_event(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    evt = _monthly_checkout_completed(sandbox, app.extensions["settings"])
    _stripe_down(sandbox)
    assert deliver(client, evt).status_code == 200
    sandbox.state.clear_fault()
    row = session.scalars(select(StripeEvent)).one()
    assert row.outcome is EventOutcome.FAILED

    outcome = replay_event(session, row, app.extensions["settings"])

    assert outcome is EventOutcome.PENDING
    assert _count(session, MonthlyDonation) == 0, "queued, not applied in the request"
    assert drain_jobs(app) == 1, "due at once, not after its backoff"
    assert outcome_of(session, evt) is EventOutcome.APPLIED
    assert _count(session, MonthlyDonation) == 1
    # Replaying an applied event is a no-op.
    assert replay_event(session, row, app.extensions["settings"]) is EventOutcome.APPLIED
    assert _count(session, MonthlyDonation) == 1


@pytest.fixture
def live_app(database_url: str, sandbox: SandboxServer) -> Flask:
    """The app behind `live_service`, talking to the sandbox for every fetch."""
    return make_test_app(database_url, stripe_api_base=sandbox.url)


@pytest.fixture
def live_service(live_app: Flask, engine: Engine) -> Iterator[QuickLiveServer]:
    """The service over HTTP on the run's database (SQLite or PostgreSQL), really committing."""
    app = live_app
    try:
        with QuickLiveServer(app) as server:
            yield server
    finally:
        app.extensions["database"]["engine"].dispose()
        truncate_all(engine)


def _post(url: str, payload: bytes, header: str) -> int:
    request = urllib.request.Request(
        f"{url}/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_concurrent_duplicate_deliveries_have_one_effect_and_all_get_2xx(
    live_app: Flask, live_service: LiveServer, engine: Engine
) -> None:
    payload = body_of(event("checkout.session.completed", one_off_session(amount=2000)))
    header = sign(payload)
    start = threading.Barrier(8)
    statuses: list[int] = []

    def post() -> None:
        start.wait()
        statuses.append(_post(live_service.url, payload, header))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 8
    drain_jobs(live_app, threads=4)
    with Session(engine) as session:
        kinds = session.scalars(select(Job.kind).where(Job.key.startswith("stripe-event:")))
        assert list(kinds) == ["ledger.apply-stripe-event"], "one event, one job"
        assert _count(session, StripeEvent) == 1
        assert _count(session, Donation) == 1
        assert _count(session, Supporter) == 1
        row = session.scalars(select(StripeEvent)).one()
        assert (row.outcome, row.attempts) == (EventOutcome.APPLIED, 1)


def test_a_failure_over_http_is_committed_as_failed_and_its_retry_applies_it_once(
    live_app: Flask, live_service: LiveServer, engine: Engine, sandbox: SandboxServer
) -> None:
    evt = _monthly_checkout_completed(sandbox, live_app.extensions["settings"])
    payload = body_of(evt)
    _stripe_down(sandbox)

    assert _post(live_service.url, payload, sign(payload)) == 200
    drain_jobs(live_app)
    with Session(engine) as session:
        row = session.scalars(select(StripeEvent)).one()
        assert row.outcome is EventOutcome.FAILED
        assert "GatewayError" in (row.error or "")
        assert _count(session, MonthlyDonation) == 0
        assert _count(session, Supporter) == 0

    sandbox.state.clear_fault()
    assert _post(live_service.url, payload, sign(payload)) == 200
    assert _post(live_service.url, payload, sign(payload)) == 200
    drain_jobs(live_app, threads=4, clock=later())
    with Session(engine) as session:
        row = session.scalars(select(StripeEvent)).one()
        assert (row.outcome, row.attempts) == (EventOutcome.APPLIED, 2)
        assert _count(session, MonthlyDonation) == 1


def test_a_gifts_different_events_delivered_all_at_once_settle_correctly(
    database_url: str, engine: Engine, sandbox: SandboxServer
) -> None:
    app = make_test_app(database_url, stripe_api_base=sandbox.url)
    try:
        with QuickLiveServer(app) as server:
            settings = app.extensions["settings"]
            donor = pay(sandbox, settings, frequency="monthly", email="busy@example.com")
            pay(sandbox, settings, email="busy@example.com")
            assert donor.subscription_id
            sandbox.sim.renew_subscription(donor.subscription_id, "paid")
            bodies = [sandbox.webhooks.signed(e["id"]) for e in sandbox.events]
            statuses: dict[int, int] = {}
            start = threading.Barrier(len(bodies))

            def post(index: int) -> None:
                body, headers = bodies[index]
                start.wait()
                statuses[index] = _post(server.url, body, headers["Stripe-Signature"])

            threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            # As Stripe would: deliver again whatever did not get a 2xx.
            retried = [i for i, status in statuses.items() if status != 200]
            for index in retried:
                body, headers = bodies[index]
                assert _post(server.url, body, headers["Stripe-Signature"]) == 200
            # Workers apply them concurrently, in whatever order they claim them.
            assert drain_jobs(app, threads=4) >= len(bodies)

        with Session(engine) as session:
            assert _count(session, StripeEvent) == len(bodies)
            assert _count(session, Supporter) == 1
            assert _count(session, Donation) == 3
            assert count_supporters(session, settings) == 1
            assert all(
                outcome in (EventOutcome.APPLIED, EventOutcome.IGNORED)
                for outcome in session.scalars(select(StripeEvent.outcome))
            )
    finally:
        app.extensions["database"]["engine"].dispose()
        truncate_all(engine)


def test_a_poison_event_is_dead_after_ten_tries_and_the_others_keep_flowing(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    # Ours, paid, and an amount no handler can read: every try fails the same way.
    poison = event("checkout.session.completed", one_off_session() | {"amount_total": "lots"})
    assert deliver(client, poison, check_contract=False).status_code == 200

    for tries in range(2, 11):
        good = event("checkout.session.completed", one_off_session(amount=100 * tries))
        deliver(client, good)
        assert outcome_of(session, good) is EventOutcome.APPLIED
        # Each retry is due only after its backoff (at most an hour): a worker whose clock
        # reads 2 hours further on each time makes one try.
        drain_jobs(app, clock=later(timedelta(hours=2 * tries)))

    job = _job(session, poison)
    assert (job.status, job.attempts) == (JobStatus.DEAD, 10)
    assert job.last_error is not None and job.last_error.startswith("ValueError")
    row = session.scalars(
        select(StripeEvent).where(StripeEvent.stripe_event_id == poison["id"])
    ).one()
    assert (row.outcome, row.attempts) == (EventOutcome.FAILED, 10)
    assert row.error == job.last_error
    assert _count(session, Donation) == 9
    drain_jobs(app, clock=later(timedelta(hours=40)))
    session.refresh(job)
    assert (job.status, job.attempts) == (JobStatus.DEAD, 10), "dead stays dead"

    # Staff see it at /staff/jobs; a retry there (or a replay) runs it again.
    assert replay_event(session, row, app.extensions["settings"]) is EventOutcome.PENDING
    assert _job(session, poison).status is JobStatus.QUEUED


def test_the_replay_command_queues_failed_events_for_the_worker(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    evt = _monthly_checkout_completed(sandbox, app.extensions["settings"])
    _stripe_down(sandbox)
    deliver(client, evt)
    sandbox.state.clear_fault()
    assert outcome_of(session, evt) is EventOutcome.FAILED
    runner = app.test_cli_runner()

    refused = runner.invoke(args=["replay-events", "evt_nobody"])
    assert refused.exit_code != 0 and "no such event in the inbox: evt_nobody" in refused.output
    result = runner.invoke(args=["replay-events", "--failed"])

    assert result.exit_code == 0, result.output
    assert f"{evt['id']} (checkout.session.completed): pending" in result.output
    assert "1 queued for the worker" in result.output
    assert outcome_of(session, evt) is EventOutcome.PENDING
    drain_jobs(app)
    assert outcome_of(session, evt) is EventOutcome.APPLIED
    assert _count(session, MonthlyDonation) == 1


def test_the_endpoint_stores_and_queues_without_calling_stripe_or_applying(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    evt = _monthly_checkout_completed(sandbox, app.extensions["settings"])
    calls_before = len(sandbox.state.exchanges)

    response = deliver(client, evt, drain=False)

    assert response.status_code == 200
    assert response.json == {
        "received": True,
        "event": evt["id"],
        "outcome": "pending",
        "duplicate": False,
    }
    assert len(sandbox.state.exchanges) == calls_before, "no Stripe call in the request"
    row = session.scalars(select(StripeEvent)).one()
    assert (row.outcome, row.attempts, row.processed_at) == (EventOutcome.PENDING, 0, None)
    job = _job(session, evt)
    assert (job.kind, job.status, job.payload) == (
        "ledger.apply-stripe-event",
        JobStatus.QUEUED,
        {"event": evt["id"]},
    )
    assert _count(session, Supporter) == 0, "nothing applied in the request"
    # The worker applies it, calling Stripe then.
    drain_jobs(app)
    assert outcome_of(session, evt) is EventOutcome.APPLIED
    assert len(sandbox.state.exchanges) > calls_before
