"""Webhook delivery: Stripe's signature, ordering, retries with backoff, manual delivery."""

from __future__ import annotations

import json

import pytest
import stripe

from stripe_sandbox import SandboxServer

from .conftest import WEBHOOK_SECRET, WebhookReceiver, monthly_params, one_off_params


def _pay_one_off(client: stripe.StripeClient, sandbox: SandboxServer) -> None:
    session = client.v1.checkout.sessions.create(params=one_off_params())
    assert sandbox.sim.complete_checkout(session.id, email="a@example.com").status == "succeeded"


def test_deliveries_verify_with_the_stripe_package(
    client: stripe.StripeClient, sandbox: SandboxServer, receiver: WebhookReceiver
) -> None:
    _pay_one_off(client, sandbox)
    assert sandbox.webhooks.wait_idle(5)
    deliveries = receiver.wait_for(4)
    assert [json.loads(d.body)["id"] for d in deliveries] == [e["id"] for e in sandbox.events]
    for delivery in deliveries:
        header = delivery.headers["Stripe-Signature"]
        assert stripe.WebhookSignature.verify_header(delivery.body, header, WEBHOOK_SECRET, 300)
        event = stripe.Webhook.construct_event(delivery.body, header, WEBHOOK_SECRET)
        assert event.api_version == "2026-10-28.endive"
        assert (event.object, event.livemode, event.pending_webhooks) == ("event", False, 1)
        assert delivery.headers["Content-Type"].startswith("application/json")
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.WebhookSignature.verify_header(delivery.body, header, "whsec_wrong", 300)
    completed = stripe.Webhook.construct_event(
        deliveries[-1].body, deliveries[-1].headers["Stripe-Signature"], WEBHOOK_SECRET
    )
    assert completed.type == "checkout.session.completed"
    assert completed.data.object.metadata["attempt"] == "a1"
    assert all(event["pending_webhooks"] == 0 for event in sandbox.state.events)


def test_event_envelope_has_stripes_fields(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    _pay_one_off(client, sandbox)
    event = sandbox.state.events[0]
    assert set(event) == {
        "id",
        "object",
        "api_version",
        "created",
        "data",
        "livemode",
        "pending_webhooks",
        "request",
        "type",
    }
    assert event["id"].startswith("evt_")
    assert event["request"] == {"id": None, "idempotency_key": None}
    assert isinstance(event["created"], int)


def test_failed_delivery_is_retried_with_backoff(
    client: stripe.StripeClient, sandbox: SandboxServer, receiver: WebhookReceiver
) -> None:
    receiver.statuses = [500]
    _pay_one_off(client, sandbox)
    assert sandbox.webhooks.wait_idle(5)
    first = sandbox.state.events[0]["id"]
    attempts = sandbox.state.deliveries(first)
    assert [a.status for a in attempts] == [500, 200]
    assert attempts[1].at - attempts[0].at >= 0.04
    assert sorted(receiver.ok_events()) == sorted(e["id"] for e in sandbox.events)
    # The retried event arrives after newer ones, as Stripe's retries do.
    assert receiver.ok_events()[-1] == first


def test_delivery_gives_up_after_max_attempts() -> None:
    with SandboxServer(
        webhook_url="http://127.0.0.1:9/closed",
        webhook_secret=WEBHOOK_SECRET,
        webhook_backoff=0.02,
        webhook_max_attempts=3,
    ) as unreachable:
        event = unreachable.state.emit("ping.test", {"id": "obj_1", "object": "test"})
        assert unreachable.webhooks.wait_idle(5)
        attempts = unreachable.state.deliveries(event["id"])
        assert len(attempts) == 3
        assert all(a.status is None and a.error for a in attempts)
        record = unreachable.state.event_record(event["id"])
        assert record is not None and record.gave_up and not record.delivered


def test_manual_delivery_and_signed_payloads(receiver: WebhookReceiver) -> None:
    with SandboxServer(
        webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET, deliver_webhooks=False
    ) as sb:
        event = sb.state.emit("ping.test", {"id": "obj_1", "object": "test"})
        assert sb.webhooks.wait_idle(1)
        assert receiver.deliveries == []
        body, headers = sb.webhooks.signed(event["id"])
        assert stripe.WebhookSignature.verify_header(
            body, headers["Stripe-Signature"], WEBHOOK_SECRET, 300
        )
        attempts = sb.webhooks.deliver_pending()
        assert [a.status for a in attempts] == [200]
        assert sb.webhooks.deliver_pending() == []
        browser = sb.app.test_client()
        response = browser.post(f"/_sandbox/events/{event['id']}/redeliver", json={})
        assert response.get_json()["attempt"]["status"] == 200
        assert len(receiver.deliveries) == 2
        assert browser.post("/_sandbox/events/evt_nope/redeliver", json={}).status_code == 404


def test_redeliver_is_queued_when_the_worker_runs(
    client: stripe.StripeClient, sandbox: SandboxServer, receiver: WebhookReceiver
) -> None:
    session = client.v1.checkout.sessions.create(params=monthly_params())
    sandbox.sim.complete_checkout(session.id)
    assert sandbox.webhooks.wait_idle(5)
    last = sandbox.events[-1]["id"]
    response = sandbox.app.test_client().post(f"/_sandbox/events/{last}/redeliver", json={})
    assert response.status_code == 202
    assert sandbox.webhooks.wait_idle(5)
    assert receiver.ok_events().count(last) == 2


def test_events_api_pagination_and_filters(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    session = client.v1.checkout.sessions.create(params=monthly_params())
    sandbox.sim.complete_checkout(session.id)
    ids = [event["id"] for event in reversed(sandbox.events)]  # newest first
    assert len(ids) == 9
    first = client.v1.events.list(params={"limit": 4})
    assert [e.id for e in first.data] == ids[:4] and first.has_more
    assert first.url == "/v1/events"
    second = client.v1.events.list(params={"limit": 4, "starting_after": first.data[-1].id})
    assert [e.id for e in second.data] == ids[4:8] and second.has_more
    third = client.v1.events.list(params={"limit": 4, "starting_after": second.data[-1].id})
    assert [e.id for e in third.data] == ids[8:] and not third.has_more
    back = client.v1.events.list(params={"limit": 2, "ending_before": ids[4]})
    assert [e.id for e in back.data] == ids[2:4] and back.has_more
    every = [e.id for e in client.v1.events.list(params={"limit": 3}).auto_paging_iter()]
    assert every == ids

    invoices = client.v1.events.list(params={"type": "invoice.*"})
    assert {e.type for e in invoices.data} == {
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    }
    chosen = client.v1.events.list(
        params={"types": ["customer.created", "checkout.session.completed"]}
    )
    assert [e.type for e in chosen.data] == ["checkout.session.completed", "customer.created"]
    created = sandbox.events[0]["created"]
    assert len(client.v1.events.list(params={"created": {"gte": created}, "limit": 100}).data) == 9
    assert client.v1.events.list(params={"created": {"gt": created + 3600}}).data == []
    one = client.v1.events.retrieve(ids[0])
    assert one.type == "checkout.session.completed"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.list(params={"limit": 101})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.retrieve("evt_missing")
