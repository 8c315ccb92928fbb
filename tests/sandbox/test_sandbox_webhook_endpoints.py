"""Webhook endpoints created through the API, as ``stripe-webhook register`` does: Stripe's
object shape, the secret once, and delivery signed with that endpoint's own secret."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import stripe

from stripe_sandbox import API_VERSION, SandboxServer
from tests.sandbox.conftest import WebhookReceiver, close_client, make_client, one_off_params


@pytest.fixture
def quiet_client(quiet_sandbox: SandboxServer) -> Iterator[stripe.StripeClient]:
    stripe_client = make_client(quiet_sandbox.url)
    yield stripe_client
    close_client(stripe_client)


def _verified(receiver: WebhookReceiver, index: int, secret: str) -> stripe.Event:
    delivery = receiver.deliveries[index]
    return stripe.Webhook.construct_event(
        delivery.body.decode(), delivery.headers["Stripe-Signature"], secret
    )


def test_a_created_endpoint_gets_the_events_it_names_signed_with_its_own_secret(
    quiet_sandbox: SandboxServer, quiet_client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    created = quiet_client.v1.webhook_endpoints.create(
        {
            "url": receiver.url,
            "enabled_events": ["checkout.session.completed", "charge.succeeded"],
            "api_version": API_VERSION,
        }
    )
    assert created.secret and created.secret.startswith("whsec_")
    assert (created.api_version, created.status) == (API_VERSION, "enabled")

    session = quiet_client.v1.checkout.sessions.create(one_off_params())
    quiet_sandbox.sim.complete_checkout(session.id, "4242424242424242", email="a@example.com")
    assert quiet_sandbox.webhooks.wait_idle()

    wanted = {"checkout.session.completed", "charge.succeeded"}
    sent = [e["type"] for e in quiet_sandbox.events if e["type"] in wanted]
    assert len(sent) == 2 and len(quiet_sandbox.events) > 2  # others exist, not sent
    received = [_verified(receiver, i, created.secret) for i in range(len(receiver.deliveries))]
    assert sorted(event.type for event in received) == sorted(sent)
    with pytest.raises(stripe.SignatureVerificationError):
        _verified(receiver, 0, "whsec_" + "x" * 32)
    # Stripe counts the endpoints an event still has to reach: one when sent, none after.
    assert {json.loads(d.body)["pending_webhooks"] for d in receiver.deliveries} == {1}
    pending = {e["type"]: e["pending_webhooks"] for e in quiet_sandbox.events}
    assert set(pending.values()) == {0}  # delivered, or never meant for the endpoint


def test_the_secret_is_shown_only_at_creation_and_list_retrieve_update_work(
    quiet_client: stripe.StripeClient,
) -> None:
    first = quiet_client.v1.webhook_endpoints.create(
        {"url": "https://news.example/webhooks/stripe", "enabled_events": ["invoice.paid"]}
    )
    second = quiet_client.v1.webhook_endpoints.create(
        {"url": "https://other.example/hook", "enabled_events": ["*"], "description": "x"}
    )
    listed = quiet_client.v1.webhook_endpoints.list({"limit": 1})
    assert [e.id for e in listed.data] == [second.id] and listed.has_more
    every = quiet_client.v1.webhook_endpoints.list()
    assert [e.id for e in every.data] == [second.id, first.id]
    assert all(getattr(e, "secret", None) is None for e in every.data)

    fetched = quiet_client.v1.webhook_endpoints.retrieve(first.id)
    assert getattr(fetched, "secret", None) is None
    assert fetched.api_version is None  # the account's default when none was asked for

    updated = quiet_client.v1.webhook_endpoints.update(
        first.id,
        {
            "url": "https://news.example/webhooks/stripe2",
            "enabled_events": ["invoice.paid", "invoice.payment_failed"],
            "metadata": {"by": "test"},
            "disabled": True,
        },
    )
    assert updated.url == "https://news.example/webhooks/stripe2"
    assert updated.enabled_events == ["invoice.paid", "invoice.payment_failed"]
    assert (updated.status, updated.metadata.to_dict()) == ("disabled", {"by": "test"})
    assert getattr(updated, "secret", None) is None


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"url": "https://a.example/h"}, "enabled_events", "parameter_missing"),
        ({"enabled_events": ["invoice.paid"]}, "url", "parameter_missing"),
        (
            {"url": "https://a.example/h", "enabled_events": ["invoice.paid"], "x": "1"},
            "x",
            "parameter_unknown",
        ),
        ({"url": "https://a.example/h", "enabled_events": ["not an event"]}, None, None),
        (
            {
                "url": "https://a.example/h",
                "enabled_events": ["invoice.paid"],
                "api_version": "2024-06-20",
            },
            "api_version",
            None,
        ),
        ({"url": "ftp://a.example/h", "enabled_events": ["invoice.paid"]}, "url", None),
    ],
)
def test_what_stripe_refuses_is_refused(
    quiet_client: stripe.StripeClient, params: dict[str, object], param: str | None, code: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        quiet_client.v1.webhook_endpoints.create(params)  # type: ignore[arg-type]
    if param is not None:
        assert refused.value.param == param
    if code is not None:
        assert refused.value.code == code


def test_a_deleted_endpoint_is_gone_and_gets_nothing_more(
    quiet_sandbox: SandboxServer, quiet_client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    created = quiet_client.v1.webhook_endpoints.create(
        {"url": receiver.url, "enabled_events": ["*"]}
    )
    deleted = quiet_client.v1.webhook_endpoints.delete(created.id)
    assert deleted.id == created.id and deleted.deleted is True
    assert quiet_client.v1.webhook_endpoints.list().data == []
    quiet_client.v1.checkout.sessions.create(one_off_params())
    assert quiet_sandbox.webhooks.wait_idle()
    assert receiver.deliveries == []
    with pytest.raises(stripe.InvalidRequestError):
        quiet_client.v1.webhook_endpoints.delete(created.id)


def test_an_unknown_endpoint_is_404(quiet_client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        quiet_client.v1.webhook_endpoints.retrieve("we_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_a_disabled_endpoint_gets_nothing_and_the_configured_one_is_listed(
    sandbox: SandboxServer, client: stripe.StripeClient, receiver: WebhookReceiver
) -> None:
    (configured,) = client.v1.webhook_endpoints.list().data
    assert (configured.url, configured.enabled_events) == (receiver.url, ["*"])
    client.v1.webhook_endpoints.update(configured.id, {"disabled": True})
    session = client.v1.checkout.sessions.create(one_off_params())
    sandbox.sim.complete_checkout(session.id, "4242424242424242", email="a@example.com")
    assert sandbox.webhooks.wait_idle()
    assert receiver.deliveries == []
    assert all(event["pending_webhooks"] == 0 for event in sandbox.events)
