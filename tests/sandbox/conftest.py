"""Fixtures: a running sandbox, a real ``stripe`` client pointed at it, a webhook receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from stripe_sandbox import API_VERSION, SandboxServer
from tests.contract.stripe_contract import assert_traffic_keeps_contract

API_KEY = "sk_test_sandbox" + "0" * 16
WEBHOOK_SECRET = "whsec_sandboxtest" + "1" * 16


@dataclass
class Delivery:
    """One webhook POST the receiver got."""

    headers: dict[str, str]
    body: bytes
    status: int


class WebhookReceiver:
    """A tiny endpoint on a free loopback port that records what it is sent.

    ``statuses`` are answered in turn (then 200), so a test can make it fail first.
    """

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.deliveries.append(Delivery(dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/stripe"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def ok_events(self) -> list[str]:
        """Ids of events answered 2xx, in arrival order."""
        import json

        with self._lock:
            return [json.loads(d.body)["id"] for d in self.deliveries if d.status < 300]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} deliveries, got {len(self.deliveries)}")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(receiver: WebhookReceiver) -> Iterator[SandboxServer]:
    """A sandbox delivering webhooks to ``receiver``, retrying quickly."""
    with SandboxServer(
        webhook_url=receiver.url,
        webhook_secret=WEBHOOK_SECRET,
        webhook_backoff=0.05,
        webhook_max_attempts=3,
        api_key=API_KEY,
    ) as server:
        yield server
        assert_traffic_keeps_contract(server.state)


@pytest.fixture
def quiet_sandbox() -> Iterator[SandboxServer]:
    """A sandbox with no webhook endpoint."""
    with SandboxServer(api_key=API_KEY) as server:
        yield server
        assert_traffic_keeps_contract(server.state)


def make_client(url: str, *, retries: int = 0, timeout: float = 5.0) -> stripe.StripeClient:
    return stripe.StripeClient(
        API_KEY,
        base_addresses={"api": url},
        stripe_version=API_VERSION,
        http_client=stripe.RequestsClient(timeout=timeout),
        max_network_retries=retries,
    )


def close_client(client: stripe.StripeClient) -> None:
    client._requestor._client.close()


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[stripe.StripeClient]:
    """The official client, as the service configures it, pointed at the sandbox."""
    stripe_client = make_client(sandbox.url)
    yield stripe_client
    close_client(stripe_client)


def one_off_params(**overrides: Any) -> dict[str, Any]:
    """A one-off donation Checkout Session, as the service asks for one."""
    params: dict[str, Any] = {
        "mode": "payment",
        "submit_type": "donate",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 2500,
                    "product_data": {"name": "One-off donation"},
                },
            }
        ],
        "customer_creation": "always",
        "success_url": "https://news.example/support/thank-you?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://news.example/support",
        "metadata": {"app": "reader-contributions", "attempt": "a1"},
        "payment_intent_data": {"metadata": {"app": "reader-contributions", "attempt": "a1"}},
        "client_reference_id": "a1",
    }
    params.update(overrides)
    return params


def monthly_params(**overrides: Any) -> dict[str, Any]:
    """A monthly donation Checkout Session."""
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 500,
                    "product_data": {"name": "Monthly donation"},
                    "recurring": {"interval": "month"},
                },
            }
        ],
        "customer_email": "reader@example.com",
        "success_url": "https://news.example/support/thank-you?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://news.example/support",
        "metadata": {"app": "reader-contributions", "attempt": "m1"},
        "subscription_data": {"metadata": {"app": "reader-contributions", "attempt": "m1"}},
    }
    params.update(overrides)
    return params
