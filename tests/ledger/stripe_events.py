"""Signed Stripe events for tests, their objects built by the sandbox's own builders.

The builders (``stripe_sandbox.objects``) write objects in the shapes of the pinned API
version, and ``deliver`` holds every event to Stripe's contract before posting it, so a
test cannot feed the service an object Stripe would never send.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from service.ledger.models import EventOutcome, StripeEvent
from stripe_sandbox import objects as build
from stripe_sandbox.config import API_VERSION
from tests.conftest import TEST_WEBHOOK_SECRET, drain_jobs
from tests.contract.stripe_contract import object_problems

Obj = dict[str, Any]
OURS = {"app": "reader-contributions"}

_CARD = {
    "brand": "visa",
    "country": "IE",
    "exp_month": 12,
    "exp_year": 2034,
    "fingerprint": "f1ngerpr1nt4242",
    "funding": "credit",
    "last4": "4242",
}


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(8)}"


def _now() -> int:
    return int(time.time())


def stripe_object(name: str, **values: Any) -> Obj:
    """A plausible ``name`` object (as in a ``not ours`` event) with some fields replaced."""
    makers = {
        "charge": lambda: charge_for(one_off_session(metadata={})),
        "customer": lambda: build.customer(email="reader@example.com", name=None, now=_now()),
        "refund": lambda: refund_of(charge_for(one_off_session(metadata={})), 100),
        "subscription": lambda: subscription(),
        "invoice": lambda: invoice_for(subscription()),
    }
    return makers[name]() | values


def event(event_type: str, obj: Obj, *, created: int | None = None, **values: Any) -> Obj:
    """A Stripe event carrying `obj` as its data.object."""
    evt = build.event(
        event_type=event_type,
        data={"object": obj},
        api_version=API_VERSION,
        pending_webhooks=1,
        request={"id": None, "idempotency_key": None},
        now=created if created is not None else _now(),
    )
    evt["id"] = values.pop("id", None) or new_id("evt_test_")
    evt.update(values)
    return evt


def sign(payload: bytes, secret: str = TEST_WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for `payload`, as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def body_of(evt: Obj) -> bytes:
    return json.dumps(evt, indent=2).encode()


def deliver(
    client: FlaskClient,
    evt: Obj,
    secret: str = TEST_WEBHOOK_SECRET,
    *,
    check_contract: bool = True,
    drain: bool = True,
) -> TestResponse:
    """POST a properly signed event to the webhook, in process, then run the real job
    worker until no job is due (the endpoint only stores the event and queues its job).

    The event is first held to Stripe's contract at the pinned version, unless a test
    sends an older shape on purpose (``check_contract=False``).
    """
    if check_contract:
        problems = object_problems(evt)
        assert problems == [], f"a test built an event Stripe would not send: {problems}"
    payload = body_of(evt)
    response = client.post(
        "/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": sign(payload, secret), "Content-Type": "application/json"},
    )
    if drain:
        drain_jobs(client.application)
    return response


def outcome_of(session: Session, evt: Obj) -> EventOutcome:
    """Where the inbox says an event stands now."""
    return session.scalars(
        select(StripeEvent.outcome)
        .where(StripeEvent.stripe_event_id == evt["id"])
        .execution_options(populate_existing=True)
    ).one()


def one_off_session(
    *,
    amount: int = 1000,
    currency: str = "eur",
    customer: str | None = None,
    email: str = "reader@example.com",
    metadata: Obj | None = None,
    payment_intent: str | None = None,
) -> Obj:
    """A completed, paid one-off Checkout Session."""
    session_id = build.new_session_id()
    return build.checkout_session(
        session_id=session_id,
        url="",
        mode="payment",
        now=_now(),
        expires_at=_now() + 86400,
        amount=amount,
        currency=currency,
        values={
            "url": None,
            "status": "complete",
            "payment_status": "paid",
            "customer": customer or new_id("cus_"),
            "customer_details": build.customer_details(email),
            "payment_intent": payment_intent or new_id("pi_"),
            "metadata": OURS | {"campaign": "spring", "variant": "a"}
            if metadata is None
            else metadata,
            "submit_type": "donate",
            "success_url": "https://news.example/support/thank-you",
            "cancel_url": "https://news.example/support",
        },
    )


def charge_for(session: Obj, **values: Any) -> Obj:
    """The succeeded charge behind a one-off session (its metadata copied from the intent)."""
    created = values.pop("created", None) or _now()
    email = session["customer_details"]["email"]
    pm = build.payment_method(card=_CARD, email=email, customer_id=session["customer"], now=created)
    pi = build.payment_intent(
        amount=session["amount_total"],
        currency=session["currency"],
        customer_id=session["customer"],
        payment_method_id=pm["id"],
        description=None,
        metadata=dict(session["metadata"]),
        receipt_email=None,
        statement_descriptor=None,
        now=created,
    )
    pi["id"] = session["payment_intent"]
    charge = build.charge(
        pi=pi, pm=pm, email=email, three_d_secure=False, statement_descriptor="NEWS", now=created
    )
    charge.update(
        amount_captured=session["amount_total"],
        balance_transaction=new_id("txn_"),
        captured=True,
        paid=True,
        status="succeeded",
    )
    charge.update(values)
    return charge


def refunded(charge: Obj, amount: int | None = None) -> Obj:
    """The charge after a refund of `amount` (default: all of it).

    Its refunds are not on it: Stripe includes them only when asked to expand ``refunds``.
    """
    amount = charge["amount"] if amount is None else amount
    return charge | {"amount_refunded": amount, "refunded": amount >= charge["amount"]}


def refund_of(charge: Obj, amount: int, *, created: int | None = None) -> Obj:
    """A succeeded refund of part of `charge`."""
    return build.refund(ch=charge, amount=amount, reason=None, metadata={}, now=created or _now())


def dispute_for(charge: Obj, status: str = "needs_response") -> Obj:
    dispute = build.dispute(ch=charge, reason="fraudulent", now=_now())
    return dispute | {"amount": charge["amount"], "status": status}


def subscription(*, currency: str = "eur", amount: int = 500, metadata: Obj | None = None) -> Obj:
    """An active monthly subscription of one item."""
    now = _now()
    product = build.product(name="Monthly donation", description=None, metadata={}, now=now)
    price = build.price(
        product_id=product["id"],
        currency=currency,
        unit_amount=amount,
        interval="month",
        interval_count=1,
        now=now,
    )
    sub_id = new_id("sub_")
    item = build.subscription_item(
        subscription_id=sub_id, price_obj=price, quantity=1, period=(now, now + 30 * 86400), now=now
    )
    return build.subscription(
        subscription_id=sub_id,
        customer_id=new_id("cus_"),
        currency=currency,
        items=[item],
        payment_method_id=None,
        description=None,
        metadata=dict(metadata or {}),
        now=now,
    )


def invoice_for(sub: Obj) -> Obj:
    """The open first invoice of `sub`."""
    now = _now()
    cust = build.customer(email="reader@example.com", name=None, now=now)
    cust["id"] = sub["customer"]
    period = (now, now)
    return build.invoice(
        sub=sub,
        cust=cust,
        billing_reason="subscription_create",
        period=period,
        line_period=(now, now + 30 * 86400),
        account=("Sandbox News", "IE"),
        line_descriptions={item["id"]: "1 x Monthly donation" for item in sub["items"]["data"]},
        now=now,
    )
