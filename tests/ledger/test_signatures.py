"""Only genuine, fresh Stripe events get in: any signature problem is a 400 and writes nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.ledger.inbox import SignatureError, verify_signature
from service.ledger.models import Donation, StripeCustomer, StripeEvent, Supporter
from tests.conftest import TEST_WEBHOOK_SECRET
from tests.ledger.stripe_events import body_of, event, one_off_session, sign

OLD_SECRET = "whsec_" + "o" * 32
NEW_SECRET = "whsec_" + "n" * 32


def _nothing_written(session: Session) -> None:
    for model in (StripeEvent, Donation, Supporter, StripeCustomer):
        assert session.scalar(select(func.count()).select_from(model)) == 0, model.__name__


def _post(client: FlaskClient, payload: bytes, header: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return client.post("/webhooks/stripe", data=payload, headers=headers)


def _payload() -> bytes:
    return body_of(event("checkout.session.completed", one_off_session()))


def _bad_requests() -> dict[str, tuple[bytes, str | None]]:
    payload = _payload()
    now = int(time.time())
    good = sign(payload, TEST_WEBHOOK_SECRET, now)
    reserialised = json.dumps(json.loads(payload), separators=(",", ":")).encode()
    return {
        "bad signature": (payload, f"t={now},v1={'0' * 64}"),
        "wrong secret": (payload, sign(payload, "whsec_not_ours", now)),
        "timestamp 301 s old": (payload, sign(payload, TEST_WEBHOOK_SECRET, now - 301)),
        "timestamp 301 s ahead": (payload, sign(payload, TEST_WEBHOOK_SECRET, now + 301)),
        "re-serialised body": (reserialised, good),
        "body changed after signing": (payload.replace(b"1000", b"9999"), good),
        "no header": (payload, None),
        "empty header": (payload, ""),
        "only v0 signatures": (payload, good.replace("v1=", "v0=")),
        "timestamp changed": (payload, good.replace(f"t={now}", f"t={now - 1}")),
        "garbage header": (payload, "nonsense"),
    }


@pytest.mark.parametrize("case", list(_bad_requests()))
def test_bad_deliveries_are_refused_and_write_nothing(
    client: FlaskClient, session: Session, case: str
) -> None:
    payload, header = _bad_requests()[case]

    response = _post(client, payload, header)

    assert response.status_code == 400
    assert response.json["code"] == 400
    assert "Invalid webhook" in response.json["message"]
    _nothing_written(session)


def test_a_signed_body_that_is_not_an_event_is_refused(
    client: FlaskClient, session: Session
) -> None:
    for payload in (b"not json", b"\xff\xfe", b"[]", json.dumps({"object": "charge"}).encode()):
        assert _post(client, payload, sign(payload)).status_code == 400
    _nothing_written(session)


def test_a_timestamp_within_tolerance_is_accepted(client: FlaskClient) -> None:
    payload = _payload()
    header = sign(payload, TEST_WEBHOOK_SECRET, int(time.time()) - 290)

    assert _post(client, payload, header).status_code == 200


def test_any_of_several_v1_signatures_may_match() -> None:
    payload = b'{"id": "evt_1"}'
    now = int(time.time())
    good = sign(payload, TEST_WEBHOOK_SECRET, now).split(",")[1]
    header = f"t={now},v1={'a' * 64},{good},v0={'b' * 64}"

    verify_signature(payload, header, (TEST_WEBHOOK_SECRET,))
    with pytest.raises(SignatureError):
        verify_signature(payload, f"t={now},v1={'a' * 64}", (TEST_WEBHOOK_SECRET,))


def test_no_configured_secret_refuses_everything() -> None:
    payload = b"{}"
    with pytest.raises(SignatureError):
        verify_signature(payload, sign(payload), ())


class TestRotation:
    @pytest.fixture
    def app_overrides(self, app_overrides: dict[str, Any]) -> dict[str, Any]:
        return app_overrides | {"stripe_webhook_secrets": (NEW_SECRET, OLD_SECRET)}

    def test_both_secrets_are_accepted_during_a_rotation(self, client: FlaskClient) -> None:
        for secret in (OLD_SECRET, NEW_SECRET):
            payload = _payload()
            assert _post(client, payload, sign(payload, secret)).status_code == 200
        payload = _payload()
        assert _post(client, payload, sign(payload, TEST_WEBHOOK_SECRET)).status_code == 400
