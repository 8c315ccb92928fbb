"""POST /api/v1/checkout against the Stripe sandbox: sessions, bad input, double submits."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.appeals.editing import VariantInput
from service.ledger.models import AttemptStatus, CheckoutAttempt, Frequency
from tests.appeals.factories import TOP, make_campaign
from tests.donations.helpers import count_attempts, sandbox_sessions
from tests.stripe_fixtures import sandbox_overrides

VALID = {"frequency": "one_off", "amount": 1000, "currency": "eur"}


@pytest.fixture
def app_overrides(sandbox: Any) -> dict[str, Any]:
    return sandbox_overrides(sandbox)


def test_one_off_opens_a_payment_session_marked_as_ours(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    make_campaign(session, slug="spring", variants=(VariantInput("b", 1, {"top": TOP}),))
    session.commit()
    response = client.post(
        "/api/v1/checkout",
        json={**VALID, "email": "Reader@Example.com ", "campaign": "spring", "variant": "b"},
    )

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"session_id", "checkout_url"}
    assert body["checkout_url"].startswith(sandbox.url)
    attempt = session.scalars(select(CheckoutAttempt)).one()
    assert attempt.status is AttemptStatus.SESSION_CREATED
    assert attempt.stripe_checkout_session_id == body["session_id"]
    assert (attempt.frequency, attempt.amount_minor, attempt.currency) == (
        Frequency.ONE_OFF,
        1000,
        "eur",
    )
    assert attempt.email == "reader@example.com"
    [stripe_session] = sandbox_sessions(sandbox)
    assert stripe_session["id"] == body["session_id"]
    assert stripe_session["mode"] == "payment"
    assert stripe_session["submit_type"] == "donate"
    assert stripe_session["amount_total"] == 1000
    assert stripe_session["customer_email"] == "reader@example.com"
    assert stripe_session["client_reference_id"] == attempt.public_id
    assert stripe_session["metadata"] == {
        "app": "reader-contributions",
        "checkout_attempt": attempt.public_id,
        "frequency": "one_off",
        "campaign": "spring",
        "variant": "b",
        # The reader's language (Accept-Language, else the default): Stripe's page, emails.
        "language": "en",
    }
    assert stripe_session["locale"] == "en"
    assert stripe_session["success_url"] == (
        "http://127.0.0.1:5000/support/thank-you?session_id={CHECKOUT_SESSION_ID}"
    )
    assert stripe_session["cancel_url"] == "http://127.0.0.1:5000/support"
    [item] = sandbox.sim.line_items(body["session_id"])
    assert item["price"]["unit_amount"] == 1000
    assert item["price"]["recurring"] is None


def test_one_off_payment_carries_our_metadata_and_always_makes_a_customer(
    client: FlaskClient, sandbox: Any
) -> None:
    response = client.post("/api/v1/checkout", json=VALID)
    session_id = response.get_json()["session_id"]

    result = sandbox.sim.complete_checkout(session_id, "4242424242424242", email="a@b.example")

    assert result.status == "succeeded"
    [intent] = sandbox.state.objects("payment_intent")
    assert intent["metadata"]["app"] == "reader-contributions"
    assert intent["metadata"]["frequency"] == "one_off"
    assert result.session["customer"], "customer_creation=always gives every gift a customer"


def test_monthly_opens_a_subscription_session_with_a_monthly_price(
    client: FlaskClient, sandbox: Any
) -> None:
    response = client.post(
        "/api/v1/checkout", json={**VALID, "frequency": "monthly", "placement": "bottom"}
    )

    assert response.status_code == 201
    [stripe_session] = sandbox_sessions(sandbox)
    assert stripe_session["mode"] == "subscription"
    [item] = sandbox.sim.line_items(stripe_session["id"])
    assert item["price"]["unit_amount"] == 1000
    assert item["price"]["recurring"]["interval"] == "month"
    result = sandbox.sim.complete_checkout(stripe_session["id"], "4242424242424242", email="m@b.ex")
    [subscription] = sandbox.state.objects("subscription")
    assert subscription["metadata"]["app"] == "reader-contributions"
    assert subscription["metadata"]["placement"] == "bottom"
    assert (
        subscription["metadata"]["checkout_attempt"]
        == result.session["metadata"]["checkout_attempt"]
    )


def test_annual_opens_a_subscription_session_with_a_yearly_price(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    response = client.post("/api/v1/checkout", json={**VALID, "frequency": "annual"})

    assert response.status_code == 201, response.get_json()
    assert session.scalars(select(CheckoutAttempt)).one().frequency is Frequency.ANNUAL
    [stripe_session] = sandbox_sessions(sandbox)
    assert stripe_session["mode"] == "subscription"
    assert stripe_session["metadata"]["frequency"] == "annual"
    [item] = sandbox.sim.line_items(stripe_session["id"])
    assert item["price"]["recurring"]["interval"] == "year"
    assert item["price"]["unit_amount"] == 1000


def test_an_unknown_frequency_is_refused_with_the_choices(client: FlaskClient) -> None:
    response = client.post("/api/v1/checkout", json={**VALID, "frequency": "weekly"})

    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["frequency"] == [
        "Choose one_off, monthly or annual."
    ]


def test_widget_return_url_brings_the_reader_back_through_the_thank_you(
    client: FlaskClient, sandbox: Any
) -> None:
    response = client.post(
        "/api/v1/checkout",
        json={**VALID, "return_url": "https://news.example/2026/story?ref=home"},
    )

    assert response.status_code == 201
    [stripe_session] = sandbox_sessions(sandbox)
    # Stripe brings the payer to our thank-you, which hands the pass back in a fragment:
    # the session id never reaches the article's URL.
    assert stripe_session["success_url"] == (
        "http://127.0.0.1:5000/support/thank-you?session_id={CHECKOUT_SESSION_ID}&back=1"
    )
    assert stripe_session["cancel_url"] == "https://news.example/2026/story?ref=home"
    result = sandbox.sim.complete_checkout(stripe_session["id"], "4242424242424242", email="a@b.ex")
    assert "news.example" not in result.redirect_url


BAD_INPUTS = [
    pytest.param({**VALID, "amount": 0}, "amount", id="zero"),
    pytest.param({**VALID, "amount": -500}, "amount", id="negative"),
    pytest.param({**VALID, "amount": 10.5}, "amount", id="fractional"),
    pytest.param({**VALID, "amount": 1000.0}, "amount", id="float-looking-whole"),
    pytest.param({**VALID, "amount": "1000"}, "amount", id="numeric-string"),
    pytest.param({**VALID, "amount": "ten euro"}, "amount", id="non-numeric"),
    pytest.param({**VALID, "amount": None}, "amount", id="null"),
    pytest.param({**VALID, "amount": 99}, "amount", id="below-minimum"),
    pytest.param({**VALID, "amount": 1_000_001}, "amount", id="above-maximum"),
    pytest.param({**VALID, "amount": 10**30}, "amount", id="huge"),
    pytest.param({"frequency": "one_off", "currency": "eur"}, "amount", id="missing-amount"),
    pytest.param({**VALID, "currency": "xyz"}, "currency", id="unknown-currency"),
    pytest.param({**VALID, "currency": "jpy"}, "currency", id="currency-not-allowed"),
    pytest.param({**VALID, "frequency": "weekly"}, "frequency", id="unknown-frequency"),
    pytest.param({**VALID, "frequency": "MONTHLY"}, "frequency", id="frequency-case"),
    pytest.param({"amount": 1000, "currency": "eur"}, "frequency", id="missing-frequency"),
    pytest.param({**VALID, "email": "not-an-email"}, "email", id="malformed-email"),
    pytest.param({**VALID, "email": "a@" + "b" * 320 + ".ie"}, "email", id="long-email"),
    pytest.param(
        {**VALID, "return_url": "https://evil.example/phish"}, "return_url", id="foreign-return"
    ),
    pytest.param({**VALID, "return_url": "javascript:alert(1)"}, "return_url", id="script-return"),
    pytest.param(
        {**VALID, "return_url": "https://news.example@evil.example/"},
        "return_url",
        id="userinfo-return",
    ),
    pytest.param({**VALID, "placement": "sidebar"}, "placement", id="unknown-placement"),
    pytest.param({**VALID, "campaign": "x" * 81}, "campaign", id="long-campaign"),
    pytest.param({**VALID, "coupon": "FREE"}, "coupon", id="unknown-field"),
]


@pytest.mark.parametrize(("payload", "field"), BAD_INPUTS)
def test_bad_input_is_refused_field_by_field_and_nothing_happens(
    client: FlaskClient, session: Session, sandbox: Any, payload: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/checkout", json=payload)

    assert response.status_code == 422
    body = response.get_json()
    messages = body["errors"]["json"]
    assert field in messages, messages
    assert all(isinstance(m, str) and m for m in messages[field])
    assert count_attempts(session) == 0
    assert sandbox_sessions(sandbox) == []


def test_every_bad_field_is_reported_at_once(client: FlaskClient, sandbox: Any) -> None:
    response = client.post(
        "/api/v1/checkout",
        json={
            "frequency": "yearly",
            "amount": 0,
            "currency": "eur",
            "email": "x",
            "return_url": "https://evil.example/",
            "extra": 1,
        },
    )

    assert response.status_code == 422
    assert set(response.get_json()["errors"]["json"]) == {
        "frequency",
        "amount",
        "email",
        "return_url",
        "extra",
    }


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'"one_off"', b""],
    ids=["garbage", "array", "string", "empty"],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    client: FlaskClient, session: Session, sandbox: Any, body: bytes
) -> None:
    response = client.post("/api/v1/checkout", data=body, content_type="application/json")

    assert response.status_code in {400, 422}
    assert response.get_json()["message"]
    assert count_attempts(session) == 0
    assert sandbox_sessions(sandbox) == []


def test_currency_defaults_and_is_case_insensitive(client: FlaskClient, sandbox: Any) -> None:
    assert (
        client.post("/api/v1/checkout", json={"frequency": "one_off", "amount": 500}).status_code
        == 201
    )
    assert client.post("/api/v1/checkout", json={**VALID, "currency": "GBP"}).status_code == 201
    assert [s["currency"] for s in sandbox_sessions(sandbox)] == ["eur", "gbp"]


def test_a_double_submitted_attempt_opens_one_checkout_session(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    key = str(uuid.uuid4())

    first = client.post("/api/v1/checkout", json=VALID, headers={"Idempotency-Key": key})
    second = client.post("/api/v1/checkout", json=VALID, headers={"Idempotency-Key": key})

    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert len(sandbox_sessions(sandbox)) == 1
    assert count_attempts(session) == 1


def test_a_changed_request_under_the_same_key_is_a_new_attempt(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    key = str(uuid.uuid4())

    first = client.post("/api/v1/checkout", json=VALID, headers={"Idempotency-Key": key})
    second = client.post(
        "/api/v1/checkout", json={**VALID, "amount": 2500}, headers={"Idempotency-Key": key}
    )

    assert first.status_code == second.status_code == 201
    assert first.get_json()["session_id"] != second.get_json()["session_id"]
    assert sorted(s["amount_total"] for s in sandbox_sessions(sandbox)) == [1000, 2500]
    assert count_attempts(session) == 2


def test_without_a_key_each_request_is_its_own_attempt(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    client.post("/api/v1/checkout", json=VALID)
    client.post("/api/v1/checkout", json=VALID, headers={"Idempotency-Key": "not-a-uuid"})

    assert len(sandbox_sessions(sandbox)) == 2
    assert count_attempts(session) == 2


def test_cors_lets_allowed_publishers_call_and_read_errors(client: FlaskClient) -> None:
    preflight = client.options(
        "/api/v1/checkout",
        headers={
            "Origin": "https://news.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    refused = client.post(
        "/api/v1/checkout", json={**VALID, "amount": 0}, headers={"Origin": "https://news.example"}
    )
    foreign = client.post(
        "/api/v1/checkout", json={**VALID, "amount": 0}, headers={"Origin": "https://evil.example"}
    )

    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert refused.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "Origin" in refused.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_checkout_is_in_the_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()

    assert "post" in spec["paths"]["/api/v1/checkout"]
    assert "get" in spec["paths"]["/api/v1/checkout/sessions/{session_id}"]
