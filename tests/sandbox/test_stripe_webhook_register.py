"""`flask --app service stripe-webhook register URL` against the sandbox: it creates the
endpoint with the pinned version and exactly the events the ledger handles, shows the
secret once, updates on a second run, and refuses plain http in production."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from service.core.pass_key import new_private_key_pem
from service.ledger import handled_event_types
from service.stripe_gateway import PINNED_API_VERSION
from stripe_sandbox import SandboxServer
from tests.conftest import make_test_app
from tests.stripe_fixtures import SANDBOX_SECRET_KEY, checked_sandbox, sandbox_overrides

URL = "https://news.example/webhooks/stripe"


@pytest.fixture
def stripe_sandbox() -> Iterator[SandboxServer]:
    with checked_sandbox(api_key=SANDBOX_SECRET_KEY) as server:
        yield server


def _app(database_url: str, sandbox: SandboxServer, **overrides: Any) -> Flask:
    return make_test_app(database_url, **sandbox_overrides(sandbox, **overrides))


def _endpoints(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return sandbox.state.webhook_endpoints()


def test_the_events_are_the_ledgers_handlers() -> None:
    from service.ledger.handlers import HANDLERS

    events = handled_event_types()
    assert list(events) == sorted(HANDLERS) and "refund.failed" in events


def test_register_creates_the_endpoint_and_shows_its_secret_once(
    database_url: str, stripe_sandbox: SandboxServer
) -> None:
    app = _app(database_url, stripe_sandbox)
    result = app.test_cli_runner().invoke(args=["stripe-webhook", "register", URL])
    assert result.exit_code == 0, result.output

    (endpoint,) = _endpoints(stripe_sandbox)
    assert endpoint["url"] == URL
    assert endpoint["api_version"] == PINNED_API_VERSION
    assert endpoint["enabled_events"] == list(handled_event_types())
    target = stripe_sandbox.state.webhook_target(endpoint["id"])
    assert target is not None
    secret = target[1]
    lines = result.output.splitlines()
    assert lines[0].startswith(f"created webhook endpoint {endpoint['id']} for {URL}")
    assert f"API version {PINNED_API_VERSION}, {len(handled_event_types())} event types" in lines[0]
    assert lines.count(secret) == 1


def test_a_second_run_updates_the_same_endpoint_and_says_the_secret_is_not_shown(
    database_url: str, stripe_sandbox: SandboxServer
) -> None:
    app = _app(database_url, stripe_sandbox)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["stripe-webhook", "register", URL]).exit_code == 0
    (endpoint,) = _endpoints(stripe_sandbox)
    # Someone narrowed and disabled it in the dashboard meanwhile.
    live = stripe_sandbox.state.live(endpoint["id"])
    assert live is not None
    live.update(enabled_events=["invoice.paid"], status="disabled")

    again = runner.invoke(args=["stripe-webhook", "register", URL])
    assert again.exit_code == 0, again.output
    (after,) = _endpoints(stripe_sandbox)
    assert after["id"] == endpoint["id"]
    assert after["enabled_events"] == list(handled_event_types())
    assert after["status"] == "enabled"
    assert again.output.startswith(f"updated webhook endpoint {endpoint['id']}")
    assert "only when it is created" in again.output
    assert "whsec_" not in again.output


def test_an_endpoint_at_another_api_version_is_replaced_only_when_asked(
    database_url: str, stripe_sandbox: SandboxServer
) -> None:
    from stripe_sandbox import objects

    old = objects.webhook_endpoint(url=URL, enabled_events=["*"], api_version=None, now=1)
    stripe_sandbox.state.add_webhook_endpoint(old, "whsec_old")
    runner = _app(database_url, stripe_sandbox).test_cli_runner()
    refused = runner.invoke(args=["stripe-webhook", "register", URL])
    assert refused.exit_code == 2
    assert "Stripe cannot change that: run again with --replace" in refused.output
    (endpoint,) = _endpoints(stripe_sandbox)
    assert endpoint["id"] == old["id"] and endpoint["enabled_events"] == ["*"]

    replaced = runner.invoke(args=["stripe-webhook", "register", URL, "--replace"])
    assert replaced.exit_code == 0, replaced.output
    (endpoint,) = _endpoints(stripe_sandbox)
    assert endpoint["id"] != old["id"] and endpoint["api_version"] == PINNED_API_VERSION
    lines = replaced.output.splitlines()
    assert lines[0] == f"deleted webhook endpoint {old['id']} (API version None)"
    assert lines[1].startswith(f"created webhook endpoint {endpoint['id']}")
    target = stripe_sandbox.state.webhook_target(endpoint["id"])
    assert target is not None and target[1] in lines


@pytest.mark.parametrize(
    ("env", "url", "accepted"),
    [
        ("production", "http://news.example/webhooks/stripe", False),
        ("production", URL, True),
        ("test", "http://127.0.0.1:5000/webhooks/stripe", True),
        ("test", "news.example/webhooks/stripe", False),
    ],
)
def test_plain_http_is_refused_in_production_with_one_line(
    database_url: str,
    stripe_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    env: str,
    url: str,
    accepted: bool,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)  # production insists on it being set
    app = _app(
        database_url,
        stripe_sandbox,
        env=env,
        secret_key="s" * 40,
        publication_name="The Test Courier",
        supporter_pass_private_key=new_private_key_pem(),
    )
    result = app.test_cli_runner().invoke(args=["stripe-webhook", "register", url])
    if accepted:
        assert result.exit_code == 0, result.output
        assert len(_endpoints(stripe_sandbox)) == 1
    else:
        assert result.exit_code == 2
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith("stripe-webhook register: ")
        assert _endpoints(stripe_sandbox) == []
