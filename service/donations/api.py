"""JSON API for starting a donation and for checking a returning donor's session."""

# flask-smorest ships no type information, so its decorators are untyped.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, current_app, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from service import stripe_gateway
from service.core.extensions import db, limiter
from service.core.money import format_money
from service.core.settings import Settings
from service.donations.checkout import (
    CheckoutFailed,
    DonationRequest,
    begin_checkout,
    valid_attempt_id,
)
from service.donations.schemas import (
    CheckoutCreatedSchema,
    CheckoutRequestSchema,
    CheckoutSessionStatusSchema,
    NotFoundSchema,
)
from service.ledger import Frequency

blp = Blueprint(
    "checkout_api",
    __name__,
    url_prefix="/api/v1/checkout",
    description="Start a one-off or monthly donation through Stripe Checkout.",
)

F = TypeVar("F", bound=Callable[..., Any])

RATE_LIMITED_MESSAGE = (
    "Too many attempts to start a donation from here. Please wait a minute and try again."
)
STRIPE_DOWN_MESSAGE = (
    "We could not reach our payment provider, so nothing was charged. Please try again in a moment."
)


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def _checkout_rate_limit() -> str:
    return _settings().checkout_rate_limit


def _submitted_email() -> str:
    """The email a checkout request names (JSON or form), normalised, or ''."""
    if request.is_json:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    else:
        email = request.form.get("email")
    return email.strip().lower() if isinstance(email, str) else ""


def checkout_rate_limits(view: F) -> F:
    """Limit checkout creation per client IP and per email, across the API and the form."""
    per_ip = limiter.shared_limit(
        _checkout_rate_limit,
        scope="checkout-ip",
        key_func=get_remote_address,
        methods=["POST"],
        error_message=RATE_LIMITED_MESSAGE,
    )
    per_email = limiter.shared_limit(
        _checkout_rate_limit,
        scope="checkout-email",
        key_func=_submitted_email,
        methods=["POST"],
        error_message=RATE_LIMITED_MESSAGE,
        exempt_when=lambda: not _submitted_email(),
    )
    return cast(F, per_ip(per_email(view)))


@blp.route("", methods=["POST"])
@checkout_rate_limits
@blp.arguments(CheckoutRequestSchema, location="json", as_kwargs=False)
@blp.response(201, CheckoutCreatedSchema)
@blp.alt_response(429, schema="Error", description="Too many attempts from this client or email")
@blp.alt_response(502, schema="Error", description="Stripe could not be reached or refused")
def create_checkout(donation: DonationRequest) -> dict[str, str]:
    """Start a donation and return the Stripe Checkout URL to send the reader to.

    An optional `Idempotency-Key` header (a UUID) makes a repeated request return the
    same Checkout Session.
    """
    attempt_id = valid_attempt_id(request.headers.get("Idempotency-Key"))
    try:
        created = begin_checkout(db.session, _settings(), donation, attempt_id)
    except CheckoutFailed:
        abort(502, STRIPE_DOWN_MESSAGE)
    return {"session_id": created.id, "checkout_url": created.url}


def describe_session(
    settings: Settings, info: stripe_gateway.CheckoutSessionInfo
) -> dict[str, Any]:
    """What a returning donor's page may know about their Checkout Session."""
    frequency = info.metadata.get("frequency") or (
        Frequency.MONTHLY.value if info.mode == "subscription" else Frequency.ONE_OFF.value
    )
    return {
        "paid": info.paid,
        "status": info.status,
        "frequency": frequency,
        "amount": info.amount_total,
        "currency": info.currency,
        "display_amount": format_money(info.amount_total, info.currency),
    }


def fetch_our_session(session_id: str) -> stripe_gateway.CheckoutSessionInfo | None:
    """A Checkout Session of ours read live from Stripe; None when unknown or not ours.

    Raises GatewayError when Stripe cannot answer.
    """
    if not session_id.startswith("cs_") or len(session_id) > 255:
        return None
    try:
        info = stripe_gateway.retrieve_checkout_session(_settings(), session_id)
    except stripe_gateway.GatewayError as error:
        if error.not_found:
            return None
        raise
    return info if stripe_gateway.is_ours(info.metadata) else None


@blp.route("/sessions/<session_id>", methods=["GET"])
@blp.response(200, CheckoutSessionStatusSchema)
@blp.alt_response(404, schema=NotFoundSchema, description="Unknown, or not one of ours")
@blp.alt_response(502, schema="Error", description="Stripe could not be reached")
def checkout_session_status(session_id: str) -> ResponseReturnValue:
    """Confirm a returning donor's Checkout Session with Stripe (never from the URL alone)."""
    try:
        info = fetch_our_session(session_id)
    except stripe_gateway.GatewayError:
        abort(502, STRIPE_DOWN_MESSAGE)
    if info is None:
        abort(404, "We have no record of that checkout session.")
    # Paid or not and the thank-you message only: no link, and never kept by a cache.
    return describe_session(_settings(), info), 200, {"Cache-Control": "no-store"}
