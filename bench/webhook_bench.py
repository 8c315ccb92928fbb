"""Webhook ingestion on PostgreSQL under gunicorn: distinct events, then 8 duplicate senders.

The events are real: the Stripe sandbox runs checkouts (one-off and monthly) and records
the events Stripe would send; we sign them as Stripe does and POST them to
/webhooks/stripe. Handlers fetch objects back from the sandbox, as they would from
Stripe. After each run the ledger is checked: every event stored once, every payment
recorded once, whatever the duplicates.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from bench.loadgen import LoadResult, Request, send_all
from bench.servers import bench_database, gunicorn
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
    # Deliveries answered 5xx (or not at all) the first time, and Stripe's retry of them.
    retried: LoadResult | None = None

    @property
    def events_per_second(self) -> float:
        return self.distinct_events / self.load.seconds

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


def _run(
    name: str, server_url: str, sandbox: SandboxServer, senders: Sequence[Sequence[Request]]
) -> WebhookRun:
    with bench_database(server_url) as database_url:
        with gunicorn("service:create_app()", _service_env(database_url, sandbox)) as url:
            load = send_all(url, senders)
            # Stripe retries what was not acknowledged; do the same, once, afterwards.
            retried = send_all(url, [load.failed]) if load.failed else None
        ledger = read_ledger(database_url)
    distinct = len({request.body for sender in senders for request in sender})
    deliveries = sum(len(sender) for sender in senders)
    return WebhookRun(name, distinct, deliveries, load, ledger, retried)


def run_webhook_bench(
    server_url: str, *, one_off: int, monthly: int
) -> tuple[list[WebhookRun], Expected, list[str]]:
    """Both runs; returns them, what one application of each event gives, and problems."""
    with SandboxServer(
        deliver_webhooks=False, webhook_secret=WEBHOOK_SECRET, api_key=STRIPE_KEY
    ) as sandbox:
        expected = make_events(sandbox, one_off, monthly)

        requests = _signed(sandbox)
        # Distinct: each event once, dealt round-robin to 8 concurrent senders, so related
        # events (a subscription's) often arrive out of order, as Stripe's do.
        distinct = [requests[i::DISTINCT_SENDERS] for i in range(DISTINCT_SENDERS)]
        first = _run("distinct events, 8 senders", server_url, sandbox, distinct)

        requests = _signed(sandbox)
        # Duplicates: 8 senders each deliver every event, in the same order, so the twins
        # of one event reach the server at the same moment (the hardest case).
        duplicates = [requests for _ in range(DUPLICATE_SENDERS)]
        second = _run("each event 8x, concurrently", server_url, sandbox, duplicates)
    runs = [first, second]
    problems = [problem for run in runs for problem in check_exactly_once(run, expected)]
    return runs, expected, problems
