"""Moving subscriptions through time, refunds, disputes and the customer portal."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from flask.testing import FlaskClient

from stripe_sandbox import SandboxServer

from .conftest import monthly_params, one_off_params


def _subscribe(client: stripe.StripeClient, sandbox: SandboxServer) -> dict[str, Any]:
    session = client.v1.checkout.sessions.create(params=monthly_params())
    result = sandbox.sim.complete_checkout(session.id)
    assert result.status == "succeeded"
    return result.session


def _types(response: Any) -> list[str]:
    return [event["type"] for event in response.get_json()["events"]]


@pytest.fixture
def browser(sandbox: SandboxServer) -> FlaskClient:
    return sandbox.app.test_client()


def test_paid_renewal_bills_the_next_period(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    sub_id = _subscribe(client, sandbox)["subscription"]
    before = client.v1.subscriptions.retrieve(sub_id)["items"].data[0]
    response = browser.post(f"/_sandbox/subscriptions/{sub_id}/renew", json={"outcome": "paid"})
    assert response.status_code == 200
    assert _types(response) == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    sub = client.v1.subscriptions.retrieve(sub_id, params={"expand": ["latest_invoice"]})
    item = sub["items"].data[0]
    assert item.current_period_start == before.current_period_end
    assert item.current_period_end > item.current_period_start
    invoice = sub.latest_invoice
    assert (invoice.billing_reason, invoice.status, invoice.amount_paid) == (
        "subscription_cycle",
        "paid",
        500,
    )
    assert invoice.lines.data[0].period.start == item.current_period_start
    assert invoice.parent.subscription_details.subscription == sub_id


def test_failed_renewal_then_paid_renewal(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    sub_id = _subscribe(client, sandbox)["subscription"]
    failed = sandbox.sim.renew_subscription(sub_id, "failed")
    assert failed.object["status"] == "past_due"
    assert "invoice.payment_failed" in failed.event_types
    assert failed.event_types[-1] == "customer.subscription.updated"
    assert failed.events[-1]["data"]["previous_attributes"] == {"status": "active"}
    invoice = client.v1.invoices.retrieve(failed.object["latest_invoice"])
    assert (invoice.status, invoice.amount_paid, invoice.attempted) == ("open", 0, True)
    assert invoice.next_payment_attempt is not None
    charges = sandbox.state.objects("charge")
    assert charges[-1]["status"] == "failed" and charges[-1]["failure_code"] == "card_declined"

    recovered = sandbox.sim.renew_subscription(sub_id, "paid")
    assert recovered.object["status"] == "active"
    assert recovered.events[-1]["type"] == "customer.subscription.updated"
    assert recovered.events[-1]["data"]["previous_attributes"] == {"status": "past_due"}


def test_cancel_control_and_cancel_at_period_end(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    sub_id = _subscribe(client, sandbox)["subscription"]
    at_end = sandbox.sim.cancel_subscription(sub_id, at_period_end=True)
    assert at_end.event_types == ["customer.subscription.updated"]
    previous = at_end.events[0]["data"]["previous_attributes"]
    assert previous["cancel_at_period_end"] is False
    # At the period's end the subscription ends instead of renewing.
    ended = sandbox.sim.renew_subscription(sub_id)
    assert ended.event_types == ["customer.subscription.deleted"]
    assert ended.object["status"] == "canceled"

    other = _subscribe(client, sandbox)["subscription"]
    response = browser.post(f"/_sandbox/subscriptions/{other}/cancel", json={})
    assert _types(response) == ["customer.subscription.deleted"]
    sub = client.v1.subscriptions.retrieve(other)
    assert sub.status == "canceled" and sub.ended_at is not None
    assert sub.cancellation_details.reason == "cancellation_requested"
    assert browser.post(f"/_sandbox/subscriptions/{other}/renew", json={}).status_code == 400


def test_refund_control(client: stripe.StripeClient, sandbox: SandboxServer) -> None:
    session = client.v1.checkout.sessions.create(params=one_off_params())
    sandbox.sim.complete_checkout(session.id, email="a@example.com")
    charge_id = sandbox.state.objects("charge")[0]["id"]
    browser = sandbox.app.test_client()
    response = browser.post(f"/_sandbox/charges/{charge_id}/refund", json={})
    assert _types(response) == ["charge.refunded"]
    refund = response.get_json()["object"]
    assert refund["id"].startswith("re_") and refund["amount"] == 2500
    event = sandbox.state.events[-1]
    assert event["data"]["object"]["refunded"] is True
    assert event["data"]["object"]["amount_refunded"] == 2500
    assert event["data"]["previous_attributes"]["amount_refunded"] == 0
    assert event["data"]["object"]["metadata"]["attempt"] == "a1"


def test_dispute_created_and_closed(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    session = client.v1.checkout.sessions.create(params=one_off_params())
    result = sandbox.sim.complete_checkout(session.id, email="a@example.com")
    pi_id = result.session["payment_intent"]
    charge_id = client.v1.payment_intents.retrieve(pi_id).latest_charge
    created = browser.post(f"/_sandbox/charges/{charge_id}/dispute", json={})
    assert _types(created) == ["charge.dispute.created"]
    dispute = created.get_json()["object"]
    assert dispute["id"].startswith("du_")
    assert (dispute["charge"], dispute["payment_intent"]) == (charge_id, pi_id)
    assert (dispute["amount"], dispute["status"]) == (2500, "needs_response")
    assert client.v1.charges.retrieve(charge_id).disputed is True
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.refunds.create(params={"charge": charge_id})
    assert error.value.code == "charge_disputed"

    closed = browser.post(f"/_sandbox/disputes/{dispute['id']}/close", json={"outcome": "lost"})
    assert _types(closed) == ["charge.dispute.closed"]
    assert client.v1.disputes.retrieve(dispute["id"]).status == "lost"
    again = browser.post(f"/_sandbox/disputes/{dispute['id']}/close", json={"outcome": "won"})
    assert again.status_code == 400


def _portal(client: stripe.StripeClient, customer: str) -> str:
    session = client.v1.billing_portal.sessions.create(
        params={"customer": customer, "return_url": "https://news.example/account"}
    )
    return f"/p/session/{session.id}"


def test_portal_lists_and_cancels_at_period_end(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    session = _subscribe(client, sandbox)
    path = _portal(client, session["customer"])
    page = browser.get(path).get_data(as_text=True)
    assert "Stripe sandbox — test double, not Stripe" in page
    assert "€5.00 per month" in page and "active" in page
    assert "Cancel monthly donation" in page and "Change amount" in page
    assert "Update card" in page and "Return to news.example" in page
    assert 'href="https://news.example/account"' in page

    sub_id = session["subscription"]
    response = browser.post(f"{path}/subscriptions/{sub_id}/cancel")
    assert response.status_code == 303
    event = sandbox.state.events[-1]
    assert event["type"] == "customer.subscription.updated"
    assert event["data"]["object"]["cancel_at_period_end"] is True
    assert "Don't cancel" in browser.get(response.headers["Location"]).get_data(as_text=True)
    browser.post(f"{path}/subscriptions/{sub_id}/resume")
    assert client.v1.subscriptions.retrieve(sub_id).cancel_at_period_end is False

    browser.post(f"{path}/subscriptions/{sub_id}/end")
    assert sandbox.state.event_types[-1] == "customer.subscription.deleted"
    assert "Ended on" in browser.get(path).get_data(as_text=True)


def test_portal_changes_amount_and_card(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    session = _subscribe(client, sandbox)
    path = _portal(client, session["customer"])
    sub_id = session["subscription"]
    too_small = browser.post(f"{path}/subscriptions/{sub_id}/amount", data={"amount": "0.10"})
    assert "Enter an amount of at least €0.50." in too_small.get_data(as_text=True)
    assert browser.post(f"{path}/subscriptions/{sub_id}/amount", data={"amount": "12,50"})
    sub = client.v1.subscriptions.retrieve(sub_id)
    assert sub["items"].data[0].price.unit_amount == 1250
    assert sandbox.state.events[-1]["type"] == "customer.subscription.updated"

    declined = browser.post(
        f"{path}/card",
        data={"card_number": "4000000000000002", "card_expiry": "12/34", "card_cvc": "123"},
    )
    assert "Your card was declined." in declined.get_data(as_text=True)
    mark = len(sandbox.state.events)
    updated = browser.post(
        f"{path}/card",
        data={"card_number": "5555 5555 5555 4444", "card_expiry": "12/34", "card_cvc": "123"},
    )
    assert updated.status_code == 303
    assert sandbox.state.event_types[mark:] == [
        "payment_method.attached",
        "customer.updated",
        "customer.subscription.updated",
    ]
    assert "Mastercard ending in 4444" in browser.get(path).get_data(as_text=True)


def test_portal_refuses_other_customers_subscriptions(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    mine = _subscribe(client, sandbox)
    theirs = _subscribe(client, sandbox)
    path = _portal(client, mine["customer"])
    response = browser.post(f"{path}/subscriptions/{theirs['subscription']}/end")
    assert response.status_code == 404
    assert browser.get("/p/session/bps_unknown").status_code == 404


def test_controls_page_lists_everything(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    session = _subscribe(client, sandbox)
    sandbox.webhooks.wait_idle()
    page = browser.get("/_sandbox").get_data(as_text=True)
    assert "Stripe sandbox — test double, not Stripe" in page
    assert session["subscription"] in page and session["customer"] in page
    assert "checkout.session.completed" in page and "delivered" in page
    # A browser's form post lands back on the page with a message.
    response = browser.post(
        f"/_sandbox/subscriptions/{session['subscription']}/renew", data={"outcome": "paid"}
    )
    assert response.status_code == 303 and response.headers["Location"].startswith("/_sandbox")
