"""Webhook ingestion on PostgreSQL: gunicorn acknowledges, job workers apply.

The events are real: the Stripe sandbox runs checkouts (one-off and monthly) and records
the events Stripe would send; we sign them as Stripe does and POST them to
/webhooks/stripe under gunicorn, which stores each and queues its job. `flask worker`
processes apply them, fetching objects back from the sandbox as they would from Stripe;
the sandbox adds Stripe's latency to every API call (its "slow" fault, also
`POST /_sandbox/faults {"mode": "slow", "seconds": 0.3}` on a running sandbox). Measured:
the ack latency of the deliveries, and the distinct events applied per second, from the
first delivery until every event is applied or ignored. After each run the ledger is
checked: every event stored once, every payment recorded once, whatever the duplicates.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from bench.loadgen import LoadResult, Request, send_all
from bench.servers import PROJECT_ROOT, bench_database, gunicorn
from service import stripe_gateway
from service.core.db import build_engine
from service.core.pass_key import new_private_key_pem
from service.core.settings import Settings
from service.ledger.models import Donation, EventOutcome, MonthlyDonation, StripeEvent, Supporter
from stripe_sandbox.server import SandboxServer

STRIPE_KEY = "sk_test_bench" + "b" * 20
WEBHOOK_SECRET = "whsec_bench" + "w" * 24
DUPLICATE_SENDERS = 8
DISTINCT_SENDERS = 8
# What the sandbox adds to every Stripe API call: Stripe's own latency, roughly.
STRIPE_LATENCY_SECONDS = 0.3
# The job workers of one 2-core instance (the Procfile's `worker` line): processes x threads.
WORKER_PROCESSES = 2
WORKER_THREADS = 12
# Targets (issue 11) for one instance at +300 ms per Stripe call.
TARGET_EVENTS_PER_SECOND = 50.0
TARGET_ACK_P99_MS = 100.0
APPLY_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class Ledger:
    """What the database holds after a run: the effects that must happen exactly once."""

    events: int
    events_failed: int
    donations: int
    donated_minor: int
    monthly: int
    supporters: int


@dataclass(frozen=True)
class WebhookRun:
    name: str
    distinct_events: int
    deliveries: int
    load: LoadResult
    ledger: Ledger
    # From the first delivery until every event was applied or ignored by the workers.
    applied_seconds: float
    # Deliveries answered 5xx (or not at all) the first time, and Stripe's retry of them.
    retried: LoadResult | None = None

    @property
    def events_per_second(self) -> float:
        """Distinct events applied per second (acknowledged and then applied)."""
        return self.distinct_events / self.applied_seconds

    @property
    def deliveries_per_second(self) -> float:
        return self.deliveries / self.load.seconds


@dataclass(frozen=True)
class Expected:
    events: int
    donations: int
    donated_minor: int
    monthly: int
    supporters: int


def make_events(sandbox: SandboxServer, one_off: int, monthly: int) -> Expected:
    """Run checkouts in the sandbox so it records the events Stripe would send."""
    settings = Settings(
        env="test", stripe_secret_key=STRIPE_KEY, stripe_api_base=sandbox.url
    ).validated()
    rng = random.Random(7)
    donated = 0
    for index in range(one_off + monthly):
        frequency = "one_off" if index < one_off else "monthly"
        amount = rng.choice((500, 1000, 2500, 5000))
        attempt = str(uuid.uuid4())
        created = stripe_gateway.create_checkout_session(
            settings,
            attempt_id=attempt,
            frequency=frequency,
            amount_minor=amount,
            currency="eur",
            product_name="Donation",
            success_url="https://news.example/a?support_session={CHECKOUT_SESSION_ID}",
            cancel_url="https://news.example/a?support_cancelled=1",
            metadata=stripe_gateway.our_metadata(
                checkout_attempt=attempt, frequency=frequency, campaign="bench"
            ),
        )
        result = sandbox.sim.complete_checkout(created.id, email=f"reader{index}@example.com")
        if result.status != "succeeded":
            raise RuntimeError(f"sandbox checkout did not complete: {result.status}")
        donated += amount
    return Expected(
        events=len(sandbox.events),
        donations=one_off + monthly,
        donated_minor=donated,
        monthly=monthly,
        supporters=one_off + monthly,
    )


def read_ledger(database_url: str) -> Ledger:
    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:

            def count(*what: Any) -> int:
                return int(connection.execute(select(func.count()).select_from(*what)).scalar_one())

            return Ledger(
                events=count(StripeEvent),
                events_failed=int(
                    connection.execute(
                        select(func.count()).where(StripeEvent.outcome == EventOutcome.FAILED)
                    ).scalar_one()
                ),
                donations=count(Donation),
                donated_minor=int(
                    connection.execute(
                        select(func.coalesce(func.sum(Donation.amount_minor), 0))
                    ).scalar_one()
                ),
                monthly=count(MonthlyDonation),
                supporters=count(Supporter),
            )
    finally:
        engine.dispose()


def check_exactly_once(run: WebhookRun, expected: Expected) -> list[str]:
    """Every way the ledger differs from one application of each event."""
    ledger = run.ledger
    problems = []
    for name, got, want in (
        ("events stored", ledger.events, expected.events),
        ("failed events", ledger.events_failed, 0),
        ("donations", ledger.donations, expected.donations),
        ("amount donated", ledger.donated_minor, expected.donated_minor),
        ("monthly donations", ledger.monthly, expected.monthly),
        ("supporters", ledger.supporters, expected.supporters),
    ):
        if got != want:
            problems.append(f"{run.name}: {name} {got}, expected {want}")
    final = run.retried or run.load
    if final.failed:
        problems.append(f"{run.name}: {len(final.failed)} deliveries still failing after a retry")
    unexpected = {s: n for s, n in run.load.statuses.items() if s != 200 and s < 500}
    if unexpected:
        problems.append(f"{run.name}: answers that are neither 200 nor retryable: {unexpected}")
    return problems


def _signed(sandbox: SandboxServer) -> list[Request]:
    """Every recorded event, signed now (the signature is only good for 300 s)."""
    requests = []
    for event in sandbox.events:
        body, headers = sandbox.webhooks.signed(event["id"])
        requests.append(Request("POST", "/webhooks/stripe", body, dict(headers)))
    return requests


def _service_env(database_url: str, sandbox: SandboxServer) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "PUBLICATION_NAME": "The Bench Courier",
        "SUPPORTER_PASS_PRIVATE_KEY": new_private_key_pem(),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-" + "k" * 32,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": sandbox.url,
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def job_workers(env: Mapping[str, str], *, processes: int, threads: int) -> Iterator[None]:
    """`flask --app service worker` processes, as the Procfile runs them; stopped after."""
    command = [
        sys.executable, "-m", "flask", "--app", "service", "worker",
        "--threads", str(threads), "--poll-seconds", "0.1",
    ]  # fmt: skip
    running = [
        subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(processes)
    ]
    try:
        yield
    finally:
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_applied(database_url: str, events: int, timeout: float) -> float:
    """Wait until `events` inbox rows are applied or ignored; the monotonic time then."""
    engine = build_engine(database_url)
    settled = select(func.count()).where(
        StripeEvent.outcome.in_([EventOutcome.APPLIED, EventOutcome.IGNORED])
    )
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as connection:
                done = int(connection.execute(settled).scalar_one())
                stored = int(
                    connection.execute(select(func.count()).select_from(StripeEvent)).scalar_one()
                )
            # Events refused at the door (never stored) show in the exactly-once check.
            if done >= min(events, stored):
                return time.monotonic()
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {done} of {events} events applied in {timeout:.0f} s")
            time.sleep(0.05)
    finally:
        engine.dispose()


def _run(
    name: str,
    server_url: str,
    sandbox: SandboxServer,
    make_senders: Callable[[], Sequence[Sequence[Request]]],
) -> WebhookRun:
    with bench_database(server_url) as database_url:
        env = _service_env(database_url, sandbox)
        with (
            gunicorn("service:create_app()", env) as url,
            job_workers(env, processes=WORKER_PROCESSES, threads=WORKER_THREADS),
        ):
            # Signed now, with the servers up: a signature is only good for 300 s.
            senders = make_senders()
            distinct = len({request.body for sender in senders for request in sender})
            deliveries = sum(len(sender) for sender in senders)
            started = time.monotonic()
            load = send_all(url, senders)
            # Stripe retries what was not acknowledged; do the same, once, afterwards.
            retried = send_all(url, [load.failed]) if load.failed else None
            finished = wait_until_applied(database_url, distinct, APPLY_TIMEOUT_SECONDS)
        ledger = read_ledger(database_url)
    return WebhookRun(name, distinct, deliveries, load, ledger, finished - started, retried)


def run_webhook_bench(
    server_url: str, *, one_off: int, monthly: int
) -> tuple[list[WebhookRun], Expected, list[str]]:
    """Both runs; returns them, what one application of each event gives, and problems."""
    with SandboxServer(
        deliver_webhooks=False, webhook_secret=WEBHOOK_SECRET, api_key=STRIPE_KEY
    ) as sandbox:
        expected = make_events(sandbox, one_off, monthly)
        # From here on every Stripe API call the service makes takes 300 ms longer.
        sandbox.state.set_fault("slow", seconds=STRIPE_LATENCY_SECONDS)

        def distinct() -> list[list[Request]]:
            # Each event once, dealt round-robin to 8 concurrent senders, so related events
            # (a subscription's) often arrive out of order, as Stripe's do.
            requests = _signed(sandbox)
            return [requests[i::DISTINCT_SENDERS] for i in range(DISTINCT_SENDERS)]

        def duplicates() -> list[list[Request]]:
            # 8 senders each deliver every event, in the same order, so the twins of one
            # event reach the server at the same moment (the hardest case).
            requests = _signed(sandbox)
            return [requests for _ in range(DUPLICATE_SENDERS)]

        first = _run("distinct events, 8 senders", server_url, sandbox, distinct)
        second = _run("each event 8x, concurrently", server_url, sandbox, duplicates)
    runs = [first, second]
    problems = [problem for run in runs for problem in check_exactly_once(run, expected)]
    return runs, expected, problems


def missed_targets(run: WebhookRun) -> list[str]:
    """How the distinct-events run falls short of issue 11's targets, if it does."""
    problems = []
    if run.events_per_second < TARGET_EVENTS_PER_SECOND:
        problems.append(
            f"{run.events_per_second:.1f} events/s applied at +300 ms, "
            f"under {TARGET_EVENTS_PER_SECOND:.0f}"
        )
    if run.load.p99_ms >= TARGET_ACK_P99_MS:
        problems.append(f"ack p99 {run.load.p99_ms:.0f} ms, not under {TARGET_ACK_P99_MS:.0f}")
    return problems
