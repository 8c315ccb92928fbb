"""Every JSON error reaches the client with its own message in one shape; pages too."""

from __future__ import annotations

from typing import Any

import flask
import flask_smorest
import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.donations.api import RATE_LIMITED_MESSAGE, STRIPE_DOWN_MESSAGE
from tests.conftest import make_test_app
from tests.live import reserve_port

SHAPE = {"code", "status", "message"}


def _json_error(response: Any, code: int) -> dict[str, Any]:
    """The body of a JSON error, checked against the documented shape."""
    assert response.status_code == code
    assert response.is_json
    body: dict[str, Any] = response.get_json()
    assert SHAPE <= set(body) <= SHAPE | {"errors"}
    assert body["code"] == code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.fixture
def probed(app: Flask) -> Flask:
    """Add API and page routes that fail the ways views fail."""

    @app.get("/api/v1/probe/flask-abort")
    def flask_abort() -> Any:
        flask.abort(409, "That was already done.")

    @app.get("/api/v1/probe/smorest-abort")
    def smorest_abort() -> Any:
        flask_smorest.abort(
            422,
            message="The variant is not running.",
            errors={"json": {"variant": ["Unknown."]}},
            headers={"X-Probe": "kept"},
        )

    @app.get("/api/v1/probe/crash")
    def crash() -> Any:
        raise RuntimeError("secret internals")

    @app.get("/probe/page-abort")
    def page_abort() -> Any:
        flask.abort(409, "You cannot change your own account here.")

    @app.get("/probe/page-smorest-abort")
    def page_smorest_abort() -> Any:
        flask_smorest.abort(422, message="That slug is taken.")

    @app.get("/probe/page-crash")
    def page_crash() -> Any:
        raise RuntimeError("secret internals")

    return app


def test_flask_abort_with_a_description_keeps_it(probed: Flask) -> None:
    body = _json_error(probed.test_client().get("/api/v1/probe/flask-abort"), 409)
    assert body == {"code": 409, "status": "Conflict", "message": "That was already done."}


def test_smorest_abort_with_a_message_keeps_it_its_errors_and_headers(probed: Flask) -> None:
    response = probed.test_client().get("/api/v1/probe/smorest-abort")
    body = _json_error(response, 422)
    assert body["message"] == "The variant is not running."
    assert body["errors"] == {"json": {"variant": ["Unknown."]}}
    assert response.headers["X-Probe"] == "kept"


def test_a_real_smorest_abort_reaches_the_widget_with_its_message(client: FlaskClient) -> None:
    response = client.post("/api/v1/appeal-events/batch", data="not json")
    body = _json_error(response, 400)
    assert body["message"] == "Send the events as JSON."


def test_validation_errors_name_each_field(client: FlaskClient) -> None:
    response = client.post("/api/v1/checkout", json={"frequency": "weekly", "amount": "x"})
    body = _json_error(response, 422)
    assert {"frequency", "amount"} <= set(body["errors"]["json"])


def test_query_validation_errors_name_the_query(client: FlaskClient) -> None:
    body = _json_error(client.get("/api/v1/appeal?placement=sideways"), 422)
    assert "placement" in body["errors"]["query"]


def test_unknown_api_path_is_a_json_404(client: FlaskClient) -> None:
    body = _json_error(client.get("/api/v1/nothing-here"), 404)
    assert body["status"] == "Not Found"


def test_wrong_method_is_a_json_405_that_keeps_allow(client: FlaskClient) -> None:
    response = client.get("/api/v1/checkout")
    _json_error(response, 405)
    assert "POST" in response.headers["Allow"]


def test_an_oversized_body_is_a_json_413(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/appeal-events",
        data=b'{"type": "' + b"x" * 300_000 + b'"}',
        content_type="application/json",
    )
    body = _json_error(response, 413)
    assert body["status"] == "Request Entity Too Large"


@pytest.mark.parametrize("app_overrides", [{"checkout_rate_limit": "1 per minute"}])
def test_too_many_requests_is_a_json_429_that_keeps_retry_after(client: FlaskClient) -> None:
    first = client.post("/api/v1/checkout", json={})
    limited = client.post("/api/v1/checkout", json={})
    assert first.status_code == 422
    body = _json_error(limited, 429)
    assert body["message"] == RATE_LIMITED_MESSAGE
    assert int(limited.headers["Retry-After"]) > 0


def test_an_unexpected_exception_is_a_json_500_without_internals(probed: Flask) -> None:
    body = _json_error(probed.test_client().get("/api/v1/probe/crash"), 500)
    assert body["status"] == "Internal Server Error"
    assert "secret internals" not in body["message"]


def test_stripe_unreachable_is_a_json_502_with_its_message(database_url: str) -> None:
    app = make_test_app(
        database_url,
        stripe_api_base=f"http://127.0.0.1:{reserve_port()}",
        stripe_timeout_seconds=1.0,
    )
    response = app.test_client().get("/api/v1/checkout/sessions/cs_test_abc")
    assert _json_error(response, 502)["message"] == STRIPE_DOWN_MESSAGE


def test_database_away_is_a_json_503_with_its_message() -> None:
    app = make_test_app("postgresql://nobody@127.0.0.1:1/none")
    beacon = {"type": "impression", "campaign": "c", "variant": "v", "placement": "top"}
    beacon["view_id"] = "0123456789abcdef"
    response = app.test_client().post("/api/v1/appeal-events", json=beacon)
    assert _json_error(response, 503)["message"] == "Appeal events cannot be counted right now."


def test_an_html_page_shows_the_same_message(probed: Flask) -> None:
    client = probed.test_client()
    described = client.get("/probe/page-abort")
    smorest = client.get("/probe/page-smorest-abort")
    assert described.status_code == 409
    assert "text/html" in described.content_type
    assert "You cannot change your own account here." in described.get_data(as_text=True)
    assert smorest.status_code == 422
    assert "That slug is taken." in smorest.get_data(as_text=True)


def test_html_pages_keep_their_friendly_text_for_generic_404_and_500(probed: Flask) -> None:
    client = probed.test_client()
    missing = client.get("/nothing-here").get_data(as_text=True)
    crashed = client.get("/probe/page-crash")
    assert "We could not find that page." in missing
    assert crashed.status_code == 500
    page = crashed.get_data(as_text=True)
    assert "Something went wrong on our side." in page
    assert "secret internals" not in page
