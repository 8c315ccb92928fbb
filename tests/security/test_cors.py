"""CORS: the widget's publisher sites may call the API; no other origin may read it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from stripe_sandbox.server import SandboxServer
from tests.stripe_fixtures import checked_sandbox

ALLOWED = "https://news.example"  # ALLOWED_EMBED_ORIGINS in the test settings
FOREIGN = [
    "https://evil.example",
    "https://news.example.evil.example",  # the allowed origin as a prefix
    "https://evilnews.example",
    "http://news.example",  # another scheme is another origin
    "https://news.example:8443",  # and another port
    "null",  # sandboxed iframes, file: pages
]

# What the widget calls from a publisher's page: (method, path, JSON body).
WIDGET_CALLS = [
    ("GET", "/api/v1/appeal?placement=top&article_id=a1&section=news", None),
    ("GET", "/api/v1/appeals?placements=top,bottom&article_id=a1&section=news", None),
    ("POST", "/api/v1/appeal-events", {"type": "impression"}),
    ("POST", "/api/v1/appeal-events/batch", {"events": [{"type": "impression"}]}),
    ("POST", "/api/v1/checkout", {"frequency": "one_off", "amount": 10, "currency": "eur"}),
    ("GET", "/api/v1/checkout/sessions/cs_test_unknown", None),
]
OTHER_PATHS = [
    ("GET", "/api/v1/supporters/count", None),
    ("GET", "/api/openapi.json", None),
    ("POST", "/webhooks/stripe", {}),
    ("GET", "/healthz", None),
    ("GET", "/support", None),
    ("GET", "/staff/sign-in", None),
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with checked_sandbox(deliver_webhooks=False) as server:
        yield server


@pytest.fixture
def app_overrides(sandbox: SandboxServer) -> dict[str, Any]:
    return {"stripe_api_base": sandbox.url, "checkout_rate_limit": "1000 per minute"}


def _call(client: FlaskClient, method: str, path: str, body: Any, origin: str) -> Any:
    return client.open(path, method=method, json=body, headers={"Origin": origin})


def _preflight(client: FlaskClient, method: str, path: str, origin: str) -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
    )


@pytest.mark.parametrize(("method", "path", "body"), WIDGET_CALLS)
def test_an_allowed_publisher_can_call_and_read_the_widgets_endpoints(
    client: FlaskClient, method: str, path: str, body: Any
) -> None:
    preflight = _preflight(client, method, path, ALLOWED)
    assert preflight.status_code in {200, 204}
    assert preflight.headers.get("Access-Control-Allow-Origin") == ALLOWED
    assert method in preflight.headers.get("Access-Control-Allow-Methods", "")
    assert "content-type" in preflight.headers.get("Access-Control-Allow-Headers", "").lower()

    response = _call(client, method, path, body, ALLOWED)
    assert response.status_code < 500
    # Errors too (422, 404): the widget must be able to read why.
    assert response.headers.get("Access-Control-Allow-Origin") == ALLOWED
    assert "Origin" in response.headers.get("Vary", "")


@pytest.mark.parametrize("origin", FOREIGN)
@pytest.mark.parametrize(("method", "path", "body"), WIDGET_CALLS + OTHER_PATHS)
def test_any_other_origin_gets_no_cors_permission(
    client: FlaskClient, method: str, path: str, body: Any, origin: str
) -> None:
    for response in (
        _preflight(client, method, path, origin),
        _call(client, method, path, body, origin),
    ):
        assert response.status_code < 500
        assert "Access-Control-Allow-Origin" not in response.headers, response.headers
        assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(("method", "path", "body"), WIDGET_CALLS + OTHER_PATHS)
def test_no_wildcard_and_no_credentials_even_for_an_allowed_origin(
    client: FlaskClient, method: str, path: str, body: Any
) -> None:
    response = _call(client, method, path, body, ALLOWED)
    assert response.headers.get("Access-Control-Allow-Origin") in {None, ALLOWED}
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(("method", "path", "body"), WIDGET_CALLS)
def test_every_widget_endpoint_follows_the_same_rules(
    client: FlaskClient, method: str, path: str, body: Any
) -> None:
    preflight = client.options(
        path,
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type, idempotency-key, x-other",
        },
    )
    allowed_headers = preflight.headers.get("Access-Control-Allow-Headers", "").lower()
    assert "idempotency-key" in allowed_headers
    assert "x-other" not in allowed_headers
    assert int(preflight.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in preflight.headers.get("Vary", "")

    response = _call(client, method, path, body, ALLOWED)
    assert "retry-after" in response.headers.get("Access-Control-Expose-Headers", "").lower()


@pytest.mark.parametrize(("method", "path", "body"), WIDGET_CALLS)
def test_answers_without_an_origin_still_vary_on_it_and_name_none(
    client: FlaskClient, method: str, path: str, body: Any
) -> None:
    # CDNs cache the appeal answers: a copy made for one origin must not serve another.
    response = client.open(path, method=method, json=body)
    assert "Origin" in response.headers.get("Vary", "")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_supporter_count_is_readable_by_an_allowed_publisher(client: FlaskClient) -> None:
    response = _call(client, "GET", "/api/v1/supporters/count", None, ALLOWED)
    assert response.headers.get("Access-Control-Allow-Origin") == ALLOWED
    assert "Origin" in response.headers.get("Vary", "")


def test_our_own_public_origin_is_allowed(client: FlaskClient) -> None:
    own = "http://127.0.0.1:5000"  # PUBLIC_BASE_URL in the test settings
    response = _call(client, "GET", "/api/v1/supporters/count", None, own)
    assert response.headers.get("Access-Control-Allow-Origin") == own


@pytest.mark.parametrize("path", ["/api/openapi.json", "/webhooks/stripe", "/staff/sign-in"])
def test_no_other_path_is_shared_even_with_an_allowed_origin(
    client: FlaskClient, path: str
) -> None:
    response = _call(client, "GET", path, None, ALLOWED)
    assert "Access-Control-Allow-Origin" not in response.headers
