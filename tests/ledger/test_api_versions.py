"""Events in older API shapes (an endpoint pinned to an older version, events created
before an upgrade) are read as well as the pinned shape; a signed event whose data is
not an object is refused with 400 and kept in the inbox with the reason, never a 500."""

from __future__ import annotations

import copy
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ledger.models import (
    Donation,
    EventOutcome,
    MonthlyDonation,
    MonthlyStatus,
    StripeEvent,
)
from service.ledger.stripe_json import invoice_subscription
from stripe_sandbox import SandboxServer
from tests.ledger.conftest import deliver_sandbox_event, pay
from tests.ledger.stripe_events import deliver, new_id, outcome_of, sign

OLDER = "2024-06-20"
Obj = dict[str, Any]


def _older_subscription(subscription: Obj) -> Obj:
    """A subscription as API versions before 2025-03-31 sent it: the billing period on the
    subscription, and (before 2024) no top-level currency on some payloads."""
    old = copy.deepcopy(subscription)
    item = old["items"]["data"][0]
    old["current_period_start"] = item.pop("current_period_start")
    old["current_period_end"] = item.pop("current_period_end")
    del old["currency"]
    return old


def _older_invoice(invoice: Obj) -> Obj:
    """An invoice as versions before 2025-03-31 sent it: the subscription at the top level."""
    old = copy.deepcopy(invoice)
    details = old.pop("parent")["subscription_details"]
    old["subscription"] = details["subscription"]
    old["subscription_details"] = {"metadata": details["metadata"]}
    return old


def _events(sandbox: SandboxServer, event_type: str) -> list[Obj]:
    return [event for event in sandbox.events if event["type"] == event_type]


def _fetched(sandbox: SandboxServer, path: str) -> bool:
    """Whether the service asked the sandbox for this object (a GET of its path)."""
    return any(x.method == "GET" and x.path == path for x in sandbox.state.exchanges)


def _monthly(session: Session, subscription_id: str | None) -> MonthlyDonation:
    return session.scalars(
        select(MonthlyDonation).where(MonthlyDonation.stripe_subscription_id == subscription_id)
    ).one()


def test_a_subscription_deleted_in_an_older_shape_ends_the_gift(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    donor = pay(sandbox, app.extensions["settings"], frequency="monthly", amount=500)
    assert donor.subscription_id
    earlier = list(sandbox.events)
    sandbox.sim.cancel_subscription(donor.subscription_id)
    [deleted] = _events(sandbox, "customer.subscription.deleted")
    older = deleted | {
        "id": new_id("evt_"),
        "api_version": OLDER,
        "data": {"object": _older_subscription(deleted["data"]["object"])},
    }

    # Heard first, the ending must create the gift from the older shape (no currency at
    # the top level: it comes from the price), not fail on the currency CHECK for ever.
    response = deliver(client, older, check_contract=False)
    assert response.status_code == 200
    # The earlier snapshots, heard late, do not revive it.
    for event in earlier:
        assert deliver_sandbox_event(client, sandbox, event["id"]) == 200

    monthly = _monthly(session, donor.subscription_id)
    assert (monthly.status, monthly.currency, monthly.amount_minor) == (
        MonthlyStatus.CANCELED,
        "eur",
        500,
    )


def test_an_invoice_paid_in_the_pre_2025_shape_records_the_renewal(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    donor = pay(sandbox, app.extensions["settings"], frequency="monthly", amount=700)
    [paid] = _events(sandbox, "invoice.paid")
    for event in sandbox.events:
        if event["id"] != paid["id"]:
            assert deliver_sandbox_event(client, sandbox, event["id"]) == 200
    older = paid | {
        "id": new_id("evt_"),
        "api_version": OLDER,
        "data": {"object": _older_invoice(paid["data"]["object"])},
    }

    response = deliver(client, older, check_contract=False)

    assert response.status_code == 200
    assert outcome_of(session, older) is EventOutcome.APPLIED
    # The payload was not trusted: the invoice was read again at the pinned version.
    assert _fetched(sandbox, f"/v1/invoices/{paid['data']['object']['id']}")
    [donation] = session.scalars(
        select(Donation).where(Donation.stripe_invoice_id == paid["data"]["object"]["id"])
    )
    assert (donation.amount_minor, donation.currency) == (700, "eur")
    assert donation.monthly_donation_id == _monthly(session, donor.subscription_id).id


def test_a_signed_event_whose_data_is_not_an_object_is_refused_and_kept(
    client: FlaskClient, session: Session
) -> None:
    event_id = new_id("evt_")
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "invoice.paid",
            "created": 1_790_000_000,
            "api_version": OLDER,
            "livemode": False,
            "data": "in_123",
        }
    ).encode()

    response = client.post(
        "/webhooks/stripe",
        data=body,
        headers={"Stripe-Signature": sign(body), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    row = session.scalars(select(StripeEvent).where(StripeEvent.stripe_event_id == event_id)).one()
    assert row.outcome is EventOutcome.FAILED
    assert row.error is not None and "data" in row.error


def test_an_invoice_payment_failed_in_the_pre_2025_shape_makes_the_gift_past_due(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    donor = pay(sandbox, app.extensions["settings"], frequency="monthly", amount=700)
    assert donor.subscription_id
    for event in sandbox.events:
        assert deliver_sandbox_event(client, sandbox, event["id"]) == 200
    sandbox.sim.renew_subscription(donor.subscription_id, "failed")
    [failed] = _events(sandbox, "invoice.payment_failed")
    older = failed | {
        "id": new_id("evt_"),
        "api_version": OLDER,
        "data": {"object": _older_invoice(failed["data"]["object"])},
    }

    response = deliver(client, older, check_contract=False)

    assert response.status_code == 200
    assert outcome_of(session, older) is EventOutcome.APPLIED, "not ignored"
    assert _fetched(sandbox, f"/v1/invoices/{failed['data']['object']['id']}")
    session.expire_all()
    assert _monthly(session, donor.subscription_id).status is MonthlyStatus.PAST_DUE


def test_an_event_at_the_pinned_version_is_applied_from_its_payload(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    donor = pay(sandbox, app.extensions["settings"], frequency="monthly", amount=700)
    [paid] = _events(sandbox, "invoice.paid")
    assert paid["api_version"] != OLDER

    assert deliver_sandbox_event(client, sandbox, paid["id"]) == 200

    assert outcome_of(session, paid) is EventOutcome.APPLIED
    assert not _fetched(sandbox, f"/v1/invoices/{paid['data']['object']['id']}")
    assert _monthly(session, donor.subscription_id).amount_minor == 700


def test_both_invoice_shapes_name_the_same_subscription_and_metadata(
    app: Flask, sandbox: SandboxServer
) -> None:
    # When an older payload cannot be fetched again (Stripe no longer has the object),
    # the handlers read it as sent: both shapes give the same answer.
    pay(sandbox, app.extensions["settings"], frequency="monthly", amount=700)
    [paid] = _events(sandbox, "invoice.paid")
    current = paid["data"]["object"]

    subscription_id, metadata = invoice_subscription(current)

    assert subscription_id and metadata.get("app") == "reader-contributions"
    assert invoice_subscription(_older_invoice(current)) == (subscription_id, metadata)
