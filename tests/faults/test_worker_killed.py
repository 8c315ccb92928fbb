"""kill -9 the production server in the middle of a batch of webhooks; Stripe redelivers;
then kill -9 the job worker in the middle of applying them.

The service runs under gunicorn in its own processes, on the run's database. A batch of
real events (sandbox checkouts) is being delivered by 8 senders when every gunicorn
process is killed with SIGKILL: transactions in flight die with them. After a restart,
every event is delivered again (as Stripe does with unacknowledged ones, and more). The
endpoint only stores events; `flask worker` processes apply them, and the first is
killed with SIGKILL mid-batch: its jobs in hand are claimed again once their lease runs
out. Each event must end up applied exactly once and the ledger must add up.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from service import stripe_gateway
from service.core.settings import PROJECT_ROOT, Settings
from service.ledger.models import Donation, EventOutcome, MonthlyDonation, StripeEvent, Supporter
from stripe_sandbox.server import SandboxServer
from tests.conftest import TEST_STRIPE_KEY, TEST_WEBHOOK_SECRET, truncate_all
from tests.live import reserve_port

ONE_OFF, MONTHLY = 8, 4
SENDERS = 8


@pytest.fixture(scope="module")
def sandbox_with_events() -> Iterator[tuple[SandboxServer, int]]:
    """A sandbox that has recorded the events of 12 checkouts; and their total in cents."""
    with SandboxServer(
        deliver_webhooks=False, webhook_secret=TEST_WEBHOOK_SECRET, api_key=TEST_STRIPE_KEY
    ) as sandbox:
        settings = Settings(
            env="test", stripe_secret_key=TEST_STRIPE_KEY, stripe_api_base=sandbox.url
        ).validated()
        total = 0
        for index in range(ONE_OFF + MONTHLY):
            frequency = "one_off" if index < ONE_OFF else "monthly"
            amount = 500 + 100 * index
            attempt = str(uuid.uuid4())
            created = stripe_gateway.create_checkout_session(
                settings,
                attempt_id=attempt,
                frequency=frequency,
                amount_minor=amount,
                currency="eur",
                product_name="Donation",
                success_url="https://news.example/a",
                cancel_url="https://news.example/a",
                metadata=stripe_gateway.our_metadata(checkout_attempt=attempt, frequency=frequency),
            )
            result = sandbox.sim.complete_checkout(created.id, email=f"reader{index}@example.com")
            assert result.status == "succeeded"
            total += amount
        yield sandbox, total


@contextmanager
def gunicorn(database_url: str, sandbox_url: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The service under gunicorn in its own process group; yields its URL and the master."""
    port = reserve_port()
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "k" * 40,
        "STRIPE_SECRET_KEY": TEST_STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": TEST_WEBHOOK_SECRET,
        "STRIPE_API_BASE": sandbox_url,
        "LOG_LEVEL": "CRITICAL",
    }
    command = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
        "--worker-class", "gthread", "--threads", "4", "--log-level", "critical",
        "service:create_app()",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until_up(port, process)
        yield f"127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def _worker(database_url: str, sandbox_url: str) -> subprocess.Popen[bytes]:
    """`flask --app service worker` with 4 threads and a 3 s lease, in its own group."""
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "k" * 40,
        "STRIPE_SECRET_KEY": TEST_STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": TEST_WEBHOOK_SECRET,
        "STRIPE_API_BASE": sandbox_url,
        "LOG_LEVEL": "CRITICAL",
    }
    command = [
        sys.executable, "-m", "flask", "--app", "service", "worker", "--threads", "4",
        "--lease-seconds", "3", "--poll-seconds", "0.1",
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _settled(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count()).where(
                    StripeEvent.outcome.in_([EventOutcome.APPLIED, EventOutcome.IGNORED])
                )
            )
            or 0
        )


def _wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited while starting"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise AssertionError("gunicorn did not start")


def _signed(body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    digest = hmac.new(
        TEST_WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return {"Content-Type": "application/json", "Stripe-Signature": f"t={timestamp},v1={digest}"}


def _deliver(
    address: str, bodies: list[bytes], on_answer: Any = None
) -> tuple[dict[int, int], list[bytes]]:
    """Deliver every body once from 8 concurrent senders; the answers, and what got no 2xx."""
    host, port = address.split(":")
    statuses: dict[int, int] = {}
    unacknowledged: list[bytes] = []
    lock = threading.Lock()

    def send(share: list[bytes]) -> None:
        for body in share:
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                connection.request("POST", "/webhooks/stripe", body=body, headers=_signed(body))
                status = connection.getresponse().status
            except (OSError, http.client.HTTPException):
                with lock:
                    unacknowledged.append(body)
                continue
            finally:
                connection.close()
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status >= 300:
                    unacknowledged.append(body)
            if on_answer is not None:
                on_answer()

    threads = [threading.Thread(target=send, args=(bodies[i::SENDERS],)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses, unacknowledged


def test_kill_9_mid_batch_then_redelivery_applies_each_event_exactly_once(
    sandbox_with_events: tuple[SandboxServer, int], engine: Engine
) -> None:
    sandbox, total = sandbox_with_events
    bodies = [sandbox.webhooks.signed(event["id"])[0] for event in sandbox.events]
    event_ids = sorted(event["id"] for event in sandbox.events)
    database_url = engine.url.render_as_string(hide_password=False)
    try:
        with gunicorn(database_url, sandbox.url) as (address, process):
            answered = [0]
            killed = threading.Event()

            def kill_after_a_third() -> None:
                answered[0] += 1
                if answered[0] >= len(bodies) // 3 and not killed.is_set():
                    killed.set()
                    os.killpg(process.pid, signal.SIGKILL)

            statuses, cut_off = _deliver(address, bodies, kill_after_a_third)
            process.wait(timeout=10)
        assert killed.is_set()
        # The kill landed mid-batch: some deliveries were acknowledged, the rest were cut off.
        assert statuses.get(200) and cut_off, (statuses, len(cut_off))

        with gunicorn(database_url, sandbox.url) as (address, _process):
            # Redeliver everything, then retry what was not acknowledged, as Stripe does
            # (a 500 is allowed: it means "try again", e.g. after a database deadlock).
            statuses, pending = _deliver(address, bodies)
            for _retry in range(5):
                if not pending:
                    break
                statuses, pending = _deliver(address, pending)
        assert pending == [], statuses
        assert set(statuses) == {200}
        assert _settled(engine) == 0, "the endpoint stores events; only workers apply them"

        # A worker applies them; it is killed with SIGKILL a third of the way through.
        first = _worker(database_url, sandbox.url)
        deadline = time.monotonic() + 60
        while _settled(engine) < len(event_ids) // 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = _settled(engine)
        assert 0 < killed_at < len(event_ids), killed_at
        second = _worker(database_url, sandbox.url)
        try:
            deadline = time.monotonic() + 120
            while _settled(engine) < len(event_ids) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(timeout=30)

        with engine.connect() as connection:
            rows = connection.execute(select(StripeEvent.stripe_event_id, StripeEvent.outcome))
            outcomes = {row.stripe_event_id: row.outcome for row in rows}
            donations = connection.execute(
                select(func.count(), func.sum(Donation.amount_minor))
            ).one()
            monthly = connection.scalar(select(func.count()).select_from(MonthlyDonation))
            supporters = connection.scalar(select(func.count()).select_from(Supporter))
        assert sorted(outcomes) == event_ids
        assert set(outcomes.values()) <= {EventOutcome.APPLIED, EventOutcome.IGNORED}
        assert tuple(donations) == (ONE_OFF + MONTHLY, total)
        assert monthly == MONTHLY
        assert supporters == ONE_OFF + MONTHLY
    finally:
        truncate_all(engine)
