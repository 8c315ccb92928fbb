"""Checkout API overhead: POST /api/v1/checkout under gunicorn, minus the sandbox's own time.

The sandbox stands in for Stripe and answers at once; a timing wrapper inside it measures
how long it spends on each Checkout Session. Sent one at a time, each of our requests
pairs with exactly one sandbox request, so our overhead per request is
(our end-to-end time) - (the sandbox's own time): validation, the attempt row committed
to PostgreSQL before Stripe is called, the stripe package's request building, the
outcome committed, and the HTTP hop to the sandbox.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from bench.loadgen import LoadResult, Request, _percentile, send_all
from bench.servers import bench_database, gunicorn
from service.core.db import build_engine
from service.core.pass_key import new_private_key_pem
from service.ledger.models import AttemptStatus, CheckoutAttempt
from stripe_sandbox.server import SandboxServer

STRIPE_KEY = "sk_test_bench" + "c" * 20


class SandboxTimer:
    """WSGI middleware timing each request the sandbox serves (until its body is read)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.seconds: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        began = time.perf_counter()
        body = list(self.app(environ, start_response))
        elapsed = time.perf_counter() - began
        if environ.get("PATH_INFO") == "/v1/checkout/sessions":
            with self._lock:
                self.seconds.append(elapsed)
        return body


@dataclass(frozen=True)
class CheckoutRun:
    name: str
    load: LoadResult
    sandbox_p50_ms: float
    sandbox_p99_ms: float
    overhead_p50_ms: float | None
    overhead_p99_ms: float | None
    attempts_recorded: int
    sessions_created: int


def _request(index: int) -> Request:
    body = {
        "frequency": "monthly" if index % 3 == 0 else "one_off",
        "amount": 1000 + (index % 7) * 100,
        "currency": "eur",
        "return_url": f"https://news.example/news/story-{index % 50}?ref=bench",
        "campaign": "bench",
    }
    return Request(
        "POST",
        "/api/v1/checkout",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )


def _service_env(database_url: str, sandbox_url: str) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "PUBLICATION_NAME": "The Bench Courier",
        "SUPPORTER_PASS_PRIVATE_KEY": new_private_key_pem(),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-" + "k" * 32,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": "whsec_bench" + "w" * 24,
        "STRIPE_API_BASE": sandbox_url,
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "ALLOWED_EMBED_ORIGINS": "https://news.example",
        # One client IP sends everything here; production keeps the default limits.
        "CHECKOUT_RATE_LIMIT": "1000000 per minute",
        "LOG_LEVEL": "WARNING",
    }


def _attempts(database_url: str) -> tuple[int, int]:
    engine = build_engine(database_url)
    try:
        with engine.connect() as connection:
            total = connection.execute(select(func.count()).select_from(CheckoutAttempt))
            created = connection.execute(
                select(func.count()).where(CheckoutAttempt.status == AttemptStatus.SESSION_CREATED)
            )
            return int(total.scalar_one()), int(created.scalar_one())
    finally:
        engine.dispose()


def run_checkout_bench(server_url: str, *, sequential: int, concurrent: int) -> list[CheckoutRun]:
    """One request at a time (paired overhead), then 4 at a time (throughput)."""
    runs = []
    with (
        SandboxServer(deliver_webhooks=False, api_key=STRIPE_KEY) as sandbox,
        bench_database(server_url) as db_url,
    ):
        timer = SandboxTimer(sandbox.app.wsgi_app)
        sandbox.app.wsgi_app = timer  # type: ignore[method-assign]
        with gunicorn("service:create_app()", _service_env(db_url, sandbox.url)) as url:
            send_all(url, [[_request(i) for i in range(20)]])  # warm up every worker
            for name, senders in (
                ("one at a time", [[_request(i) for i in range(sequential)]]),
                ("4 concurrent readers", [[_request(i) for i in range(concurrent)]] * 4),
            ):
                before = _attempts(db_url)
                timer.seconds.clear()
                our_start = len(timer.seconds)
                load = send_all(url, senders)
                sandbox_seconds = timer.seconds[our_start:]
                after = _attempts(db_url)
                overhead: list[float] = []
                if len(senders) == 1 and len(sandbox_seconds) == load.requests:
                    overhead = [
                        total - own
                        for total, own in zip(load.latencies, sandbox_seconds, strict=True)
                    ]
                runs.append(
                    CheckoutRun(
                        name=name,
                        load=load,
                        sandbox_p50_ms=statistics.median(sandbox_seconds) * 1000,
                        sandbox_p99_ms=_percentile(sandbox_seconds, 0.99) * 1000,
                        overhead_p50_ms=statistics.median(overhead) * 1000 if overhead else None,
                        overhead_p99_ms=_percentile(overhead, 0.99) * 1000 if overhead else None,
                        attempts_recorded=after[0] - before[0],
                        sessions_created=after[1] - before[1],
                    )
                )
    return runs
