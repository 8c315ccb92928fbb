"""The contract checks themselves: what they accept, and that a wrong request or object fails."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe

from stripe_sandbox import API_VERSION as SANDBOX_API_VERSION
from stripe_sandbox import balance, schemas, webhook_endpoints
from stripe_sandbox import objects as build
from stripe_sandbox.state import Exchange
from tests.contract.stripe_contract import (
    API_VERSION,
    endpoint_for,
    fields_of,
    object_problems,
    request_problems,
    traffic_problems,
)
from tests.ledger.stripe_events import (
    charge_for,
    dispute_for,
    event,
    invoice_for,
    one_off_session,
    subscription,
)

Obj = dict[str, Any]

#: A one-off Checkout Session as the gateway asks for it (form-decoded).
GOOD_CHECKOUT: Obj = {
    "mode": "payment",
    "submit_type": "donate",
    "line_items": [
        {
            "quantity": "1",
            "price_data": {
                "currency": "eur",
                "unit_amount": "2500",
                "product_data": {"name": "One-off donation"},
            },
        }
    ],
    "success_url": "https://news.example/thanks?session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "https://news.example/support",
    "metadata": {"app": "reader-contributions"},
    "payment_intent_data": {"metadata": {"app": "reader-contributions"}},
    "expand": ["payment_intent"],
}


def test_the_contract_is_the_pinned_packages_and_the_sandbox_speaks_it() -> None:
    assert API_VERSION == stripe.api_version == SANDBOX_API_VERSION
    endpoint = endpoint_for("GET", "/v1/checkout/sessions/cs_test_1/line_items")
    assert endpoint is not None and endpoint.template.endswith("/line_items")


def test_a_valid_request_passes() -> None:
    assert request_problems("POST", "/v1/checkout/sessions", GOOD_CHECKOUT) == []
    assert request_problems("GET", "/v1/events", {"created": {"gte": "1"}, "limit": "100"}) == []
    assert request_problems("DELETE", "/v1/subscriptions/sub_1", {}) == []


def test_the_payout_requests_the_gateway_sends_pass_and_wrong_ones_fail() -> None:
    listing = {"payout": "po_1", "limit": "100", "expand": ["data.source"]}
    assert request_problems("GET", "/v1/balance_transactions", listing) == []
    assert request_problems("GET", "/v1/payouts/po_1", {}) == []
    assert request_problems("GET", "/v1/payouts", {"status": "paid", "limit": "10"}) == []
    problems = request_problems("GET", "/v1/balance_transactions", listing | {"charge": "ch_1"})
    assert problems == ["GET /v1/balance_transactions: charge: unknown parameter"]
    wrong_limit = request_problems("GET", "/v1/balance_transactions", {"limit": "all"})
    assert any("limit: 'all' is not an integer" in problem for problem in wrong_limit)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"payment_method_types": ["card"]}, "payment_method_types: unknown parameter"),
        ({"ui_mode": "hosted"}, "ui_mode: 'hosted' is not one of"),
        ({"mode": "donation"}, "mode: 'donation' is not one of"),
        ({"expires_at": "tomorrow"}, "expires_at: 'tomorrow' is not an integer"),
        ({"metadata": ["a"]}, "metadata: expected a hash"),
        (
            {"line_items": [{"quantity": "1", "price_data": {"unit_amount": "5"}}]},
            "line_items[0][price_data][currency]: required parameter missing",
        ),
        (
            {"line_items": [{"quantity": "1", "price_data": {"currency": "eur", "x": "1"}}]},
            "line_items[0][price_data][x]: unknown parameter",
        ),
    ],
)
def test_a_wrong_request_fails(change: Obj, expected: str) -> None:
    problems = request_problems("POST", "/v1/checkout/sessions", GOOD_CHECKOUT | change)
    assert any(expected in problem for problem in problems), problems


def test_an_unknown_endpoint_fails() -> None:
    assert request_problems("POST", "/v1/charges/ch_1/refund_all", {}) != []
    assert request_problems("PATCH", "/v1/refunds", {}) != []


def _objects() -> dict[str, Obj]:
    session = one_off_session()
    charge = charge_for(session)
    sub = subscription()
    payout = build.payout(amount=1000, currency="eur", destination="ba_1", now=1)
    payout_txn = balance.transaction(
        source_id=payout["id"],
        amount=-1000,
        currency="eur",
        kind="payout",
        category="payout",
        now=1,
    )
    return {
        "payout": payout | {"status": "in_transit", "balance_transaction": payout_txn["id"]},
        "balance_transaction": build.balance_transaction(
            source_id=charge["id"], amount=2500, fee=63, currency="eur", kind="charge", now=1
        ),
        "payout_transaction": payout_txn,
        "dispute_transaction": balance.dispute_withdrawal(charge, "du_1", 1),
        "payout_event": event("payout.paid", payout | {"status": "paid"}),
        "webhook_endpoint": build.webhook_endpoint(
            url="https://news.example/webhooks/stripe",
            enabled_events=["invoice.paid"],
            api_version=API_VERSION,
            now=1,
        ),
        "webhook_endpoint (retrieved)": {
            key: value
            for key, value in build.webhook_endpoint(
                url="https://news.example/webhooks/stripe",
                enabled_events=["*"],
                api_version=None,
                now=1,
            ).items()
            if key != "secret"
        },
        "checkout.session": session,
        "charge": charge,
        "dispute": dispute_for(charge),
        "subscription": sub,
        "invoice": invoice_for(sub),
        "event": event("charge.succeeded", charge),
    }


@pytest.mark.parametrize("name", sorted(_objects()))
def test_objects_the_tests_and_the_sandbox_build_pass(name: str) -> None:
    assert object_problems(_objects()[name]) == []


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("charge", {"colour": "red"}, "colour: not a field of Charge"),
        ("charge", {"status": "done"}, "status: 'done' is not one of"),
        ("charge", {"amount": "10.00"}, "amount: expected an integer"),
        ("charge", {"paid": None}, "paid: null where the type is not nullable"),
        ("checkout.session", {"ui_mode": "hosted"}, "ui_mode: 'hosted' is not one of"),
        (
            "charge",
            {"refunds": {"object": "list", "data": [], "has_more": False, "url": "/v1/x"}},
            "refunds: includable",
        ),
        ("charge", {"customer": {"id": "cus_1", "object": "customer"}}, "customer: expanded"),
        ("invoice", {"subscription": "sub_1"}, "subscription: not a field of Invoice"),
        ("payout", {"arrival_date": "2026-12-01"}, "arrival_date: expected an integer"),
        ("payout", {"charge": "ch_1"}, "charge: not a field of Payout"),
        ("balance_transaction", {"type": "gift"}, "type: 'gift' is not one of"),
        ("balance_transaction", {"fee": None}, "fee: null where the type is not nullable"),
        ("payout_event", {"type": "payout.arrived"}, "type: 'payout.arrived' is not one of"),
    ],
)
def test_a_wrong_object_fails(name: str, change: Obj, expected: str) -> None:
    problems = object_problems(_objects()[name] | change)
    assert any(expected in problem for problem in problems), problems


def test_a_missing_required_field_fails_even_nested() -> None:
    dispute = _objects()["dispute"]
    del dispute["evidence_details"]["submission_method"]
    del dispute["status"]
    problems = object_problems(dispute)
    assert "evidence_details.submission_method: required field missing" in problems
    assert "status: required field missing" in problems


def test_expanding_allows_what_was_asked_for_only() -> None:
    charge = _objects()["charge"]
    listed = charge | {"refunds": {"object": "list", "data": [], "has_more": False, "url": "/"}}
    assert object_problems(listed, ["refunds"]) == []
    assert object_problems(charge, ["refunds"]) == ["refunds: expanded but missing"]


def test_an_events_object_is_held_to_its_own_class() -> None:
    bad = event("charge.succeeded", _objects()["charge"] | {"refunded": "no"})
    assert object_problems(bad) == ["data.object.refunded: expected a boolean, got 'no'"]


@dataclass
class _Traffic:
    exchanges: list[Exchange] = field(default_factory=list)
    events: list[Obj] = field(default_factory=list)


def test_traffic_checks_answered_requests_answers_and_events_not_refusals() -> None:
    charge = _objects()["charge"]
    refused = Exchange("POST", "/v1/checkout/sessions", {"ui_mode": "hosted"}, 400, "{}", ())
    answered = Exchange("GET", f"/v1/charges/{charge['id']}", {}, 200, json.dumps(charge), ())
    assert (
        traffic_problems(_Traffic([refused, answered], [event("charge.succeeded", charge)])) == []
    )

    lenient = Exchange(
        "POST", "/v1/checkout/sessions", GOOD_CHECKOUT | {"ui_mode": "x"}, 200, "{}", ()
    )
    stale = Exchange("GET", "/v1/charges/ch_1", {}, 200, json.dumps(charge | {"x": 1}), ())
    problems = traffic_problems(
        _Traffic([lenient, stale], [event("charge.succeeded", charge | {"y": 1})])
    )
    assert len(problems) == 4, problems  # the request, the empty answer, the charge, the event


def test_the_sandboxs_parameter_lists_name_only_what_stripe_takes() -> None:
    for method, path, schema in [
        ("POST", "/v1/checkout/sessions", schemas.CHECKOUT_CREATE),
        ("POST", "/v1/subscriptions/sub_1", schemas.SUBSCRIPTION_UPDATE),
        ("DELETE", "/v1/subscriptions/sub_1", schemas.SUBSCRIPTION_CANCEL),
        ("POST", "/v1/refunds", schemas.REFUND_CREATE),
        ("POST", "/v1/billing_portal/sessions", schemas.PORTAL_CREATE),
        ("POST", "/v1/webhook_endpoints", webhook_endpoints.CREATE),
        ("POST", "/v1/webhook_endpoints/we_1", webhook_endpoints.UPDATE),
    ]:
        endpoint = endpoint_for(method, path)
        assert endpoint is not None and endpoint.params is not None
        taken = set(fields_of(endpoint.params)) - {"expand"}
        options = {"api_key", "stripe_version", "stripe_account", "stripe_context"}
        options |= {"max_network_retries", "idempotency_key", "content_type", "headers"}
        assert set(schema) <= taken - options, (path, set(schema) - taken)


def test_webhook_endpoint_requests_as_the_gateway_sends_them() -> None:
    create = {
        "url": "https://news.example/webhooks/stripe",
        "enabled_events": ["checkout.session.completed", "refund.failed"],
        "api_version": API_VERSION,
        "description": "reader contributions",
        "metadata": {"app": "reader-contributions"},
    }
    assert request_problems("POST", "/v1/webhook_endpoints", create) == []
    update = {k: v for k, v in create.items() if k != "api_version"}
    assert request_problems("POST", "/v1/webhook_endpoints/we_1", update) == []
    assert request_problems("GET", "/v1/webhook_endpoints", {"limit": "100"}) == []
    # Stripe cannot change an endpoint's version: not a parameter of the update.
    problems = request_problems("POST", "/v1/webhook_endpoints/we_1", create)
    assert any(p.endswith("api_version: unknown parameter") for p in problems), problems
    wrong = create | {"enabled_events": ["charge.exploded"]}
    assert any(
        "enabled_events[0]" in p for p in request_problems("POST", "/v1/webhook_endpoints", wrong)
    )
