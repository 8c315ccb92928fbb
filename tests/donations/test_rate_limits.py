"""Card-testing defences: checkout creation is limited per client IP and per email."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from service.donations.api import RATE_LIMITED_MESSAGE
from tests.donations.helpers import sandbox_sessions
from tests.stripe_fixtures import sandbox_overrides

VALID = {"frequency": "one_off", "amount": 1000, "currency": "eur"}
FORM = {"frequency": "monthly", "amount_monthly": "1000"}


@pytest.fixture
def app_overrides(sandbox: Any, request: pytest.FixtureRequest) -> dict[str, Any]:
    return sandbox_overrides(
        sandbox, checkout_rate_limit="3 per minute", **getattr(request, "param", {})
    )


def _post(client: FlaskClient, ip: str = "203.0.113.7", **kwargs: Any) -> Any:
    kwargs.setdefault("json", VALID)
    return client.post("/api/v1/checkout", environ_base={"REMOTE_ADDR": ip}, **kwargs)


def test_api_is_limited_per_client_ip_with_a_clear_json_429(
    client: FlaskClient, sandbox: Any
) -> None:
    statuses = [_post(client).status_code for _ in range(3)]
    limited = _post(client)
    other_ip = _post(client, ip="198.51.100.9")

    assert statuses == [201, 201, 201]
    assert limited.status_code == 429
    assert limited.get_json()["message"] == RATE_LIMITED_MESSAGE
    assert int(limited.headers["Retry-After"]) > 0
    assert other_ip.status_code == 201
    assert len(sandbox_sessions(sandbox)) == 4


def test_form_and_api_share_the_limit_and_the_form_gets_a_page(
    client: FlaskClient, sandbox: Any
) -> None:
    _post(client)
    _post(client)
    client.post("/support/checkout", data=FORM, environ_base={"REMOTE_ADDR": "203.0.113.7"})

    limited = client.post(
        "/support/checkout", data=FORM, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )

    assert limited.status_code == 429
    assert limited.mimetype == "text/html"
    assert str(RATE_LIMITED_MESSAGE) in limited.get_data(as_text=True)
    assert len(sandbox_sessions(sandbox)) == 3


def test_bad_requests_count_too(client: FlaskClient, sandbox: Any) -> None:
    for _ in range(3):
        assert _post(client, json={**VALID, "amount": 0}).status_code == 422

    assert _post(client).status_code == 429
    assert sandbox_sessions(sandbox) == []


def test_api_is_limited_per_email_across_addresses(client: FlaskClient, sandbox: Any) -> None:
    payload = {**VALID, "email": "tester@example.com"}
    statuses = [
        _post(client, ip=f"192.0.2.{n}", json={**payload, "email": email}).status_code
        for n, email in enumerate(
            ["tester@example.com", "TESTER@example.com", " tester@example.com"], start=1
        )
    ]

    limited = _post(client, ip="192.0.2.200", json=payload)
    other_email = _post(client, ip="192.0.2.201", json={**VALID, "email": "someone@example.com"})

    assert statuses == [201, 201, 201]
    assert limited.status_code == 429
    assert limited.get_json()["message"] == RATE_LIMITED_MESSAGE
    assert other_email.status_code == 201


def test_preflight_requests_are_not_counted(client: FlaskClient) -> None:
    for _ in range(5):
        client.options("/api/v1/checkout", environ_base={"REMOTE_ADDR": "203.0.113.7"})

    assert _post(client).status_code == 201


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client: FlaskClient) -> None:
    statuses = [
        _post(client, headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code for n in range(4)
    ]

    assert statuses == [201, 201, 201, 429]


@pytest.mark.parametrize("app_overrides", [{"trusted_proxy_count": 1}], indirect=True)
def test_behind_a_trusted_proxy_the_client_ip_comes_from_x_forwarded_for(
    client: FlaskClient, app_overrides: dict[str, Any]
) -> None:
    proxy = "10.0.0.1"
    # Each reader behind the proxy has their own allowance.
    readers = [
        _post(client, ip=proxy, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
        for n in range(4)
    ]
    # A client cannot dodge the limit by sending its own X-Forwarded-For entries:
    # only the entry our one trusted proxy appended counts.
    spoofed = [
        _post(client, ip=proxy, headers={"X-Forwarded-For": f"1.2.3.{n}, 203.0.113.50"}).status_code
        for n in range(4)
    ]

    assert readers == [201, 201, 201, 201]
    assert spoofed == [201, 201, 201, 429]
