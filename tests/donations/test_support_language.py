"""The support form's checkout and thank-you in the reader's language."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.donations.helpers import sandbox_sessions
from tests.stripe_fixtures import sandbox_overrides


@pytest.fixture
def app_overrides(sandbox: Any) -> dict[str, Any]:
    return sandbox_overrides(sandbox)


def test_a_german_form_opens_a_german_checkout_and_thanks_in_german(
    client: FlaskClient, sandbox: Any
) -> None:
    form = {"frequency": "annual", "amount_annual": "10000", "lang": "de"}
    sent = client.post("/support/checkout", data=form)
    assert sent.status_code == 303
    (stripe_session,) = sandbox_sessions(sandbox)
    assert stripe_session["locale"] == "de"
    assert stripe_session["metadata"]["language"] == "de"
    # Back to our thank-you page in German, whatever the browser says.
    assert stripe_session["success_url"].endswith("&lang=de")
    assert stripe_session["cancel_url"].endswith("/support?lang=de")
    result = sandbox.sim.complete_checkout(
        stripe_session["id"], "4242424242424242", email="leser@example.com"
    )
    assert result.status == "succeeded"

    page = client.get(
        f"/support/thank-you?session_id={stripe_session['id']}&lang=de",
        headers={"Accept-Language": "en"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Vielen Dank" in html
    assert "100,00\u00a0€ im Jahr" in html
    assert "Meine jährliche Spende verwalten" in html


def test_the_session_answer_the_widget_shows_is_in_its_language(
    client: FlaskClient, sandbox: Any
) -> None:
    created = client.post(
        "/api/v1/checkout",
        json={"frequency": "one_off", "amount": 1500, "currency": "gbp", "language": "fr"},
    )
    assert created.status_code == 201
    session_id = created.get_json()["session_id"]
    (stripe_session,) = sandbox_sessions(sandbox)
    assert stripe_session["locale"] == "fr"

    body = client.get(f"/api/v1/checkout/sessions/{session_id}?lang=fr").get_json()
    assert body["display_amount"] == "15,00\u00a0£GB"
    missing = client.get("/api/v1/checkout/sessions/cs_test_missing?lang=de")
    assert missing.status_code == 404
    assert missing.get_json()["message"] == "Zu diesem Bezahlvorgang liegen uns keine Daten vor."
