"""The ``/v1`` API, driven by the official ``stripe`` package over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import stripe

from stripe_sandbox import DEFAULT_API_KEY, SandboxServer

from .conftest import API_KEY, close_client, make_client, monthly_params, one_off_params


def _create(client: stripe.StripeClient, params: dict[str, Any], **options: Any) -> Any:
    return client.v1.checkout.sessions.create(params=params, options=options or None)


def test_one_off_session_is_open_with_a_hosted_url(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    session = _create(client, one_off_params())
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.url == f"{sandbox.url}/c/pay/{session.id}"
    assert (session.amount_total, session.currency, session.mode) == (2500, "eur", "payment")
    assert session.submit_type == "donate"
    assert session.metadata.to_dict() == {"app": "reader-contributions", "attempt": "a1"}
    assert session.client_reference_id == "a1"
    assert "{CHECKOUT_SESSION_ID}" in session.success_url
    assert session.payment_intent is None
    assert sandbox.state.events == []


def test_monthly_session_and_its_line_items(client: stripe.StripeClient) -> None:
    session = _create(client, monthly_params())
    assert (session.mode, session.customer_email, session.amount_total) == (
        "subscription",
        "reader@example.com",
        500,
    )
    fetched = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    item = fetched.line_items.data[0]
    assert item.description == "Monthly donation"
    assert item.price.recurring.interval == "month"
    assert item.price.unit_amount == 500
    listed = client.v1.checkout.sessions.line_items.list(session.id)
    assert [li.id for li in listed.data] == [item.id]


def test_completed_session_expands_like_stripe(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    one_off = _create(client, one_off_params())
    sandbox.sim.complete_checkout(one_off.id, "4242 4242 4242 4242", email="giver@example.com")
    session = client.v1.checkout.sessions.retrieve(
        one_off.id, params={"expand": ["payment_intent.latest_charge", "customer"]}
    )
    assert session.customer.email == session.customer_details.email
    charge = session.payment_intent.latest_charge
    assert charge.object == "charge" and charge.paid and charge.status == "succeeded"
    assert charge.metadata["attempt"] == "a1"
    assert session.payment_intent.metadata["app"] == "reader-contributions"

    monthly = _create(client, monthly_params())
    sandbox.sim.complete_checkout(monthly.id)
    session = client.v1.checkout.sessions.retrieve(monthly.id, params={"expand": ["subscription"]})
    assert session.subscription.metadata["attempt"] == "m1"
    assert session.subscription.status == "active"


def test_session_list_filters(client: stripe.StripeClient, sandbox: SandboxServer) -> None:
    first = _create(client, one_off_params())
    second = _create(client, monthly_params())
    result = sandbox.sim.complete_checkout(second.id)
    sub_id = result.session["subscription"]
    by_sub = client.v1.checkout.sessions.list(params={"subscription": sub_id})
    assert [s.id for s in by_sub.data] == [second.id]
    everything = client.v1.checkout.sessions.list()
    assert [s.id for s in everything.data] == [second.id, first.id]
    assert client.v1.checkout.sessions.list(params={"payment_intent": "pi_none"}).data == []


def test_unknown_and_missing_params_raise_invalid_request(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        _create(client, one_off_params(colour="blue"))
    assert (unknown.value.code, unknown.value.param) == ("parameter_unknown", "colour")
    params = one_off_params()
    del params["line_items"][0]["price_data"]["currency"]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        _create(client, params)
    assert missing.value.param == "line_items[0][price_data][currency]"
    assert missing.value.code == "parameter_missing"


@pytest.mark.parametrize(
    ("change", "code", "param"),
    [
        # Gone at this API version: Checkout picks payment methods itself.
        ({"payment_method_types": ["card"]}, "parameter_unknown", "payment_method_types"),
        # ``hosted`` became ``hosted_page``.
        ({"ui_mode": "hosted"}, None, "ui_mode"),
        ({"mode": "donation"}, None, "mode"),
        ({"currency": "xyz"}, None, "currency"),
    ],
)
def test_what_stripe_refuses_is_refused(
    client: stripe.StripeClient, change: dict[str, Any], code: str | None, param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        _create(client, one_off_params(**change))
    assert (error.value.http_status, error.value.code, error.value.param) == (400, code, param)


def test_an_unknown_currency_in_price_data_is_refused(client: stripe.StripeClient) -> None:
    params = one_off_params()
    params["line_items"][0]["price_data"]["currency"] = "xyz"
    with pytest.raises(stripe.InvalidRequestError, match="Invalid currency: xyz") as error:
        _create(client, params)
    assert error.value.param == "line_items[0][price_data][currency]"


def test_the_hosted_page_ui_mode_is_accepted_and_shown(client: stripe.StripeClient) -> None:
    assert _create(client, one_off_params(ui_mode="hosted_page")).ui_mode == "hosted_page"
    with pytest.raises(stripe.InvalidRequestError, match="does not emulate"):
        _create(client, one_off_params(ui_mode="embedded_page"))


def test_stripe_rules_on_modes_are_enforced(client: stripe.StripeClient) -> None:
    recurring_in_payment = one_off_params(line_items=monthly_params()["line_items"])
    with pytest.raises(stripe.InvalidRequestError, match="recurring price"):
        _create(client, recurring_in_payment)
    with pytest.raises(stripe.InvalidRequestError, match="payment_intent_data"):
        _create(client, monthly_params(payment_intent_data={"metadata": {"a": "b"}}))
    too_small = one_off_params()
    too_small["line_items"][0]["price_data"]["unit_amount"] = 10
    with pytest.raises(stripe.InvalidRequestError) as error:
        _create(client, too_small)
    assert error.value.code == "amount_too_small"


def test_missing_object_is_404_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.subscriptions.retrieve("sub_missing")
    assert (error.value.http_status, error.value.code) == (404, "resource_missing")
    assert "No such subscription: 'sub_missing'" in str(error.value)


@pytest.mark.parametrize(
    "key",
    ["sk_test_wrong key", "pk_test_publishable", "sk_live_" + "x" * 24],
)
def test_bad_keys_are_refused(sandbox: SandboxServer, key: str) -> None:
    bad = stripe.StripeClient(
        key, base_addresses={"api": sandbox.url}, http_client=stripe.RequestsClient()
    )
    try:
        with pytest.raises(stripe.AuthenticationError) as error:
            bad.v1.customers.retrieve("cus_x")
        assert error.value.http_status == 401
    finally:
        close_client(bad)


def test_missing_key_is_401(sandbox: SandboxServer) -> None:
    response = requests.get(f"{sandbox.url}/v1/customers/cus_x", timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in response.json()["error"]["message"]


def test_configured_key_is_the_only_one_accepted() -> None:
    with SandboxServer(api_key=API_KEY) as sb:
        good, other = (
            make_client(sb.url),
            stripe.StripeClient(
                "sk_test_another",
                base_addresses={"api": sb.url},
                http_client=stripe.RequestsClient(),
            ),
        )
        try:
            with pytest.raises(stripe.InvalidRequestError):
                good.v1.customers.retrieve("cus_x")
            with pytest.raises(stripe.AuthenticationError):
                other.v1.customers.retrieve("cus_x")
        finally:
            close_client(good)
            close_client(other)


def test_a_default_sandbox_accepts_only_its_own_key() -> None:
    with SandboxServer() as sb:
        own = stripe.StripeClient(
            DEFAULT_API_KEY, base_addresses={"api": sb.url}, http_client=stripe.RequestsClient()
        )
        try:
            with pytest.raises(stripe.InvalidRequestError):
                own.v1.customers.retrieve("cus_x")
        finally:
            close_client(own)
        response = requests.get(
            f"{sb.url}/v1/customers/cus_x",
            headers={"Authorization": "Bearer sk_test_any_well_formed_key"},
            timeout=5,
        )
        assert response.status_code == 401
        assert response.json()["error"]["message"].startswith("Invalid API Key provided")


def test_idempotent_replay_and_mismatch(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    first = _create(client, one_off_params(), idempotency_key="attempt-1")
    again = _create(client, one_off_params(), idempotency_key="attempt-1")
    assert again.id == first.id
    assert len(sandbox.state.objects("checkout.session")) == 1
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError) as error:
        _create(client, one_off_params(client_reference_id="other"), idempotency_key="attempt-1")
    assert error.value.http_status == 400
    assert error.value.json_body["error"]["type"] == "idempotency_error"


def test_failed_validation_is_not_saved_for_replay(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        _create(client, one_off_params(mode="nonsense"), idempotency_key="k")
    assert _create(client, one_off_params(), idempotency_key="k").status == "open"


def test_unrecognized_url(sandbox: SandboxServer) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    response = requests.get(f"{sandbox.url}/v1/transfers", headers=headers, timeout=5)
    assert response.status_code == 404
    assert "Unrecognized request URL" in response.json()["error"]["message"]
    assert response.headers["Request-Id"].startswith("req_")


def test_subscription_update_and_cancel_over_the_api(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    result = sandbox.sim.complete_checkout(_create(client, monthly_params()).id)
    sub_id = result.session["subscription"]
    sub = client.v1.subscriptions.retrieve(sub_id)
    item = sub["items"].data[0]
    assert item.current_period_end > item.current_period_start
    updated = client.v1.subscriptions.update(
        sub_id,
        params={
            "metadata": {"note": "hi", "attempt": ""},
            "items": [
                {
                    "id": item.id,
                    "price_data": {
                        "currency": "eur",
                        "product": item.price.product,
                        "unit_amount": 900,
                        "recurring": {"interval": "month"},
                    },
                }
            ],
            "proration_behavior": "none",
        },
    )
    assert updated.metadata.to_dict() == {"app": "reader-contributions", "note": "hi"}
    assert updated["items"].data[0].price.unit_amount == 900
    event = sandbox.state.events[-1]
    assert event["type"] == "customer.subscription.updated"
    assert event["data"]["previous_attributes"]["items"]["data"][0]["price"]["unit_amount"] == 500
    assert event["request"]["id"] == updated.last_response.request_id

    pending = client.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    assert pending.cancel_at_period_end and pending.cancel_at == item.current_period_end
    canceled = client.v1.subscriptions.cancel(sub_id)
    assert canceled.status == "canceled"
    assert sandbox.state.event_types[-1] == "customer.subscription.deleted"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.cancel(sub_id)


def test_not_emulated_params_are_refused_plainly(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    result = sandbox.sim.complete_checkout(_create(client, monthly_params()).id)
    with pytest.raises(stripe.InvalidRequestError, match="does not emulate"):
        client.v1.subscriptions.update(result.session["subscription"], params={"trial_end": 1})


def test_refund_over_the_api(client: stripe.StripeClient, sandbox: SandboxServer) -> None:
    result = sandbox.sim.complete_checkout(
        _create(client, one_off_params()).id, email="giver@example.com"
    )
    pi_id = result.session["payment_intent"]
    partial = client.v1.refunds.create(params={"payment_intent": pi_id, "amount": 1000})
    assert (partial.object, partial.amount, partial.status) == ("refund", 1000, "succeeded")
    charge = client.v1.charges.retrieve(partial.charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, False)
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 5000})
    assert error.value.code == "amount_too_large"
    rest = client.v1.refunds.create(params={"charge": charge.id})
    assert rest.amount == 1500
    assert client.v1.refunds.retrieve(rest.id).id == rest.id
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"charge": charge.id})
    assert again.value.code == "charge_already_refunded"
    refunded = [e for e in sandbox.state.events if e["type"] == "charge.refunded"]
    assert [e["data"]["object"]["amount_refunded"] for e in refunded] == [1000, 2500]
    assert refunded[-1]["data"]["object"]["refunded"] is True


def test_portal_session(client: stripe.StripeClient, sandbox: SandboxServer) -> None:
    result = sandbox.sim.complete_checkout(_create(client, monthly_params()).id)
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": result.session["customer"], "return_url": "https://news.example/"}
    )
    assert portal.id.startswith("bps_")
    assert portal.url == f"{sandbox.url}/p/session/{portal.id}"
    assert portal.return_url == "https://news.example/"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.billing_portal.sessions.create(params={"customer": "cus_nobody"})


def test_every_retrieve_endpoint(client: stripe.StripeClient, sandbox: SandboxServer) -> None:
    result = sandbox.sim.complete_checkout(_create(client, monthly_params()).id)
    session = result.session
    invoice = client.v1.invoices.retrieve(
        session["invoice"], params={"expand": ["payments.data.payment.payment_intent"]}
    )
    pi = invoice.payments.data[0].payment.payment_intent
    charge = client.v1.charges.retrieve(pi.latest_charge)
    dispute = sandbox.sim.dispute(charge.id).object
    assert client.v1.customers.retrieve(session["customer"]).email == "reader@example.com"
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    assert client.v1.disputes.retrieve(dispute["id"]).charge == charge.id
    assert client.v1.subscriptions.retrieve(session["subscription"]).latest_invoice == invoice.id
    payments = client.v1.invoice_payments.list(params={"invoice": invoice.id})
    assert payments.data[0].payment.payment_intent == pi.id


def test_invoice_shape_at_this_api_version(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    result = sandbox.sim.complete_checkout(_create(client, monthly_params()).id)
    raw = sandbox.state.get(result.session["invoice"])
    assert "subscription" not in raw and "charge" not in raw and "payment_intent" not in raw
    assert "payments" not in raw  # includable: only with expand[]=payments
    invoice = client.v1.invoices.retrieve(raw["id"])
    details = invoice.parent.subscription_details
    assert details.subscription == result.session["subscription"]
    assert details.metadata["attempt"] == "m1"
    assert (invoice.status, invoice.billing_reason, invoice.amount_paid) == (
        "paid",
        "subscription_create",
        500,
    )
    line = invoice.lines.data[0]
    assert line.parent.subscription_item_details.subscription == details.subscription
    assert line.description == "1 × Monthly donation (at €5.00 / month)"  # noqa: RUF001


def test_expand_rejects_what_cannot_be_expanded(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    session = _create(client, one_off_params())
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["mode"]})


def test_responses_look_like_stripe(sandbox: SandboxServer) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "raw-1"}
    body = {
        "mode": "payment",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "EUR",
        "line_items[0][price_data][unit_amount]": "700",
        "line_items[0][price_data][product_data][name]": "Gift",
    }
    response = requests.post(
        f"{sandbox.url}/v1/checkout/sessions", data=body, headers=headers, timeout=5
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Stripe-Version"] == "2026-10-28.endive"
    session = json.loads(response.text)
    assert session["currency"] == "eur"
    assert session["livemode"] is False


def test_other_api_versions_are_refused(sandbox: SandboxServer) -> None:
    other = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": sandbox.url},
        stripe_version="2025-03-31.basil",
        http_client=stripe.RequestsClient(),
    )
    try:
        with pytest.raises(stripe.InvalidRequestError, match=r"2026-10-28\.endive only"):
            other.v1.checkout.sessions.create(params=one_off_params())
    finally:
        close_client(other)
