"""Fixtures for the webhook tests: a Stripe sandbox, alone or wired to a live service."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service import stripe_gateway
from service.core.settings import Settings
from service.ledger.supporters import count_supporters
from stripe_sandbox import SandboxServer
from tests.conftest import (
    TEST_STRIPE_KEY,
    TEST_WEBHOOK_SECRET,
    drain_jobs,
    make_test_app,
    truncate_all,
)
from tests.contract.stripe_contract import assert_traffic_keeps_contract
from tests.live import LiveServer, reserve_port


class QuickLiveServer(LiveServer):
    """LiveServer that notices shutdown within 50 ms (the default poll is half a second)."""

    def __init__(self, app: Any, port: int = 0) -> None:
        super().__init__(app, port=port)
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A sandbox that records events but delivers none by itself."""
    with SandboxServer(
        deliver_webhooks=False, api_key=TEST_STRIPE_KEY, webhook_secret=TEST_WEBHOOK_SECRET
    ) as server:
        yield server
        assert_traffic_keeps_contract(server.state)


@pytest.fixture
def app_overrides(sandbox: SandboxServer) -> dict[str, Any]:
    """The in-process app talks to the sandbox for every fetch."""
    return {"stripe_api_base": sandbox.url}


def start_checkout(
    settings: Settings,
    *,
    frequency: str = "one_off",
    amount: int = 1000,
    currency: str = "eur",
    campaign: str | None = "spring",
) -> str:
    """Open a Checkout Session in the sandbox through our own gateway; return its id."""
    attempt = str(uuid.uuid4())
    created = stripe_gateway.create_checkout_session(
        settings,
        attempt_id=attempt,
        frequency=frequency,
        amount_minor=amount,
        currency=currency,
        product_name="Support independent journalism",
        success_url="http://127.0.0.1:5000/support/thank-you?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://127.0.0.1:5000/support",
        metadata=stripe_gateway.our_metadata(
            checkout_attempt=attempt, frequency=frequency, campaign=campaign, variant="a"
        ),
    )
    return created.id


@dataclass
class Donor:
    """A reader who paid in the sandbox: their session and what Stripe made of it."""

    session_id: str
    customer_id: str
    email: str
    payment_intent_id: str | None
    charge_id: str | None
    subscription_id: str | None


def pay(
    sandbox: SandboxServer,
    settings: Settings,
    *,
    frequency: str = "one_off",
    amount: int = 1000,
    email: str | None = None,
) -> Donor:
    """Start a checkout through our gateway and pay it with the sandbox's test card."""
    email = email or f"reader-{uuid.uuid4().hex[:8]}@example.com"
    session_id = start_checkout(settings, frequency=frequency, amount=amount)
    result = sandbox.sim.complete_checkout(session_id, "4242424242424242", email=email)
    assert result.status == "succeeded", result
    checkout = result.session
    pi_id = checkout.get("payment_intent")
    charge_id = sandbox.state.get(pi_id)["latest_charge"] if pi_id else None
    return Donor(
        session_id=session_id,
        customer_id=checkout["customer"],
        email=email,
        payment_intent_id=pi_id,
        charge_id=charge_id,
        subscription_id=checkout.get("subscription"),
    )


def deliver_sandbox_event(client: FlaskClient, sandbox: SandboxServer, event_id: str) -> int:
    """POST one sandbox event, signed by the sandbox, to the in-process service, then run
    the real job worker until no job is due (which applies it)."""
    body, headers = sandbox.webhooks.signed(event_id)
    status = client.post("/webhooks/stripe", data=body, headers=headers).status_code
    drain_jobs(client.application)
    return status


def charge_of_invoice(sandbox: SandboxServer, invoice_id: str) -> str:
    payment = sandbox.sim.invoice_payments(invoice_id)[0]
    return str(sandbox.state.get(payment["payment"]["payment_intent"])["latest_charge"])


@dataclass
class Stack:
    """The service served over HTTP, and a sandbox that delivers its webhooks to it."""

    app: Flask
    url: str
    sandbox: SandboxServer
    engine: Engine

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.extensions["settings"]
        return settings

    def settle(self, *, drain: bool = True) -> None:
        """Wait until the sandbox has delivered every event, check each got a 2xx, and run
        the real job worker until no job is due (which applies them), unless `drain` is
        False (a test running its own worker)."""
        assert self.sandbox.webhooks.wait_idle(timeout=20)
        with self.sandbox.state.lock:
            records = self.sandbox.state.event_records()
            failures = [r.id for r in records if not r.delivered]
        assert failures == []
        if drain:
            drain_jobs(self.app)

    def count(self) -> int:
        with Session(self.engine) as session:
            return count_supporters(session, self.settings)


@pytest.fixture
def stack(database_url: str, engine: Engine) -> Iterator[Stack]:
    """Service and sandbox over loopback HTTP, committing for real; tables emptied after."""
    port = reserve_port()
    service_url = f"http://127.0.0.1:{port}"
    with SandboxServer(
        webhook_url=f"{service_url}/webhooks/stripe",
        webhook_secret=TEST_WEBHOOK_SECRET,
        api_key=TEST_STRIPE_KEY,
    ) as sandbox:
        app = make_test_app(database_url, stripe_api_base=sandbox.url, public_base_url=service_url)
        try:
            with QuickLiveServer(app, port=port):
                yield Stack(app=app, url=service_url, sandbox=sandbox, engine=engine)
        finally:
            sandbox.webhooks.stop()
            app.extensions["database"]["engine"].dispose()
            truncate_all(engine)
