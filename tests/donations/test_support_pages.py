"""The support page, its no-JavaScript form, the thank-you page and the manage link."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.ledger.models import AttemptStatus, CheckoutAttempt, Frequency
from service.readers.passes import verify
from tests.appeals.factories import make_campaign
from tests.donations.helpers import count_attempts, sandbox_sessions
from tests.stripe_fixtures import SANDBOX_SECRET_KEY, sandbox_overrides


@pytest.fixture
def app_overrides(sandbox: Any) -> dict[str, Any]:
    return sandbox_overrides(sandbox)


def _form(**fields: str) -> dict[str, str]:
    return {"frequency": "monthly", "amount_monthly": "1000", **fields}


def test_support_page_offers_both_frequencies_presets_and_a_custom_amount(
    client: FlaskClient,
) -> None:
    html = client.get("/support").get_data(as_text=True)

    assert 'name="frequency" value="monthly"' in html
    assert 'name="frequency" value="one_off"' in html
    assert re.search(r'name="amount_monthly" value="1000"\s+checked', html)
    assert re.search(r'name="amount_one_off" value="2500"\s+checked', html)
    assert 'id="custom-amount" name="custom_amount"' in html
    assert '<label for="custom-amount">' in html
    assert 'role="alert"' in html
    assert "Be one of the first readers to support us." in html
    assert re.search(r'name="attempt" value="[0-9a-f-]{36}"', html)


def test_support_page_passes_appeal_attribution_through_the_form(client: FlaskClient) -> None:
    html = client.get(
        "/support?campaign=spring&variant=b&placement=top&frequency=one_off"
    ).get_data(as_text=True)

    assert '<input type="hidden" name="campaign" value="spring">' in html
    assert '<input type="hidden" name="variant" value="b">' in html
    assert re.search(r'value="one_off" id="frequency-one_off"\s+checked', html)


def test_form_sends_the_reader_to_checkout_with_a_303(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    make_campaign(session, slug="spring")
    session.commit()
    response = client.post("/support/checkout", data=_form(campaign="spring", placement="top"))

    assert response.status_code == 303
    [stripe_session] = sandbox_sessions(sandbox)
    assert response.headers["Location"] == stripe_session["url"]
    assert stripe_session["mode"] == "subscription"
    assert stripe_session["metadata"]["campaign"] == "spring"
    attempt = session.scalars(select(CheckoutAttempt)).one()
    assert attempt.status is AttemptStatus.SESSION_CREATED
    assert attempt.frequency is Frequency.MONTHLY


@pytest.mark.parametrize(
    ("fields", "amount"),
    [
        ({"frequency": "one_off", "amount_one_off": "5000"}, 5000),
        ({"frequency": "one_off", "amount_one_off": "other", "custom_amount": "12.50"}, 1250),
        ({"frequency": "monthly", "amount_monthly": "500", "custom_amount": "7,5"}, 750),
        ({"frequency": "monthly", "custom_amount": "€ 20"}, 2000),
    ],
)
def test_form_amounts_presets_and_custom(
    client: FlaskClient, sandbox: Any, fields: dict[str, str], amount: int
) -> None:
    response = client.post("/support/checkout", data=fields)

    assert response.status_code == 303
    assert [s["amount_total"] for s in sandbox_sessions(sandbox)] == [amount]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (_form(custom_amount="0"), "The smallest gift is €1.00."),
        (_form(custom_amount="-5"), "Enter an amount like 10 or 12.50."),
        (_form(custom_amount="2.555"), "Enter an amount like 10 or 12.50."),
        (_form(custom_amount="lots"), "Enter an amount like 10 or 12.50."),
        (_form(custom_amount="99999999"), "The largest gift we can take online is €10,000.00."),
        (_form(amount_monthly="other"), "Choose an amount or enter your own."),
        (_form(amount_monthly="abc"), "Choose one of the amounts."),
        (_form(amount_monthly="1"), "The smallest gift is €1.00."),
        (_form(frequency="weekly"), "Choose once-off, monthly or yearly."),
        ({"amount_monthly": "1000"}, "Choose once-off, monthly or yearly."),
    ],
)
def test_form_errors_are_shown_next_to_the_field_and_nothing_happens(
    client: FlaskClient, session: Session, sandbox: Any, fields: dict[str, str], message: str
) -> None:
    response = client.post("/support/checkout", data=fields)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'role="alert"' in html
    assert count_attempts(session) == 0
    assert sandbox_sessions(sandbox) == []


def test_form_keeps_what_the_reader_typed_after_an_error(client: FlaskClient) -> None:
    html = client.post(
        "/support/checkout", data=_form(frequency="one_off", custom_amount="2.555")
    ).get_data(as_text=True)

    assert 'value="2.555"' in html
    assert 'aria-invalid="true"' in html
    assert re.search(r'value="one_off" id="frequency-one_off"\s+checked', html)


def test_unknown_form_fields_are_refused(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    response = client.post("/support/checkout", data=_form(coupon="FREE"))

    assert response.status_code == 422
    assert count_attempts(session) == 0
    assert sandbox_sessions(sandbox) == []


def test_a_filled_honeypot_is_refused_without_calling_stripe(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    response = client.post("/support/checkout", data=_form(website="http://spam.example"))

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "looked automated" in html
    assert 'name="website" tabindex="-1" autocomplete="off" value=""' in html
    assert "spam.example" not in html
    assert count_attempts(session) == 0
    assert sandbox_sessions(sandbox) == []


def test_a_double_submitted_form_opens_one_checkout_session(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    form = _form(attempt=str(uuid.uuid4()))

    first = client.post("/support/checkout", data=form)
    second = client.post("/support/checkout", data=form)

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(sandbox_sessions(sandbox)) == 1
    assert count_attempts(session) == 1


def _paid_session(client: FlaskClient, sandbox: Any, frequency: str = "monthly") -> str:
    response = client.post(
        "/api/v1/checkout", json={"frequency": frequency, "amount": 1000, "currency": "eur"}
    )
    session_id: str = response.get_json()["session_id"]
    result = sandbox.sim.complete_checkout(session_id, "4242424242424242", email="r@example.com")
    assert result.status == "succeeded"
    return session_id


def test_thank_you_confirms_a_monthly_gift_with_stripe_and_marks_the_supporter(
    client: FlaskClient, sandbox: Any
) -> None:
    session_id = _paid_session(client, sandbox, "monthly")

    response = client.get(f"/support/thank-you?session_id={session_id}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "€10.00 a month" in html
    assert "data-supporter-thanks" in html
    # The signed pass, for this origin's widget (no unsigned flag, no cookie).
    assert "Set-Cookie" not in response.headers
    [token] = re.findall(r'data-supporter-pass="([^"]+)"', html)
    with client.application.app_context():
        claims = verify(client.application.extensions["settings"], token)
    assert claims is not None and claims.until > utcnow() + timedelta(days=28)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    # The way to manage it is signing in by email; the page mints no bearer link.
    assert 'href="/support/manage" data-manage-link' in html
    assert not re.search(r"/support/manage/[^\"]+", html)


def test_thank_you_confirms_a_yearly_gift_and_points_to_signing_in(
    client: FlaskClient, sandbox: Any
) -> None:
    session_id = _paid_session(client, sandbox, "annual")

    html = client.get(f"/support/thank-you?session_id={session_id}").get_data(as_text=True)

    assert "€10.00 a year" in html
    assert "Manage my yearly gift" in html
    # Managing it takes a sign-in link by email; the page links to that form only.
    assert 'href="/support/manage" data-manage-link' in html
    assert not re.search(r"/support/manage/[^\"]+", html)


def test_the_form_offers_yearly_gifts_and_opens_a_yearly_checkout(
    client: FlaskClient, sandbox: Any
) -> None:
    html = client.get("/support?frequency=annual").get_data(as_text=True)
    assert re.search(r'value="annual" id="frequency-annual"\s+checked', html)
    assert re.search(r'name="amount_annual" value="10000"\s+checked', html)

    response = client.post(
        "/support/checkout", data={"frequency": "annual", "amount_annual": "5000"}
    )

    assert response.status_code == 303, response.get_data(as_text=True)
    [stripe_session] = sandbox_sessions(sandbox)
    [item] = sandbox.sim.line_items(stripe_session["id"])
    assert item["price"]["recurring"]["interval"] == "year"
    assert item["price"]["unit_amount"] == 5000


def test_thank_you_for_a_one_off_gift_has_no_manage_link(client: FlaskClient, sandbox: Any) -> None:
    session_id = _paid_session(client, sandbox, "one_off")

    html = client.get(f"/support/thank-you?session_id={session_id}").get_data(as_text=True)

    assert "You gave" in html
    assert "€10.00" in html
    assert "data-manage-link" not in html


def test_thank_you_does_not_trust_an_unpaid_session(client: FlaskClient, sandbox: Any) -> None:
    response = client.post(
        "/api/v1/checkout", json={"frequency": "one_off", "amount": 1000, "currency": "eur"}
    )
    session_id = response.get_json()["session_id"]

    page = client.get(f"/support/thank-you?session_id={session_id}")

    assert page.status_code == 200
    assert "isn't complete" in page.get_data(as_text=True)
    assert "Set-Cookie" not in page.headers


@pytest.mark.parametrize("query", ["", "?session_id=", "?session_id=cs_test_nope", "?session_id=x"])
def test_thank_you_for_an_unknown_session_is_a_clear_404(client: FlaskClient, query: str) -> None:
    response = client.get(f"/support/thank-you{query}")

    assert response.status_code == 404
    assert "couldn't find that payment" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_thank_you_ignores_sessions_that_are_not_ours(client: FlaskClient, sandbox: Any) -> None:
    import stripe

    # Another integration on the same Stripe account: its sessions carry no marker of ours.
    foreign = stripe.StripeClient(
        SANDBOX_SECRET_KEY, base_addresses={"api": sandbox.url}
    ).v1.checkout.sessions.create(
        {
            "mode": "payment",
            "success_url": "https://elsewhere.example/ok",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 900,
                        "product_data": {"name": "Not ours"},
                    },
                }
            ],
        }
    )
    sandbox.sim.complete_checkout(foreign.id, "4242424242424242", email="x@example.com")

    assert client.get(f"/support/thank-you?session_id={foreign.id}").status_code == 404
    assert client.get(f"/api/v1/checkout/sessions/{foreign.id}").status_code == 404


def test_session_status_api_for_the_widget(client: FlaskClient, sandbox: Any) -> None:
    session_id = _paid_session(client, sandbox, "monthly")

    response = client.get(
        f"/api/v1/checkout/sessions/{session_id}", headers={"Origin": "https://news.example"}
    )

    assert response.status_code == 200
    body = response.get_json()
    # Anyone can hold a session id: the answer mints nothing that opens an account.
    assert body == {
        "paid": True,
        "status": "complete",
        "frequency": "monthly",
        "amount": 1000,
        "currency": "eur",
        "display_amount": "€10.00",
    }
    assert "/support/manage/" not in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert sandbox.state.objects("billing_portal.session") == []
    assert response.headers["Access-Control-Allow-Origin"] == "https://news.example"


def test_session_status_api_for_an_open_session(client: FlaskClient, sandbox: Any) -> None:
    response = client.post(
        "/api/v1/checkout", json={"frequency": "one_off", "amount": 1500, "currency": "eur"}
    )
    session_id = response.get_json()["session_id"]

    body = client.get(f"/api/v1/checkout/sessions/{session_id}").get_json()

    assert body == {
        "paid": False,
        "status": "open",
        "frequency": "one_off",
        "amount": 1500,
        "currency": "eur",
        "display_amount": "€15.00",
    }


def test_session_status_api_404_and_502(client: FlaskClient, sandbox: Any) -> None:
    missing = client.get("/api/v1/checkout/sessions/cs_test_missing")
    sandbox.state.set_fault("error", status=401)
    # Another session: the first one's 404 is kept for a while (see test_session_cache).
    down = client.get("/api/v1/checkout/sessions/cs_test_other")

    assert missing.status_code == 404
    assert missing.get_json()["message"] == "We have no record of that checkout session."
    assert down.status_code == 502
    assert "nothing was charged" in down.get_json()["message"]


def _old_manage_token(secret_key: str, customer_id: str, *, at: float | None = None) -> str:
    """A manage link as the service used to sign them (itsdangerous, its old salt)."""
    from itsdangerous import URLSafeTimedSerializer

    class _At(URLSafeTimedSerializer):
        def get_timestamp(self) -> int:
            return int(at if at is not None else time.time())

    return _At(secret_key, salt="manage-monthly-gift").dumps({"customer": customer_id})


def test_an_old_session_id_and_old_manage_links_open_nothing(
    client: FlaskClient, sandbox: Any, app: Any
) -> None:
    session_id = _paid_session(client, sandbox, "monthly")
    [subscription] = sandbox.state.objects("subscription")
    customer = subscription["customer"]
    settings = app.extensions["settings"]
    long_ago = time.time() - 40 * 24 * 3600
    links = [
        _old_manage_token(settings.secret_key, customer),  # valid under the old rules
        _old_manage_token(settings.secret_key, customer, at=long_ago),
        _old_manage_token("another-key-" + "z" * 32, customer),
        _old_manage_token(settings.secret_key, customer)[:-2] + "xx",
    ]

    status = client.get(f"/api/v1/checkout/sessions/{session_id}").get_json()
    thank_you = client.get(f"/support/thank-you?session_id={session_id}")
    answers = [client.get(f"/support/manage/{token}") for token in links]

    assert "manage_url" not in status
    assert thank_you.status_code == 200
    for response in answers:
        assert response.status_code == 410
        assert "Location" not in response.headers
        assert "Manage links now come by email" in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"
    assert sandbox.state.objects("billing_portal.session") == []


def test_thank_you_for_a_payment_still_clearing(client: FlaskClient, sandbox: Any) -> None:
    response = client.post(
        "/api/v1/checkout", json={"frequency": "one_off", "amount": 1000, "currency": "eur"}
    )
    session_id = response.get_json()["session_id"]
    # A delayed method (say, a SEPA debit): the session completes before the money clears.
    stripe_session = sandbox.state.get(session_id)
    sandbox.state.put({**stripe_session, "status": "complete", "payment_status": "unpaid"})

    page = client.get(f"/support/thank-you?session_id={session_id}")

    assert page.status_code == 200
    assert "your payment is on its way" in page.get_data(as_text=True)
    assert "Set-Cookie" not in page.headers


def test_stripe_naming_a_missing_customer_in_a_400_counts_as_not_found() -> None:
    import stripe

    from service.stripe_gateway import _gateway_error

    missing = stripe.InvalidRequestError(
        "No such customer: 'cus_x'", "customer", code="resource_missing", http_status=400
    )
    assert _gateway_error(missing, "opening the customer portal").not_found
    refused = stripe.InvalidRequestError("Bad return_url", "return_url", http_status=400)
    assert not _gateway_error(refused, "opening the customer portal").not_found


def _subscription_of(sandbox: Any, session_id: str) -> dict[str, Any]:
    subscription_id = sandbox.state.live(session_id)["subscription"]
    subscription: dict[str, Any] = sandbox.state.live(subscription_id)
    return subscription


def test_the_thank_you_page_offers_no_manage_link_an_hour_after_paying(
    client: FlaskClient, sandbox: Any
) -> None:
    session_id = _paid_session(client, sandbox, "monthly")
    # As if the reader had paid an hour and a minute ago.
    _subscription_of(sandbox, session_id)["created"] -= 3660

    html = client.get(f"/support/thank-you?session_id={session_id}").get_data(as_text=True)

    assert "€10.00 a month" in html
    assert not re.search(r"/support/manage/[^\"]+", html)
    assert sandbox.state.objects("billing_portal.session") == []


@pytest.mark.parametrize("at_period_end", [False, True])
def test_the_thank_you_page_offers_no_manage_link_after_cancelling(
    client: FlaskClient, sandbox: Any, at_period_end: bool
) -> None:
    session_id = _paid_session(client, sandbox, "monthly")
    subscription = _subscription_of(sandbox, session_id)
    sandbox.sim.cancel_subscription(subscription["id"], at_period_end=at_period_end)

    html = client.get(f"/support/thank-you?session_id={session_id}").get_data(as_text=True)

    assert not re.search(r"/support/manage/[^\"]+", html)
    assert sandbox.state.objects("billing_portal.session") == []
