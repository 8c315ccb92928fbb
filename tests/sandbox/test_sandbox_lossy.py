"""Controls for the events that lose information if ignored: an expired checkout, a failed
refund, a changed email, a deleted customer and a dispute inquiry."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from flask.testing import FlaskClient

from stripe_sandbox import SandboxServer

from .conftest import monthly_params, one_off_params


@pytest.fixture
def browser(sandbox: SandboxServer) -> FlaskClient:
    return sandbox.app.test_client()


def _types(response: Any) -> list[str]:
    return [event["type"] for event in response.get_json()["events"]]


def _paid_charge(client: stripe.StripeClient, sandbox: SandboxServer) -> dict[str, Any]:
    session = client.v1.checkout.sessions.create(params=one_off_params())
    assert sandbox.sim.complete_checkout(session.id, email="a@example.com").status == "succeeded"
    return sandbox.state.objects("charge")[0]


def test_an_open_checkout_expires_by_control_or_api(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    first = client.v1.checkout.sessions.create(params=one_off_params())
    response = browser.post(f"/_sandbox/checkout/{first.id}/expire")
    assert response.status_code == 200
    assert _types(response) == ["checkout.session.expired"]
    assert client.v1.checkout.sessions.retrieve(first.id).status == "expired"
    second = client.v1.checkout.sessions.create(params=one_off_params())
    assert client.v1.checkout.sessions.expire(second.id).status == "expired"
    with pytest.raises(stripe.InvalidRequestError, match="can be expired"):
        client.v1.checkout.sessions.expire(second.id)


def test_a_failed_refund_gives_the_money_back_to_the_charge(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    charge = _paid_charge(client, sandbox)
    refund = browser.post(f"/_sandbox/charges/{charge['id']}/refund", json={"amount": 500})
    refund_id = refund.get_json()["object"]["id"]
    response = browser.post(f"/_sandbox/refunds/{refund_id}/fail")
    assert response.status_code == 200
    assert _types(response) == ["charge.refund.updated", "refund.failed"]
    failed = client.v1.refunds.retrieve(refund_id)
    assert (failed.status, failed.failure_reason) == ("failed", "expired_or_canceled_card")
    after = client.v1.charges.retrieve(charge["id"])
    assert (after.amount_refunded, after.refunded) == (0, False)
    listed = client.v1.refunds.list({"charge": charge["id"]})
    assert [item.id for item in listed.data] == [refund_id]


def test_a_customers_email_changes_and_the_customer_is_deleted(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    session = client.v1.checkout.sessions.create(params=monthly_params())
    sandbox.sim.complete_checkout(session.id)
    customer_id = sandbox.state.get(session.id)["customer"]
    response = browser.post(
        f"/_sandbox/customers/{customer_id}/update", json={"email": "new@example.com"}
    )
    assert _types(response) == ["customer.updated"]
    updated = sandbox.state.events[-1]
    assert updated["data"]["previous_attributes"] == {"email": "reader@example.com"}
    assert client.v1.customers.retrieve(customer_id).email == "new@example.com"

    response = browser.post(f"/_sandbox/customers/{customer_id}/delete")
    assert _types(response) == ["customer.subscription.deleted", "customer.deleted"]
    assert client.v1.customers.retrieve(customer_id).to_dict() == {
        "id": customer_id,
        "object": "customer",
        "deleted": True,
    }


def test_an_inquiry_withdraws_nothing_and_closes_without_a_verdict(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    charge = _paid_charge(client, sandbox)
    response = browser.post(f"/_sandbox/charges/{charge['id']}/dispute", json={"inquiry": True})
    assert _types(response) == ["charge.dispute.created"]
    inquiry = response.get_json()["object"]
    assert inquiry["status"] == "warning_needs_response"
    assert inquiry["is_charge_refundable"] is True
    assert inquiry["balance_transactions"] == []
    closed = browser.post(f"/_sandbox/disputes/{inquiry['id']}/close", json={"outcome": "won"})
    assert closed.get_json()["object"]["status"] == "warning_closed"
