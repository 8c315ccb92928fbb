"""The gateway's client: its errors and values, the pinned client, webhook signatures,
and the guard (slots and circuit breaker) on the calls readers wait on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, TypeVar

import stripe
from flask import current_app, has_app_context

from service.core.breaker import CircuitBreaker
from service.core.settings import Settings

log = logging.getLogger(__name__)

PINNED_API_VERSION = "2026-10-28.endive"
OUR_METADATA_KEY = "app"
OUR_METADATA_VALUE = "reader-contributions"
MAX_NETWORK_RETRIES = 2
# The recurring frequencies a reader can choose, and the Stripe price interval of each.
RECURRING_INTERVALS: dict[str, Literal["month", "year"]] = {"monthly": "month", "annual": "year"}
# (connect, read) seconds for background work (webhooks, reconcile, sweeps).
CONNECT_TIMEOUT_SECONDS = 5.0
# A reader's request tries once more after a failure (the stripe package pauses 0.5 s
# before its first retry), and each try's connect and read fit its share of the budget.
READER_RETRIES = 1
READER_RETRY_PAUSE_SECONDS = 0.5
READER_CONNECT_TIMEOUT_SECONDS = 1.5

T = TypeVar("T")


class GatewayError(Exception):
    """Stripe could not do what we asked; `retryable` says whether trying again may help."""

    def __init__(
        self,
        message: str,
        retryable: bool,
        *,
        http_status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.http_status = http_status
        self.code = code

    @property
    def not_found(self) -> bool:
        """Stripe has no such object (a 404, or a 400 naming a missing one in a parameter)."""
        return self.http_status == 404 or self.code == "resource_missing"


class StripeUnavailable(GatewayError):
    """We did not call Stripe: it has been failing (the breaker is open) or is busy here."""

    def __init__(self, message: str) -> None:
        super().__init__(message, True)


class InvalidWebhookSignature(Exception):
    """A webhook body is not signed, fresh, by any of our secrets; the message says why."""


@dataclass(frozen=True)
class CreatedCheckoutSession:
    """A Checkout Session we just created: where to send the reader."""

    id: str
    url: str


@dataclass(frozen=True)
class CheckoutSessionInfo:
    """What the service needs to know about a Checkout Session, read live from Stripe."""

    id: str
    status: str
    payment_status: str
    mode: str
    amount_total: int
    currency: str
    customer_id: str | None
    subscription_id: str | None
    payment_intent_id: str | None
    customer_email: str | None
    metadata: dict[str, str]
    # When Stripe expires the session if nobody pays (Unix time; None if not given).
    expires_at: int | None = None

    @property
    def paid(self) -> bool:
        """True once the reader has paid (or nothing was due), as Stripe says."""
        return self.status == "complete" and self.payment_status in {
            "paid",
            "no_payment_required",
        }


def our_metadata(**attribution: str | None) -> dict[str, str]:
    """Our marker plus the given attribution, leaving out empty values."""
    metadata = {OUR_METADATA_KEY: OUR_METADATA_VALUE}
    metadata.update({key: value for key, value in attribution.items() if value})
    return metadata


def is_ours(metadata: Any) -> bool:
    """True when a Stripe object's metadata carries our marker."""
    try:
        return bool(metadata) and metadata.get(OUR_METADATA_KEY) == OUR_METADATA_VALUE
    except AttributeError:
        return False


def verify_webhook_signature(
    payload: bytes, header: str | None, secrets: Sequence[str], *, tolerance: int
) -> None:
    """Check a Stripe-Signature header with Stripe's own verifier, against every secret.

    Several secrets may be configured so an endpoint's secret can be rotated without
    downtime: the delivery is genuine when any one of them verifies it.
    """
    if not secrets:
        raise InvalidWebhookSignature("no webhook secret is configured")
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        # Stripe's verifier decodes the body first; a non-UTF-8 body is no event of Stripe's.
        raise InvalidWebhookSignature("body is not UTF-8") from None
    reason = ""
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
        except stripe.SignatureVerificationError as error:
            reason = str(error.user_message or error)
            continue
        break
    else:
        raise InvalidWebhookSignature(reason)
    # Stripe's verifier refuses only stale timestamps; one from the future is as suspect.
    if _signed_at(header or "") > time.time() + tolerance:
        raise InvalidWebhookSignature("signature timestamp is in the future")


def _signed_at(header: str) -> int:
    # The verifier has already read the first t= of this header as an integer.
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key == "t":
            return int(value)
    return 0


def _no_console_output() -> None:
    """Keep the stripe package from printing requests and answers to stderr.

    With stripe.log or STRIPE_LOG set it prints each request and response (readers'
    emails and names) straight to stderr, past logging and its masking; the same lines
    still reach its "stripe" logger, where they are masked.
    """
    stripe.log = None
    stripe._util.STRIPE_LOG = None


def stripe_client(settings: Settings) -> stripe.StripeClient:
    """The StripeClient for background work (one per key, base and timeout per process)."""
    _no_console_output()
    return _client(
        settings.stripe_secret_key,
        settings.stripe_api_base,
        (CONNECT_TIMEOUT_SECONDS, float(settings.stripe_timeout_seconds)),
        MAX_NETWORK_RETRIES,
    )


def reader_timeouts(settings: Settings) -> tuple[float, float]:
    """(connect, read) seconds per try of a reader's call, so all tries fit the budget."""
    tries = 1 + READER_RETRIES
    per_try = (settings.stripe_reader_budget_seconds - READER_RETRY_PAUSE_SECONDS) / tries
    connect = min(READER_CONNECT_TIMEOUT_SECONDS, per_try / 2)
    return connect, min(float(settings.stripe_timeout_seconds), per_try - connect)


def _reader_client(settings: Settings) -> stripe.StripeClient:
    """The StripeClient for calls a reader waits on: short timeouts, one retry."""
    _no_console_output()
    return _client(
        settings.stripe_secret_key,
        settings.stripe_api_base,
        reader_timeouts(settings),
        READER_RETRIES,
    )


@lru_cache(maxsize=8)
def _client(
    secret_key: str, api_base: str, timeout: tuple[float, float], retries: int
) -> stripe.StripeClient:
    if not secret_key:
        raise GatewayError("Stripe is not configured (STRIPE_SECRET_KEY is empty)", False)
    return stripe.StripeClient(
        secret_key,
        stripe_version=PINNED_API_VERSION,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


# -- guarding the calls readers wait on -----------------------------------------------------

BUSY_MESSAGE = "every slot for calls to Stripe is taken in this process"
BREAKER_OPEN_MESSAGE = "Stripe has been failing; not calling it during the cool-down"


class _ReaderGuard:
    """This process's bulkhead (slots) and the Stripe breaker, for calls readers wait on."""

    def __init__(self, settings: Settings) -> None:
        self.slots = threading.BoundedSemaphore(settings.stripe_reader_slots)
        self.breaker = CircuitBreaker(
            "stripe-reader",
            threshold=settings.stripe_breaker_failures,
            cooldown=settings.stripe_breaker_cooldown_seconds,
            redis_url=settings.redis_url,
        )


_guards_outside_apps: dict[tuple[Any, ...], _ReaderGuard] = {}
_guards_lock = threading.Lock()
_holding_slot: ContextVar[bool] = ContextVar("stripe_reader_slot", default=False)


def _guard(settings: Settings) -> _ReaderGuard:
    """The app's guard (each app its own), or one per configuration outside an app."""
    with _guards_lock:
        if has_app_context():
            guard: _ReaderGuard | None = current_app.extensions.get("stripe_reader_guard")
            if guard is None:
                guard = current_app.extensions["stripe_reader_guard"] = _ReaderGuard(settings)
            return guard
        key = (
            settings.stripe_api_base,
            settings.redis_url,
            settings.stripe_reader_slots,
            settings.stripe_breaker_failures,
            settings.stripe_breaker_cooldown_seconds,
        )
        return _guards_outside_apps.setdefault(key, _ReaderGuard(settings))


@contextmanager
def reader_call(settings: Settings) -> Iterator[None]:
    """Hold one of this process's slots for Stripe calls a reader waits on, or refuse.

    Raises StripeUnavailable at once when every slot is taken (the request threads left
    keep serving everything else) or when the breaker is open. Nested blocks share the
    outer block's slot.
    """
    if _holding_slot.get():
        yield
        return
    guard = _guard(settings)
    if not guard.slots.acquire(blocking=False):
        raise StripeUnavailable(BUSY_MESSAGE)
    token = _holding_slot.set(True)
    try:
        if not guard.breaker.allow():
            raise StripeUnavailable(BREAKER_OPEN_MESSAGE)
        yield
    finally:
        _holding_slot.reset(token)
        guard.slots.release()


def _for_reader(settings: Settings, doing: str, call: Callable[[], T]) -> T:
    """Make a call a reader waits on: in a slot, past the breaker, telling it the outcome."""
    breaker = _guard(settings).breaker
    with reader_call(settings):
        try:
            result = call()
        except stripe.StripeError as error:
            gateway_error = _gateway_error(error, doing)
            if gateway_error.retryable:
                breaker.record_failure()
            else:
                # Stripe answered (a 4xx): it is up, whatever it thought of the request.
                breaker.record_success()
            raise gateway_error from error
        breaker.record_success()
        return result


def _gateway_error(error: stripe.StripeError, doing: str) -> GatewayError:
    """Turn any stripe error into a GatewayError, logging what helps and no secrets."""
    status = error.http_status
    retryable = isinstance(error, stripe.APIConnectionError | stripe.RateLimitError) or (
        status is not None and status >= 500
    )
    log.warning(
        "stripe error while %s: %s (http %s, code %s, request %s)",
        doing,
        type(error).__name__,
        status,
        error.code,
        error.request_id,
    )
    if isinstance(error, stripe.APIConnectionError):
        message = "Could not reach Stripe"
    elif status == 404 or error.code == "resource_missing":
        message = "Stripe has no such object"
    else:
        message = f"Stripe refused while {doing}"
    return GatewayError(message, retryable, http_status=status, code=error.code)
