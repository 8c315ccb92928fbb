"""Article pages while Stripe stalls: the appeal endpoint's p99 with 32 checkouts stuck on Stripe.

The sandbox stands in for Stripe and answers every API call after 25 s (its "slow" fault,
also `POST /_sandbox/faults {"mode": "slow", "seconds": 25}` on a running sandbox).
The service runs under the Procfile's gunicorn commands on PostgreSQL. Two probe
connections read `GET /api/v1/appeals` back to back, first with nothing else going on
(idle), then while 32 readers each start a checkout, wait for the answer, and click
again a second later (stalled). The ratio of the two p99s is what a reader's article
page loses while Stripe is down. Each set-up is a fresh server on the same database.

With `pools=True` the checkouts go to a second gunicorn (the Procfile's `stripe`
process), as the proxy in front routes them; otherwise everything goes to one.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.appeal_bench import APPEAL_QUERY, _seed
from bench.loadgen import LoadResult, python_get
from bench.servers import bench_database, gunicorn
from service.core.pass_key import new_private_key_pem
from stripe_sandbox.server import SandboxServer

STALLED_CHECKOUTS = 32
STRIPE_SECONDS = 25.0
PROBE_CONNECTIONS = 2
TARGET_RATIO = 2.0
# The Procfile's `stripe` process: one gunicorn process (4 threads) is plenty for checkouts.
STRIPE_POOL_WORKERS = 1


@dataclass(frozen=True)
class Setup:
    """One way of running the service: its pools and its environment."""

    name: str
    pools: bool
    env: dict[str, str] = field(default_factory=dict)


# The Procfile's topology first (its ratio is the one that counts), then one pool with
# the in-process defences, then one pool as before them (every request thread may wait
# on Stripe for 20 s a try, three tries).
SETUPS = (
    Setup("Procfile: read pool + Stripe pool, defaults", pools=True),
    Setup("one pool: 2 slots per process, breaker, 10 s budget", pools=False),
    Setup(
        "one pool, as before: no slots, no breaker, 20 s x 3 tries",
        pools=False,
        env={
            "STRIPE_READER_SLOTS": "64",
            "STRIPE_BREAKER_FAILURES": "1000000",
            "STRIPE_READER_BUDGET_SECONDS": "61",
            "STRIPE_TIMEOUT_SECONDS": "20",
        },
    ),
)


@dataclass
class Checkouts:
    """Readers starting checkouts in a loop until told to stop; what they were answered."""

    base_url: str
    readers: int
    stop: threading.Event = field(default_factory=threading.Event)
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for index in range(self.readers):
            thread = threading.Thread(target=self._reader, args=(index,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _reader(self, index: int) -> None:
        parts = urlsplit(self.base_url)
        body = json.dumps(
            {"frequency": "one_off", "amount": 1000 + index, "currency": "eur", "campaign": "bench"}
        ).encode()
        while not self.stop.is_set():
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=90)
            try:
                connection.request(
                    "POST", "/api/v1/checkout", body, {"Content-Type": "application/json"}
                )
                status = str(connection.getresponse().status)
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
            finally:
                connection.close()
            with self.lock:
                self.statuses[status] += 1
            self.stop.wait(1.0)  # a reader reads the answer, then clicks again

    def finish(self) -> dict[str, int]:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)
        with self.lock:
            return dict(self.statuses)


@dataclass(frozen=True)
class StallRun:
    name: str
    idle: LoadResult
    stalled: LoadResult
    checkouts: dict[str, int]

    @property
    def ratio(self) -> float:
        if self.stalled.errors or not self.idle.p99_ms:
            return float("inf")
        return self.stalled.p99_ms / self.idle.p99_ms


def _service_env(database_url: str, sandbox_url: str) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "PUBLICATION_NAME": "The Bench Courier",
        "SUPPORTER_PASS_PRIVATE_KEY": new_private_key_pem(),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-" + "k" * 32,
        "STRIPE_SECRET_KEY": "sk_test_bench" + "s" * 20,
        "STRIPE_WEBHOOK_SECRET": "whsec_bench" + "w" * 24,
        "STRIPE_API_BASE": sandbox_url,
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "ALLOWED_EMBED_ORIGINS": "https://news.example",
        "SUPPORTER_COUNT_OFFSET": "5432",
        # One client IP sends everything here; production keeps the default limits.
        "CHECKOUT_RATE_LIMIT": "1000000 per minute",
        "LOG_LEVEL": "ERROR",
    }


def run_stall_bench(
    server_url: str, *, seconds: float, setups: tuple[Setup, ...] = SETUPS
) -> list[StallRun]:
    """For each set-up: the appeal's p99 idle, then with 32 checkouts stalled on Stripe."""
    runs = []
    with SandboxServer(deliver_webhooks=False) as sandbox, bench_database(server_url) as db_url:
        _seed(db_url)
        for setup in setups:
            sandbox.state.clear_fault()
            env = {**_service_env(db_url, sandbox.url), **setup.env}
            with ExitStack() as servers:
                url = servers.enter_context(gunicorn("service:create_app()", env))
                checkout_url = url
                if setup.pools:
                    checkout_url = servers.enter_context(
                        gunicorn("service:create_app()", env, workers=STRIPE_POOL_WORKERS)
                    )
                probe = url + APPEAL_QUERY
                python_get(probe, seconds=2, connections=PROBE_CONNECTIONS)  # warm-up
                idle = python_get(probe, seconds=seconds, connections=PROBE_CONNECTIONS)
                sandbox.state.set_fault("slow", seconds=STRIPE_SECONDS)
                checkouts = Checkouts(checkout_url, STALLED_CHECKOUTS)
                checkouts.start()
                time.sleep(3)  # every reader has clicked and is waiting
                stalled = python_get(probe, seconds=seconds, connections=PROBE_CONNECTIONS)
                answered = checkouts.finish()
                sandbox.state.clear_fault()
            runs.append(StallRun(setup.name, idle, stalled, answered))
    return runs
