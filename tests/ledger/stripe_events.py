"""Signed Stripe events for tests, built from Stripe's own fixtures (fixtures3.json)."""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.core.settings import PROJECT_ROOT
from tests.conftest import TEST_WEBHOOK_SECRET

Obj = dict[str, Any]
OURS = {"app": "reader-contributions"}


@functools.cache
def _fixtures() -> dict[str, Obj]:
    path = PROJECT_ROOT / "stripe_sandbox" / "fixtures" / "fixtures3.json"
    loaded: dict[str, Obj] = json.loads(path.read_text("utf-8"))["resources"]
    return loaded


def fixture(name: str, **values: Any) -> Obj:
    """A fresh copy of Stripe's fixture object `name` with some fields replaced."""
    obj = copy.deepcopy(_fixtures()[name])
    obj.update(values)
    return obj


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(8)}"


def event(event_type: str, obj: Obj, *, created: int | None = None, **values: Any) -> Obj:
    """A Stripe event carrying `obj` as its data.object."""
    return fixture(
        "event",
        id=values.pop("id", None) or new_id("evt_test_"),
        type=event_type,
        created=created if created is not None else int(time.time()),
        api_version="2026-10-28.endive",
        data={"object": obj},
        **values,
    )


def sign(payload: bytes, secret: str = TEST_WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for `payload`, as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def body_of(evt: Obj) -> bytes:
    return json.dumps(evt, indent=2).encode()


def deliver(client: FlaskClient, evt: Obj, secret: str = TEST_WEBHOOK_SECRET) -> TestResponse:
    """POST a properly signed event to the webhook, in process."""
    payload = body_of(evt)
    return client.post(
        "/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": sign(payload, secret), "Content-Type": "application/json"},
    )


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
    details = fixture("checkout.session")["customer_details"] | {"email": email}
    return fixture(
        "checkout.session",
        id=new_id("cs_test_"),
        mode="payment",
        status="complete",
        payment_status="paid",
        amount_total=amount,
        amount_subtotal=amount,
        currency=currency,
        customer=customer or new_id("cus_"),
        customer_details=details,
        payment_intent=payment_intent or new_id("pi_"),
        metadata=OURS | {"campaign": "spring", "variant": "a"} if metadata is None else metadata,
        submit_type="donate",
    )


def charge_for(session: Obj, **values: Any) -> Obj:
    """The succeeded charge behind a one-off session (its metadata copied from the intent)."""
    charge_id = values.pop("id", None) or new_id("ch_")
    values.setdefault("created", int(time.time()))
    return fixture(
        "charge",
        id=charge_id,
        amount=session["amount_total"],
        amount_captured=session["amount_total"],
        currency=session["currency"],
        customer=session["customer"],
        payment_intent=session["payment_intent"],
        metadata=dict(session["metadata"]),
        paid=True,
        captured=True,
        status="succeeded",
        billing_details=fixture("charge")["billing_details"]
        | {"email": session["customer_details"]["email"]},
        **values,
    )


def refunded(charge: Obj, amount: int | None = None) -> Obj:
    """The charge after a refund of `amount` (default: all of it)."""
    amount = charge["amount"] if amount is None else amount
    refund = fixture("refund", id=new_id("re_"), amount=amount, charge=charge["id"])
    return charge | {
        "amount_refunded": amount,
        "refunded": amount >= charge["amount"],
        "refunds": {"object": "list", "data": [refund], "has_more": False, "url": ""},
    }


def dispute_for(charge: Obj, status: str = "needs_response") -> Obj:
    return fixture(
        "dispute",
        id=new_id("du_"),
        charge=charge["id"],
        payment_intent=charge["payment_intent"],
        amount=charge["amount"],
        currency=charge["currency"],
        status=status,
    )
