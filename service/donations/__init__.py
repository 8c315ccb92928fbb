"""Donations: a reader starting a gift, recorded as an attempt and opened in Stripe Checkout.

Other features import only what this package exports below.
"""

from __future__ import annotations

import re

from flask import Flask

from service.core import jobs
from service.core.extensions import api_of
from service.core.input_guard import LINE_CHARACTER
from service.core.settings import Settings
from service.donations import api, cli, stale_attempts
from service.donations.api import (
    STRIPE_DOWN_MESSAGE,
    UNAVAILABLE_MESSAGE,
    UNAVAILABLE_RETRY_AFTER,
    checkout_rate_limits,
    describe_session,
    fetch_our_session,
)
from service.donations.checkout import (
    DATABASE_AWAY,
    CheckoutFailed,
    DonationsUnavailable,
    amount_problem,
    begin_checkout,
    fee_cover_amount,
    is_allowed_return_url,
    valid_attempt_id,
)
from service.donations.schemas import SupportFormSchema

__all__ = [
    "DATABASE_AWAY",
    "STRIPE_DOWN_MESSAGE",
    "UNAVAILABLE_MESSAGE",
    "UNAVAILABLE_RETRY_AFTER",
    "CheckoutFailed",
    "DonationsUnavailable",
    "SupportFormSchema",
    "amount_problem",
    "begin_checkout",
    "checkout_rate_limits",
    "describe_session",
    "fee_cover_amount",
    "fetch_our_session",
    "init_app",
    "is_allowed_return_url",
    "valid_attempt_id",
]


def init_app(app: Flask) -> None:
    """Register the checkout API, the job that resolves stale attempts and its command."""
    api_of(app).register_blueprint(api.blp)
    jobs.register(
        stale_attempts.RESOLVE_KIND,
        stale_attempts.handle_resolution,
        prepare=stale_attempts.prepare_resolution,
    )
    app.cli.add_command(cli.sweep_attempts_command)
    _document_settings(app)


def _document_settings(app: Flask) -> None:
    """Put this deployment's currencies, limits and origins into the OpenAPI document.

    The schema classes are built before any settings exist; without this the document
    would allow amounts, currencies and return URLs the API then refuses.
    """
    settings: Settings = app.extensions["settings"]
    request_schema = api_of(app).spec.components.schemas["CheckoutRequest"]["properties"]
    limits = settings.currency_limits.values()
    request_schema["amount"].update(
        minimum=min(limit.minimum for limit in limits),
        maximum=max(limit.maximum for limit in limits),
    )
    request_schema["currency"]["enum"] = [*settings.supported_currencies, None]
    origins = "|".join(
        re.escape(origin) for origin in (settings.public_origin, *settings.allowed_embed_origins)
    )
    request_schema["return_url"]["pattern"] = f"^(?:{origins})(?:[/?#]{LINE_CHARACTER}*)?$"
