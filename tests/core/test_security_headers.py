"""Every page carries a CSP and the usual security headers."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import make_test_app


def test_pages_carry_a_content_security_policy(client: FlaskClient) -> None:
    response = client.get("/support")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp
    assert "https://checkout.stripe.com" in csp  # the donation form redirects there
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_json_responses_are_nosniff_without_a_page_policy(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers


def test_https_deployments_get_hsts(database_url: str) -> None:
    app = make_test_app(database_url, public_base_url="https://support.news.example")
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_the_sandbox_origin_may_receive_form_redirects(database_url: str) -> None:
    app = make_test_app(database_url, stripe_api_base="http://127.0.0.1:12111")
    csp = app.test_client().get("/support").headers["Content-Security-Policy"]
    assert "http://127.0.0.1:12111" in csp.split("form-action")[1].split(";")[0]
