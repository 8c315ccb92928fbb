"""Outbound events end to end: the sandbox pays, refunds, renews and cancels; the service
posts each event to a real HTTP receiver, which verifies it with the standardwebhooks
library; a receiver that is down or answers 500 is retried, then dead, and never holds
up another endpoint; staff see each answer and redeliver."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from service.core.jobs import Worker
from service.ledger import Change
from service.outbound import DeliveryStatus, OutboundDelivery, OutboundEndpoint
from service.outbound.deliveries import MAX_TRIES
from tests.conftest import drain_jobs, later
from tests.ledger.conftest import Stack, pay
from tests.live import reserve_port
from tests.outbound.receiver import Receiver
from tests.staff import factories
from tests.staff.helpers import csrf_token, sign_in


def _add_endpoint(stack: Stack, url: str) -> str:
    result = stack.app.test_cli_runner().invoke(
        args=["outbound-endpoint", "add", url, "--description", "CRM"]
    )
    assert result.exit_code == 0, result.output
    found = re.search(r"signing secret \(shown once\): (whsec_\S+)", result.output)
    assert found, result.output
    return found.group(1)


def _deliveries(stack: Stack) -> list[OutboundDelivery]:
    with Session(stack.engine) as session:
        return list(session.scalars(select(OutboundDelivery).order_by(OutboundDelivery.id)))


def test_every_event_reaches_a_receiver_that_verifies_its_signature(stack: Stack) -> None:
    with Receiver() as receiver:
        secret = _add_endpoint(stack, receiver.url)
        one_off = pay(stack.sandbox, stack.settings, amount=2500)
        monthly = pay(stack.sandbox, stack.settings, frequency="monthly", amount=500)
        stack.settle()
        assert monthly.subscription_id and one_off.charge_id
        stack.sandbox.sim.refund(charge_id=one_off.charge_id)
        stack.sandbox.sim.change_amount(monthly.subscription_id, 800)
        stack.settle()
        stack.sandbox.sim.renew_subscription(monthly.subscription_id, "failed")
        stack.settle()
        stack.sandbox.sim.cancel_subscription(monthly.subscription_id)
        stack.settle()
        drain_jobs(stack.app)
        received = receiver.bodies()

    webhook = Webhook(secret)
    events = [webhook.verify(r.body, r.headers) for r in received]
    assert {event["type"] for event in events} == {change.value for change in Change}
    # Each event once, though Stripe told the ledger of most things several times.
    ids = [r.headers["webhook-id"] for r in received]
    assert len(ids) == len(set(ids))
    by_type = {event["type"]: event for event in events}
    gift = by_type["gift.refunded"]["data"]
    assert (gift["gift"]["amount_refunded_minor"], gift["gift"]["currency"]) == (2500, "eur")
    assert gift["supporter"]["email"] == one_off.email
    changed = by_type["recurring_gift.changed"]["data"]["recurring_gift"]
    assert (changed["amount_minor"], changed["interval"]) == (800, "month")
    assert by_type["recurring_gift.canceled"]["data"]["recurring_gift"]["status"] == "canceled"
    lapsed = [e["data"]["supporter"]["email"] for e in events if e["type"] == "supporter.lapsed"]
    assert sorted(lapsed) == sorted([one_off.email, monthly.email])
    # A tampered body fails verification: the check above can fail.
    tampered = received[0].body.replace(b'"type"', b'"typo"')
    try:
        webhook.verify(tampered, received[0].headers)
    except Exception as error:
        assert "signature" in str(error).lower()
    else:
        raise AssertionError("a tampered body verified")
    assert all(d.status is DeliveryStatus.DELIVERED for d in _deliveries(stack))


def test_a_failing_endpoint_is_retried_then_dead_and_others_keep_flowing(stack: Stack) -> None:
    with Receiver() as good, Receiver(answer=500) as failing:
        _add_endpoint(stack, good.url)
        _add_endpoint(stack, failing.url)
        _add_endpoint(stack, f"http://127.0.0.1:{reserve_port()}/down")
        donor = pay(stack.sandbox, stack.settings, amount=1500)
        stack.settle()
        drain_jobs(stack.app)

        assert sorted(json.loads(r.body)["type"] for r in good.bodies()) == [
            "gift.succeeded",
            "supporter.started",
        ]
        by_endpoint: dict[int, list[OutboundDelivery]] = {}
        for delivery in _deliveries(stack):
            by_endpoint.setdefault(delivery.endpoint_id, []).append(delivery)
        ok, five_hundred, down = (by_endpoint[key] for key in sorted(by_endpoint))
        assert all(d.status is DeliveryStatus.DELIVERED for d in ok)
        for d in five_hundred:
            assert (d.status, d.attempts, d.last_status_code) == (DeliveryStatus.FAILING, 1, 500)
            assert d.last_response == "receiver says no: database is down"
            assert d.next_attempt_at is not None
        for d in down:
            assert (d.status, d.last_status_code) == (DeliveryStatus.FAILING, None)
            assert d.last_error and "refused" in d.last_error.lower()

        # Days later every retry has come due and gone: dead, each with its tries.
        Worker(stack.app, name="later", clock=later(timedelta(days=3))).run_until_empty()
        for delivery in _deliveries(stack):
            if delivery.endpoint_id != ok[0].endpoint_id:
                assert delivery.status is DeliveryStatus.DEAD
                assert delivery.attempts == MAX_TRIES
        assert len(failing.bodies()) == 2 * MAX_TRIES
        assert len(good.bodies()) == 2

        # Staff see the answer and redeliver once the receiver is back.
        with Session(stack.engine) as session:
            admin = factories.staff_user(session)
            email = admin.email
            session.commit()
        client = stack.app.test_client()
        assert sign_in(client, email).status_code == 302
        overview = client.get("/staff/outbound")
        assert overview.status_code == 200
        assert failing.url in overview.get_data(as_text=True)
        page = client.get(f"/staff/outbound/{five_hundred[0].endpoint_id}?status=dead")
        html = page.get_data(as_text=True)
        assert "HTTP 500" in html and "receiver says no" in html
        assert donor.email not in html.split("<details>")[0]
        failing.answer = 200
        redelivered = client.post(
            f"/staff/outbound/deliveries/{five_hundred[0].id}/redeliver",
            data={"csrf_token": csrf_token(html)},
        )
        assert redelivered.status_code == 302
        drain_jobs(stack.app)
        with Session(stack.engine) as session:
            again = session.get(OutboundDelivery, five_hundred[0].id)
            assert again is not None
            assert (again.status, again.last_status_code) == (DeliveryStatus.DELIVERED, 200)
            assert again.attempts == MAX_TRIES + 1
            other = session.get(OutboundDelivery, five_hundred[1].id)
            assert other is not None and other.status is DeliveryStatus.DEAD
            assert session.scalar(select(OutboundEndpoint).limit(1)) is not None
