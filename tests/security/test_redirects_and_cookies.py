"""No open redirects (return_url, sign-in next, manage links), and cookies locked down."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.extensions import db
from service.ledger.models import CheckoutAttempt
from service.staff.accounts import create_staff_user
from service.staff.models import StaffRole
from stripe_sandbox.server import SandboxServer
from tests.stripe_fixtures import checked_sandbox

PUBLIC = "https://support.paper.example"
PASSWORD = "correct horse battery staple"
OFF_SITE = [
    "https://evil.example/article",
    "https://news.example.evil.example/article",
    "https://news.example@evil.example/article",
    "https://evil.example\\@news.example/",
    "//evil.example/article",
    "/\\evil.example/article",
    "https:evil.example",
    "http://news.example/article",  # the publisher is https only
    "javascript:alert(document.domain)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://news.example/file",
    "https://user:pass@news.example/article",
    "",
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with checked_sandbox(deliver_webhooks=False) as server:
        yield server


@pytest.fixture
def app_overrides(sandbox: SandboxServer) -> dict[str, Any]:
    return {
        "stripe_api_base": sandbox.url,
        "public_base_url": PUBLIC,
        "checkout_rate_limit": "1000 per minute",
    }


def _attempts(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(CheckoutAttempt)) or 0)


@pytest.mark.parametrize("return_url", OFF_SITE)
def test_checkout_refuses_a_return_url_off_our_sites_and_writes_nothing(
    app: Flask, client: FlaskClient, return_url: str
) -> None:
    body = {"frequency": "one_off", "amount": 1000, "currency": "eur", "return_url": return_url}
    response = client.post("/api/v1/checkout", json=body)
    assert response.status_code == 422, response.get_json()
    assert "return_url" in response.get_json()["errors"]["json"]
    assert _attempts(app) == 0


@pytest.mark.parametrize(
    "return_url", ["https://news.example/2026/harbour?ref=x", f"{PUBLIC}/support"]
)
def test_stripe_sends_the_reader_back_only_to_the_page_given(
    client: FlaskClient, sandbox: SandboxServer, return_url: str
) -> None:
    body = {"frequency": "one_off", "amount": 1000, "currency": "eur", "return_url": return_url}
    response = client.post("/api/v1/checkout", json=body)
    assert response.status_code == 201
    session = sandbox.state.get(response.get_json()["session_id"])
    expected = urlsplit(return_url)
    cancel = urlsplit(session["cancel_url"])
    assert (cancel.scheme, cancel.netloc, cancel.path) == (
        expected.scheme,
        expected.netloc,
        expected.path,
    )
    # Paid, Stripe brings the reader to our thank-you, which sends them on to that page
    # alone, the pass in the fragment and no session id anywhere in it.
    assert session["success_url"].startswith(f"{PUBLIC}/support/thank-you?session_id=")
    sandbox.sim.complete_checkout(session["id"], "4242424242424242", email="r@paper.example")
    back = client.get(f"/support/thank-you?session_id={session['id']}&back=1")
    assert back.status_code == 303
    location = urlsplit(back.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        expected.scheme,
        expected.netloc,
        expected.path,
    )
    assert location.fragment.startswith("rc_pass=")
    assert session["id"] not in back.headers["Location"]


@pytest.fixture
def staff(app: Flask) -> str:
    with app.app_context():
        user = create_staff_user(db.session, "editor@paper.example", PASSWORD, StaffRole.ADMIN)
        db.session.commit()
        return user.email


def _sign_in(client: FlaskClient, email: str, query: str = "") -> Any:
    page = client.get("/staff/sign-in", base_url=PUBLIC).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    return client.post(
        f"/staff/sign-in{query}",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        base_url=PUBLIC,
    )


@pytest.mark.parametrize(
    "next_url", [u for u in OFF_SITE if u] + ["/support", "/staff/../../evil", "/staffing"]
)
def test_sign_in_never_sends_staff_off_our_staff_pages(
    client: FlaskClient, staff: str, next_url: str
) -> None:
    response = _sign_in(client, staff, f"?next={next_url}")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    # Same site: no scheme, no host, nothing a browser would read as one (//, /\).
    assert not location.scheme and not location.netloc, location
    assert location.path.startswith("/staff/")
    assert not location.path.startswith(("//", "/\\")) and "\\" not in location.path


@pytest.mark.parametrize(
    "token", ["not-a-token", "eyJjdXN0b21lciI6ImN1c190ZXN0In0.invalid.signature", "a" * 300]
)
def test_a_forged_manage_link_redirects_nowhere(client: FlaskClient, token: str) -> None:
    response = client.get(f"/support/manage/{token}")
    # Old manage links (forged or not) all get the same page asking to sign in by email.
    assert response.status_code == 410
    assert "Location" not in response.headers


def _cookies(response: Any) -> dict[str, Any]:
    jar: dict[str, Any] = {}
    for header in response.headers.getlist("Set-Cookie"):
        jar.update(SimpleCookie(header))
    return jar


def _assert_locked_down(morsel: Any) -> None:
    assert morsel["secure"], morsel.output()
    assert morsel["httponly"], morsel.output()
    assert morsel["samesite"] == "Lax", morsel.output()


def test_the_staff_session_cookie_is_secure_httponly_and_samesite(
    client: FlaskClient, staff: str
) -> None:
    response = _sign_in(client, staff)
    assert response.status_code == 302
    cookies = _cookies(response)
    assert "session" in cookies
    for morsel in cookies.values():
        _assert_locked_down(morsel)


def test_a_paid_donation_sets_no_cookie_the_signed_pass_marks_the_supporter(
    client: FlaskClient, sandbox: SandboxServer, session: Session
) -> None:
    body = {"frequency": "one_off", "amount": 1500, "currency": "eur"}
    created = client.post("/api/v1/checkout", json=body).get_json()
    result = sandbox.sim.complete_checkout(created["session_id"], email="reader@example.com")
    assert result.status == "succeeded"
    response = client.get(f"/support/thank-you?session_id={created['session_id']}")
    assert response.status_code == 200
    # An unsigned flag anyone could set is gone; the page carries the signed pass.
    assert _cookies(response) == {}
    assert "data-supporter-pass=" in response.get_data(as_text=True)
