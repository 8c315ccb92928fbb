"""JSON API for starting a donation and for checking a returning donor's session."""

# flask-smorest ships no type information, so its decorators are untyped.
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar, cast

from flask import abort, current_app, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint
from flask_smorest import abort as smorest_abort

from service import stripe_gateway
from service.core.extensions import db, limiter
from service.core.i18n import gettext, lazy_gettext, money
from service.core.settings import Settings
from service.donations.checkout import (
    CheckoutFailed,
    DonationRequest,
    DonationsUnavailable,
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

# Translated when shown, in the reader's language.
RATE_LIMITED_MESSAGE = lazy_gettext(
    "Too many attempts to start a donation from here. Please wait a minute and try again."
)
STRIPE_DOWN_MESSAGE = lazy_gettext(
    "We could not reach our payment provider, so nothing was charged. Please try again in a moment."
)
UNAVAILABLE_MESSAGE = lazy_gettext(
    "Donations are briefly unavailable, please try again in a minute. Nothing was charged."
)
# What a client should wait before trying again after a 503 (seconds).
UNAVAILABLE_RETRY_AFTER = 60
# Session look-ups: a returning reader's page checks once or twice; this allows reloads.
SESSION_STATUS_RATE_LIMIT = "30 per minute;300 per hour"
# How long Stripe's answer about a session is reused: briefly while it can still change
# (the reader may be paying in another tab), longer once it cannot.
SESSION_OPEN_CACHE_SECONDS = 5.0
SESSION_FINAL_CACHE_SECONDS = 300.0


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
@blp.alt_response(
    503,
    schema="Error",
    description="Stripe has been failing, too many checkouts are waiting on it, or the "
    "database is away; nothing was written or charged (see Retry-After)",
)
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
    except DonationsUnavailable:
        unavailable()
    return {"session_id": created.id, "checkout_url": created.url}


def unavailable() -> NoReturn:
    """Answer 503 with the sentence for readers and a Retry-After."""
    smorest_abort(
        503, message=UNAVAILABLE_MESSAGE, headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)}
    )
    raise AssertionError("abort returned")  # flask-smorest's abort is untyped


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
        "display_amount": money(info.amount_total, info.currency),
    }


class SessionStatusCache:
    """What Stripe said about each Checkout Session lately, so reloads do not call it again.

    Bounded (the oldest entry goes first) and per process; an answer that can still
    change is kept briefly, a final one (paid, expired, not ours) longer.
    """

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.max_entries = max_entries
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, stripe_gateway.CheckoutSessionInfo | None]] = {}

    def get(self, session_id: str) -> tuple[bool, stripe_gateway.CheckoutSessionInfo | None]:
        """(True, answer) when a fresh answer is kept, else (False, None)."""
        with self._lock:
            entry = self._entries.get(session_id)
            if entry is None or entry[0] <= self.clock():
                return False, None
            return True, entry[1]

    def put(self, session_id: str, info: stripe_gateway.CheckoutSessionInfo | None) -> None:
        final = info is None or info.paid or info.status == "expired"
        ttl = SESSION_FINAL_CACHE_SECONDS if final else SESSION_OPEN_CACHE_SECONDS
        with self._lock:
            self._entries.pop(session_id, None)
            while len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[session_id] = (self.clock() + ttl, info)


def _session_cache() -> SessionStatusCache:
    cache: SessionStatusCache = current_app.extensions.setdefault(
        "checkout_session_cache", SessionStatusCache()
    )
    return cache


def fetch_our_session(session_id: str) -> stripe_gateway.CheckoutSessionInfo | None:
    """A Checkout Session of ours as Stripe says (cached briefly); None when unknown or not ours.

    Raises GatewayError when Stripe cannot answer (StripeUnavailable when not asked).
    """
    if not session_id.startswith("cs_") or len(session_id) > 255:
        return None
    cache = _session_cache()
    found, cached = cache.get(session_id)
    if found:
        return cached
    try:
        info = stripe_gateway.retrieve_checkout_session(_settings(), session_id)
    except stripe_gateway.GatewayError as error:
        if not error.not_found:
            raise
        info = None
    ours = info if info is not None and stripe_gateway.is_ours(info.metadata) else None
    cache.put(session_id, ours)
    return ours


def session_status_rate_limit(view: F) -> F:
    """Limit session look-ups per client IP (each may be a live call to Stripe)."""
    limit = limiter.limit(
        SESSION_STATUS_RATE_LIMIT,
        key_func=get_remote_address,
        error_message=lazy_gettext(
            "Too many checks from here. Please wait a minute and try again."
        ),
    )
    return cast(F, limit(view))


@blp.route("/sessions/<session_id>", methods=["GET"])
@session_status_rate_limit
@blp.response(200, CheckoutSessionStatusSchema)
@blp.alt_response(404, schema=NotFoundSchema, description="Unknown, or not one of ours")
@blp.alt_response(429, schema="Error", description="Too many look-ups from this client")
@blp.alt_response(502, schema="Error", description="Stripe could not be reached")
@blp.alt_response(503, schema="Error", description="Stripe has been failing or is busy here")
def checkout_session_status(session_id: str) -> ResponseReturnValue:
    """Confirm a returning donor's Checkout Session with Stripe (never from the URL alone).

    Stripe's answer is kept for a few seconds per session, and look-ups are rate-limited
    per client, so reloads and pollers do not turn into live calls to Stripe.
    """
    try:
        info = fetch_our_session(session_id)
    except stripe_gateway.StripeUnavailable:
        unavailable()
    except stripe_gateway.GatewayError:
        abort(502, STRIPE_DOWN_MESSAGE)
    if info is None:
        abort(404, gettext("We have no record of that checkout session."))
    # Paid or not and the thank-you message only: no link, and never kept by a cache.
    return describe_session(_settings(), info), 200, {"Cache-Control": "no-store"}
