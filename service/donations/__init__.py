"""Donations: a reader starting a gift, recorded as an attempt and opened in Stripe Checkout.

Other features import only what this package exports below.
"""

from __future__ import annotations

from flask import Flask

from service.core.extensions import api_of
from service.donations import api
from service.donations.api import (
    STRIPE_DOWN_MESSAGE,
    checkout_rate_limits,
    describe_session,
    fetch_our_session,
)
from service.donations.checkout import (
    PRESETS,
    CheckoutFailed,
    amount_problem,
    begin_checkout,
    valid_attempt_id,
)
from service.donations.manage_links import ManageLinkExpired, ManageLinkInvalid, open_portal
from service.donations.schemas import SupportFormSchema

__all__ = [
    "PRESETS",
    "STRIPE_DOWN_MESSAGE",
    "CheckoutFailed",
    "ManageLinkExpired",
    "ManageLinkInvalid",
    "SupportFormSchema",
    "amount_problem",
    "begin_checkout",
    "checkout_rate_limits",
    "describe_session",
    "fetch_our_session",
    "init_app",
    "open_portal",
    "valid_attempt_id",
]


def init_app(app: Flask) -> None:
    """Register the checkout API."""
    api_of(app).register_blueprint(api.blp)
