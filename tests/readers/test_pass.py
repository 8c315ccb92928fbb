"""The supporter pass: signed with the service's P-256 key, dated from the ledger,
refreshed by pass holders, refused when forged; the key is a production setting."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.core.pass_key import new_private_key_pem, public_jwk
from service.core.settings import Settings, SettingsError
from service.ledger import (
    Donation,
    DonationStatus,
    Frequency,
    Interval,
    MonthlyDonation,
    MonthlyStatus,
    Supporter,
)
from service.readers.passes import mint, verify

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "k" * 40,
    "STRIPE_SECRET_KEY": "sk_test_abc",
    "STRIPE_WEBHOOK_SECRET": "whsec_abc",
    "DATABASE_URL": "postgresql://db.example/news",
    "PUBLICATION_NAME": "The Valley Ledger",
}


def settings_of(app: Flask) -> Settings:
    settings: Settings = app.extensions["settings"]
    return settings


def _tamper(token: str, **changes: Any) -> str:
    body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps(claims | changes).encode()).rstrip(b"=")
    return f"{forged.decode()}.{signature}"


def test_a_pass_verifies_and_nothing_altered_or_foreign_does(app: Flask) -> None:
    settings = settings_of(app)
    token = mint(settings, "s:42", NOW + timedelta(days=30), NOW)
    claims = verify(settings, token)
    assert claims is not None
    assert (claims.subject, claims.until) == ("s:42", NOW + timedelta(days=30))
    # The subject is sealed: the publisher's page, where the pass lives, sees no id.
    assert "42" not in json.dumps(json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==")))
    assert verify(settings, _tamper(token, until=4_000_000_000)) is None
    other = settings.with_overrides({"supporter_pass_private_key": new_private_key_pem()})
    assert verify(other, mint(other, "s:42", NOW + timedelta(days=30), NOW)) is not None
    assert verify(settings, mint(other, "s:42", NOW + timedelta(days=30), NOW)) is None
    for junk in ("", "a.b", "x" * 5000, token + ".x", token.replace(".", "")):
        assert verify(settings, junk) is None


def test_the_public_key_is_in_the_site_document(client: FlaskClient, app: Flask) -> None:
    document = client.get("/api/v1/appeals/site").get_json()
    assert document["pass_key"] == public_jwk(settings_of(app))
    assert set(document["pass_key"]) == {"kty", "crv", "x", "y"}  # no private part


def test_production_refuses_to_start_without_a_key_and_with_a_bad_one() -> None:
    with pytest.raises(SettingsError, match="SUPPORTER_PASS_PRIVATE_KEY") as error:
        Settings.from_env(PRODUCTION)
    assert "\n" not in str(error.value)
    with pytest.raises(SettingsError, match="SUPPORTER_PASS_PRIVATE_KEY is not a PEM"):
        Settings.from_env({**PRODUCTION, "SUPPORTER_PASS_PRIVATE_KEY": "nonsense"})
    pem = new_private_key_pem().replace("\n", "\\n")  # one line, as env files hold it
    settings = Settings.from_env({**PRODUCTION, "SUPPORTER_PASS_PRIVATE_KEY": pem})
    assert "PRIVATE" not in repr(settings)


def _monthly(session: Session, status: MonthlyStatus, period_end: datetime) -> Supporter:
    supporter = Supporter(email="monthly@example.com")
    session.add(supporter)
    session.flush()
    session.add(
        MonthlyDonation(
            stripe_subscription_id="sub_pass_1",
            stripe_customer_id="cus_pass_1",
            supporter_id=supporter.id,
            status=status,
            interval=Interval.MONTH,
            amount_minor=1000,
            currency="eur",
            current_period_end=period_end,
        )
    )
    session.commit()
    return supporter


def _refresh(client: FlaskClient, token: str) -> Any:
    return client.post("/api/v1/readers/pass", json={"pass": token})


def test_refresh_follows_the_ledger_current_then_lapsed(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    period_end = utcnow() + timedelta(days=12)
    supporter = _monthly(session, MonthlyStatus.ACTIVE, period_end)
    old = mint(settings_of(app), f"s:{supporter.id}", utcnow() + timedelta(days=1))

    response = _refresh(client, old)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["state"] == "current"
    claims = verify(settings_of(app), body["pass"])
    assert claims is not None
    assert abs((claims.until - period_end).total_seconds()) < 1  # the paid period's end

    monthly = session.query(MonthlyDonation).one()
    monthly.status = MonthlyStatus.CANCELED
    session.commit()
    assert _refresh(client, body["pass"]).get_json() == {"state": "lapsed"}


def test_a_one_off_gift_counts_for_the_window_and_a_refund_ends_it(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    supporter = Supporter(email="once@example.com")
    session.add(supporter)
    session.flush()
    paid = utcnow() - timedelta(days=10)
    gift = Donation(
        frequency=Frequency.ONE_OFF,
        status=DonationStatus.SUCCEEDED,
        amount_minor=2500,
        currency="eur",
        paid_at=paid,
        supporter_id=supporter.id,
    )
    session.add(gift)
    session.commit()
    gift_id = gift.id
    token = mint(settings_of(app), f"s:{supporter.id}", utcnow() + timedelta(days=1))
    body = _refresh(client, token).get_json()
    claims = verify(settings_of(app), body["pass"])
    assert claims is not None
    window = timedelta(days=settings_of(app).supporter_window_days)
    assert abs((claims.until - (paid + window)).total_seconds()) < 1
    session.query(Donation).filter_by(id=gift_id).update({"status": DonationStatus.REFUNDED})
    session.commit()
    assert _refresh(client, token).get_json() == {"state": "lapsed"}


def test_a_forged_pass_is_ignored_and_unknown_readers_never_gave(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    supporter = _monthly(session, MonthlyStatus.ACTIVE, utcnow() + timedelta(days=12))
    token = mint(settings_of(app), f"s:{supporter.id}", utcnow() + timedelta(days=1))
    assert _refresh(client, token).get_json()["state"] == "current"
    forged = _tamper(token, until=4_000_000_000)
    response = _refresh(client, forged)
    assert response.status_code == 200
    assert response.get_json() == {"state": "never"}  # no pass back: not recognised
    unknown = mint(settings_of(app), "s:999999", utcnow() + timedelta(days=1))
    assert _refresh(client, unknown).get_json() == {"state": "never"}
    assert client.post("/api/v1/readers/pass", json={}).status_code == 422
    assert client.post("/api/v1/readers/pass", json={"pass": "x" * 2000}).status_code == 422


def test_support_takes_only_an_allowed_publishers_page_to_return_to(client: FlaskClient) -> None:
    good = client.get("/support?return_url=https://news.example/2026/story")
    assert good.status_code == 200
    assert 'name="return_url" value="https://news.example/2026/story"' in good.get_data(
        as_text=True
    )
    for bad in ("https://evil.example/x", "javascript:alert(1)", "//evil.example/"):
        refused = client.get("/support", query_string={"return_url": bad})
        assert refused.status_code == 422
        html = refused.get_data(as_text=True)
        assert "The link back to the site you came from isn&#39;t one we know." in html
        assert 'name="return_url"' not in html


def test_the_form_refuses_a_return_url_off_our_sites(client: FlaskClient) -> None:
    response = client.post(
        "/support/checkout",
        data={
            "frequency": "one_off",
            "amount_one_off": "2500",
            "return_url": "https://evil.example/x",
        },
    )
    assert response.status_code == 422
    assert "not on this site or an allowed publisher site" in response.get_data(as_text=True)
