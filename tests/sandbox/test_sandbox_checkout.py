"""The hosted test Checkout page and its test cards, through the app's HTTP interface."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from flask.testing import FlaskClient

from stripe_sandbox import SandboxServer

from .conftest import monthly_params, one_off_params

BANNER = "Stripe sandbox — test double, not Stripe"


def _session(client: stripe.StripeClient, params: dict[str, Any]) -> str:
    session_id: str = client.v1.checkout.sessions.create(params=params).id
    return session_id


@pytest.fixture
def browser(sandbox: SandboxServer) -> FlaskClient:
    return sandbox.app.test_client()


def _pay(browser: FlaskClient, session_id: str, card: str, email: str = "") -> Any:
    return browser.post(
        f"/c/pay/{session_id}",
        data={
            "email": email,
            "card_number": card,
            "card_expiry": "12 / 34",
            "card_cvc": "123",
        },
    )


def test_page_shows_amount_frequency_and_form(
    client: stripe.StripeClient, browser: FlaskClient
) -> None:
    monthly = browser.get(f"/c/pay/{_session(client, monthly_params())}").get_data(as_text=True)
    assert BANNER in monthly
    assert "€5.00" in monthly and "per month" in monthly
    assert 'value="reader@example.com" readonly' in monthly
    assert '<label for="card_number">Card number</label>' in monthly
    assert 'href="https://news.example/support"' in monthly and "Back" in monthly
    one_off = browser.get(f"/c/pay/{_session(client, one_off_params())}").get_data(as_text=True)
    assert "Donate €25.00" in one_off
    assert "One-off payment." in one_off
    assert browser.get("/c/pay/cs_test_nothing").status_code == 404


def test_4242_pays_and_redirects_to_success(
    client: stripe.StripeClient, browser: FlaskClient, sandbox: SandboxServer
) -> None:
    session_id = _session(client, one_off_params())
    response = _pay(browser, session_id, "4242 4242 4242 4242", "giver@example.com")
    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"https://news.example/support/thank-you?session_id={session_id}"
    )
    assert sandbox.state.event_types == [
        "customer.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    session = client.v1.checkout.sessions.retrieve(session_id)
    assert (session.status, session.payment_status) == ("complete", "paid")
    assert session.customer_details.email == "giver@example.com"
    assert session.url is None
    assert session.payment_intent.startswith("pi_") and session.customer.startswith("cus_")
    again = browser.get(f"/c/pay/{session_id}").get_data(as_text=True)
    assert "no longer active" in again


def test_one_off_without_customer_creation_has_no_customer(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    params = one_off_params()
    del params["customer_creation"]
    result = sandbox.sim.complete_checkout(_session(client, params), email="guest@example.com")
    assert result.session["customer"] is None
    assert result.session["customer_details"]["email"] == "guest@example.com"
    assert "customer.created" not in result.event_types


def test_monthly_checkout_creates_subscription_invoice_and_charge(
    client: stripe.StripeClient, browser: FlaskClient, sandbox: SandboxServer
) -> None:
    session_id = _session(client, monthly_params())
    assert _pay(browser, session_id, "4242424242424242").status_code == 303
    assert sandbox.state.event_types == [
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
    ]
    session = client.v1.checkout.sessions.retrieve(
        session_id, params={"expand": ["subscription", "invoice"]}
    )
    sub = session.subscription
    item = sub["items"].data[0]
    assert sub.status == "active" and sub.metadata["attempt"] == "m1"
    assert item.price.recurring.interval == "month" and item.price.unit_amount == 500
    assert 28 * 86400 <= item.current_period_end - item.current_period_start <= 31 * 86400
    invoice = session.invoice
    assert invoice.parent.subscription_details.metadata["attempt"] == "m1"
    assert invoice.billing_reason == "subscription_create" and invoice.amount_paid == 500
    paid = sandbox.state.events[-2]["data"]["object"]
    assert paid["status"] == "paid" and paid["id"] == invoice.id
    created = sandbox.state.events[1]["data"]["object"]
    assert created["latest_invoice"] == invoice.id and created["status"] == "active"
    draft = sandbox.state.events[2]["data"]["object"]
    assert (draft["status"], draft["number"]) == ("draft", None)
    charge = sandbox.state.objects("charge")[0]
    assert charge["customer"] == session.customer and charge["balance_transaction"]


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("4000 0000 0000 0002", "Your card was declined."),
        ("4000 0000 0000 9995", "Your card has insufficient funds."),
        ("1234 5678 9012 3456", "Your card number is invalid."),
        ("4242 4242 4242 4241", "Your card number is invalid."),
    ],
)
def test_failing_cards_show_the_error_and_pay_nothing(
    client: stripe.StripeClient,
    browser: FlaskClient,
    sandbox: SandboxServer,
    card: str,
    message: str,
) -> None:
    session_id = _session(client, monthly_params())
    response = _pay(browser, session_id, card)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message.replace("'", "&#39;") in page
    assert 'role="alert"' in page and 'aria-invalid="true"' in page
    assert "checkout.session.completed" not in sandbox.state.event_types
    assert client.v1.checkout.sessions.retrieve(session_id).status == "open"


def test_bad_expiry_and_missing_email(client: stripe.StripeClient, browser: FlaskClient) -> None:
    session_id = _session(client, one_off_params())
    no_email = _pay(browser, session_id, "4242424242424242").get_data(as_text=True)
    assert "Enter your email address." in no_email
    past = browser.post(
        f"/c/pay/{session_id}",
        data={
            "email": "a@example.com",
            "card_number": "4242424242424242",
            "card_expiry": "01 / 20",
            "card_cvc": "123",
        },
    ).get_data(as_text=True)
    assert "expiration date is in the past" in past


def test_3d_secure_complete(
    client: stripe.StripeClient, browser: FlaskClient, sandbox: SandboxServer
) -> None:
    session_id = _session(client, one_off_params())
    response = _pay(browser, session_id, "4000 0025 0000 3155", "a@example.com")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/c/pay/{session_id}/authenticate")
    challenge = browser.get(f"/c/pay/{session_id}/authenticate").get_data(as_text=True)
    assert "Complete authentication" in challenge and "Fail authentication" in challenge
    assert sandbox.state.events == []
    done = browser.post(f"/c/pay/{session_id}/authenticate", data={"action": "complete"})
    assert done.status_code == 303 and session_id in done.headers["Location"]
    assert sandbox.state.event_types[-1] == "checkout.session.completed"
    charge = sandbox.state.objects("charge")[0]
    assert charge["payment_method_details"]["card"]["three_d_secure"]["result"] == "authenticated"


def test_3d_secure_fail(
    client: stripe.StripeClient, browser: FlaskClient, sandbox: SandboxServer
) -> None:
    session_id = _session(client, one_off_params())
    _pay(browser, session_id, "4000002500003155", "a@example.com")
    failed = browser.post(f"/c/pay/{session_id}/authenticate", data={"action": "fail"})
    assert "We are unable to authenticate your payment method" in failed.get_data(as_text=True)
    assert sandbox.state.events == []
    assert client.v1.checkout.sessions.retrieve(session_id).status == "open"
    # Nothing is pending any more: the challenge page sends the reader back to the form.
    assert browser.get(f"/c/pay/{session_id}/authenticate").status_code == 303


def test_complete_control_uses_the_same_path(
    client: stripe.StripeClient, browser: FlaskClient, sandbox: SandboxServer
) -> None:
    session_id = _session(client, one_off_params())
    declined = browser.post(
        f"/_sandbox/checkout/{session_id}/complete",
        json={"card": "4000000000000002", "email": "a@example.com"},
    ).get_json()
    assert (declined["status"], declined["code"]) == ("failed", "card_declined")
    action = browser.post(
        f"/_sandbox/checkout/{session_id}/complete",
        json={"card": "4000002500003155", "email": "a@example.com"},
    ).get_json()
    assert action["status"] == "requires_action"
    done = browser.post(
        f"/_sandbox/checkout/{session_id}/authenticate", json={"outcome": "complete"}
    ).get_json()
    assert done["status"] == "succeeded"
    assert done["redirect_url"].endswith(session_id)
    assert [e["type"] for e in done["events"]][-1] == "checkout.session.completed"
    again = browser.post(f"/_sandbox/checkout/{session_id}/complete", json={})
    assert again.status_code == 400
    assert "no longer active" in again.get_json()["error"]["message"]
