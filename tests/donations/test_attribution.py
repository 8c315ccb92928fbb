"""Public campaign/variant values are kept for attribution only when they name real ones.

Issue 17 point 5: any text sent as `campaign` used to become its own campaign in the
staff reports (phishing text could be planted there). These tests failed before: the
text reached the attempt, Stripe's metadata and so the donation.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.appeals.editing import VariantInput
from service.ledger.models import CheckoutAttempt
from tests.appeals.factories import TOP, make_campaign
from tests.donations.helpers import sandbox_sessions
from tests.stripe_fixtures import sandbox_overrides

VALID = {"frequency": "one_off", "amount": 1000, "currency": "eur", "placement": "top"}
PHISHING = "Your card was declined: call +1 555 0100"


@pytest.fixture
def app_overrides(sandbox: Any) -> dict[str, Any]:
    return sandbox_overrides(sandbox)


@pytest.fixture(autouse=True)
def spring(session: Session) -> None:
    variants = (VariantInput("a", 1, {"top": TOP}), VariantInput("b", 1, {"top": TOP}))
    make_campaign(session, slug="spring", variants=variants, active=False)
    session.commit()


def attribution(session: Session) -> tuple[str | None, str | None, str | None]:
    session.expire_all()
    attempt = session.scalars(select(CheckoutAttempt)).one()
    return attempt.campaign, attempt.variant, attempt.placement


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        pytest.param(("spring", "b"), ("spring", "b"), id="known-pair"),
        pytest.param(("spring", "zz"), ("spring", None), id="unknown-variant"),
        pytest.param(("spring", None), ("spring", None), id="campaign-only"),
        pytest.param((PHISHING, "b"), (None, None), id="unknown-campaign"),
        pytest.param((None, "b"), (None, None), id="variant-only"),
    ],
)
def test_the_api_keeps_only_a_campaign_and_variant_that_exist(
    client: FlaskClient,
    session: Session,
    sandbox: Any,
    sent: tuple[str | None, str | None],
    kept: tuple[str | None, str | None],
) -> None:
    body = {**VALID, "campaign": sent[0], "variant": sent[1]}
    response = client.post("/api/v1/checkout", json=body)
    # The gift goes through either way.
    assert response.status_code == 201, response.get_json()
    assert attribution(session) == (*kept, "top")
    [stripe_session] = sandbox_sessions(sandbox)
    metadata = stripe_session["metadata"]
    assert (metadata.get("campaign"), metadata.get("variant")) == kept


def test_the_support_form_drops_an_unknown_campaign_and_still_opens_checkout(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    form = {"frequency": "monthly", "amount_monthly": "1000", "campaign": PHISHING}
    response = client.post("/support/checkout", data={**form, "variant": "a"})
    assert response.status_code == 303
    assert attribution(session) == (None, None, None)
    [stripe_session] = sandbox_sessions(sandbox)
    assert response.headers["Location"] == stripe_session["url"]
    assert PHISHING not in str(stripe_session["metadata"])


def test_the_support_form_keeps_a_real_campaign(
    client: FlaskClient, session: Session, sandbox: Any
) -> None:
    form = {"frequency": "monthly", "amount_monthly": "1000", "campaign": "spring"}
    response = client.post("/support/checkout", data={**form, "variant": "a", "placement": "top"})
    assert response.status_code == 303
    assert attribution(session) == ("spring", "a", "top")
