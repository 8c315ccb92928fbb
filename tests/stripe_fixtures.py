"""Shared Stripe fixtures: the offline Stripe sandbox, alone or wired to a live app.

- `sandbox`: a running `stripe_sandbox.SandboxServer` (a test double of Stripe, not
  Stripe). Its webhooks point at `service_port`; they are delivered only when the test
  also uses `sandbox_live_app` / `sandbox_server`, otherwise they are just recorded.
- `sandbox_overrides(sandbox, ...)`: settings that point an app at the sandbox. Use it in
  a module's `app_overrides` fixture for in-process tests with the rolled-back `app`.
- `sandbox_live_app`: an app that commits for real (tables emptied after), configured
  with the sandbox's API base and webhook secret and `public_base_url` on `service_port`.
- `sandbox_server`: that app served over HTTP on `service_port`, receiving the
  sandbox's webhooks. `sandbox.webhooks.wait_idle()` waits for deliveries to settle.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from sqlalchemy import Engine

from tests.conftest import TEST_STRIPE_KEY, make_test_app, truncate_all
from tests.contract.stripe_contract import assert_traffic_keeps_contract
from tests.live import LiveServer, reserve_port

if TYPE_CHECKING:
    # Imported lazily below: a broken sandbox must not stop the rest of the suite loading.
    from stripe_sandbox import SandboxServer

SANDBOX_SECRET_KEY = "sk_test_sandbox_" + "s" * 24
SANDBOX_WEBHOOK_SECRET = "whsec_sandbox_" + "w" * 24
LIVE_FIXTURES = frozenset({"sandbox_live_app", "sandbox_server"})


def sandbox_overrides(sandbox: SandboxServer, **more: Any) -> dict[str, Any]:
    """Settings that make an app talk to this sandbox instead of Stripe."""
    overrides: dict[str, Any] = {
        "stripe_secret_key": SANDBOX_SECRET_KEY,
        "stripe_api_base": sandbox.url,
        "stripe_webhook_secrets": (SANDBOX_WEBHOOK_SECRET,),
        # Fail fast in tests; the stripe package still retries twice.
        "stripe_timeout_seconds": 2.0,
    }
    overrides.update(more)
    return overrides


@contextlib.contextmanager
def checked_sandbox(**settings: Any) -> Iterator[SandboxServer]:
    """A sandbox for the suite's default app key whose traffic must keep Stripe's contract."""
    from stripe_sandbox import SandboxServer

    settings.setdefault("api_key", TEST_STRIPE_KEY)
    with SandboxServer(**settings) as server:
        yield server
        assert_traffic_keeps_contract(server.state)


@pytest.fixture
def service_port() -> int:
    """The port the live app will be served on (known before the sandbox starts)."""
    return reserve_port()


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, service_port: int) -> Iterator[SandboxServer]:
    """A fresh Stripe sandbox on a free loopback port."""
    from stripe_sandbox import SandboxServer

    live = bool(LIVE_FIXTURES & set(request.fixturenames))
    with SandboxServer(
        webhook_url=f"http://127.0.0.1:{service_port}/webhooks/stripe",
        webhook_secret=SANDBOX_WEBHOOK_SECRET,
        deliver_webhooks=live,
        api_key=SANDBOX_SECRET_KEY,
    ) as server:
        yield server
        assert_traffic_keeps_contract(server.state)


@pytest.fixture
def sandbox_live_app(
    sandbox: SandboxServer,
    service_port: int,
    database_url: str,
    engine: Engine,
    live_app_overrides: dict[str, Any],
) -> Iterator[Flask]:
    """An app on the sandbox that commits for real; every table is emptied after."""
    overrides = sandbox_overrides(sandbox, public_base_url=f"http://127.0.0.1:{service_port}")
    overrides.update(live_app_overrides)
    app = make_test_app(database_url, **overrides)
    try:
        yield app
    finally:
        app.extensions["database"]["engine"].dispose()
        truncate_all(engine)


@pytest.fixture
def sandbox_server(
    sandbox: SandboxServer, sandbox_live_app: Flask, service_port: int
) -> Iterator[LiveServer]:
    """The sandbox-backed app over HTTP on `service_port`, receiving the sandbox's webhooks."""
    with LiveServer(sandbox_live_app, port=service_port) as server:
        yield server
        # Let deliveries in flight finish before the tables are emptied.
        sandbox.webhooks.wait_idle(timeout=5)
