"""Signed, expiring links that let a monthly supporter manage their gift in Stripe's portal.

The token carries the Stripe customer id, signed with SECRET_KEY (itsdangerous), so the
link needs no table and cannot be forged or edited; it expires after
MANAGE_LINK_MAX_AGE_DAYS. Anyone holding an unexpired link can open the portal for that
customer, which is why it is shown only on the verified thank-you page.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from service import stripe_gateway
from service.core.settings import Settings

SALT = "manage-monthly-gift"


class ManageLinkExpired(Exception):
    """The link was ours but is too old."""


class ManageLinkInvalid(Exception):
    """The link was not made by us (or was altered)."""


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def make_manage_token(settings: Settings, customer_id: str) -> str:
    """Sign a token that opens the portal for this Stripe customer."""
    return _serializer(settings).dumps({"customer": customer_id})


def manage_url(settings: Settings, customer_id: str) -> str:
    """The absolute manage link for a Stripe customer."""
    return f"{settings.public_base_url}/support/manage/{make_manage_token(settings, customer_id)}"


def read_manage_token(settings: Settings, token: str) -> str:
    """Return the customer id of a valid token; raise ManageLinkExpired or ManageLinkInvalid."""
    max_age = int(timedelta(days=settings.manage_link_max_age_days).total_seconds())
    try:
        payload = _serializer(settings).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ManageLinkExpired from None
    except BadSignature:
        raise ManageLinkInvalid from None
    customer = payload.get("customer") if isinstance(payload, dict) else None
    if not isinstance(customer, str) or not customer:
        raise ManageLinkInvalid
    return customer


def open_portal(settings: Settings, token: str) -> str:
    """Check a manage token and open a Customer Portal session; return its URL.

    Raises ManageLinkExpired, ManageLinkInvalid or stripe_gateway.GatewayError.
    """
    customer_id = read_manage_token(settings, token)
    return stripe_gateway.create_portal_session(
        settings,
        customer_id=customer_id,
        return_url=f"{settings.public_base_url}/support",
        # Each click opens a fresh portal session; the key covers the client's retries.
        request_id=str(uuid.uuid4()),
    )
