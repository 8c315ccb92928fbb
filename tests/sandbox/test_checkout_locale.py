"""The test Checkout page speaks the session's `locale`, as Stripe's hosted page does."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from flask.testing import FlaskClient

from stripe_sandbox import SandboxServer

from .conftest import monthly_params, one_off_params


@pytest.fixture
def browser(sandbox: SandboxServer) -> FlaskClient:
    return sandbox.app.test_client()


def _page(client: stripe.StripeClient, browser: FlaskClient, params: dict[str, Any]) -> str:
    session_id = client.v1.checkout.sessions.create(params=params).id
    return browser.get(f"/c/pay/{session_id}").get_data(as_text=True)


def test_a_german_session_gets_a_german_page_with_german_amounts(
    client: stripe.StripeClient, browser: FlaskClient
) -> None:
    page = _page(client, browser, monthly_params(locale="de"))
    assert '<html lang="de">' in page
    assert "5,00\u00a0€" in page and "pro Monat" in page
    assert "Wird monatlich abgebucht, bis Sie kündigen." in page
    assert '<label for="card_number">Kartennummer</label>' in page
    assert "Mit Karte bezahlen" in page and "Abonnieren 5,00\u00a0€" in page


def test_french_and_unknown_locales(client: stripe.StripeClient, browser: FlaskClient) -> None:
    french = _page(client, browser, one_off_params(locale="fr"))
    assert "Faire un don 25,00\u00a0€" in french
    assert "Paiement unique." in french
    # Stripe's other locales (and "auto") fall back to English here.
    italian = _page(client, browser, one_off_params(locale="it"))
    assert "Donate €25.00" in italian and '<html lang="en">' in italian
