"""The one door to Stripe: every call the service makes goes through these functions.

Callers get plain values back (dataclasses, dicts, strings) and one exception type,
`GatewayError`, so nothing outside this module depends on the `stripe` package.
"""

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
from stripe.params.checkout import SessionCreateParams

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


def create_checkout_session(
    settings: Settings,
    *,
    attempt_id: str,
    frequency: str,
    amount_minor: int,
    currency: str,
    product_name: str,
    success_url: str,
    cancel_url: str,
    metadata: dict[str, str],
    customer_email: str | None = None,
) -> CreatedCheckoutSession:
    """Create a Checkout Session for one donation attempt (idempotent per attempt)."""
    params: SessionCreateParams = {
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": attempt_id,
        "metadata": metadata,
    }
    if customer_email:
        params["customer_email"] = customer_email
    interval = RECURRING_INTERVALS.get(frequency)
    if interval is not None:
        params["mode"] = "subscription"
        params["line_items"] = [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency,
                    "unit_amount": amount_minor,
                    "recurring": {"interval": interval},
                    "product_data": {"name": product_name},
                },
            }
        ]
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["mode"] = "payment"
        params["submit_type"] = "donate"
        # Every donation gets a Stripe customer, so supporters are counted by customer.
        params["customer_creation"] = "always"
        params["line_items"] = [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency,
                    "unit_amount": amount_minor,
                    "product_data": {"name": product_name},
                },
            }
        ]
        params["payment_intent_data"] = {"metadata": metadata}
    session = _for_reader(
        settings,
        "creating a checkout session",
        lambda: _reader_client(settings).v1.checkout.sessions.create(
            params, {"idempotency_key": f"checkout-attempt-{attempt_id}"}
        ),
    )
    if not session.url:
        raise GatewayError("Stripe returned a checkout session without a URL", False)
    return CreatedCheckoutSession(id=session.id, url=session.url)


def _id_of(value: Any) -> str | None:
    """The id of an expandable field, whether Stripe sent the id or the object."""
    if value is None or isinstance(value, str):
        return value
    return str(value.id)


def _plain_metadata(metadata: Any) -> dict[str, str]:
    if not metadata:
        return {}
    return {str(key): str(value) for key, value in metadata.to_dict().items()}


def retrieve_checkout_session(settings: Settings, session_id: str) -> CheckoutSessionInfo:
    """Fetch a Checkout Session's current state from Stripe, for a reader waiting on it."""
    session = _for_reader(
        settings,
        "fetching a checkout session",
        lambda: _reader_client(settings).v1.checkout.sessions.retrieve(session_id),
    )
    return _session_info(session)


def fetch_checkout_session(settings: Settings, session_id: str) -> CheckoutSessionInfo:
    """Fetch a Checkout Session's current state from Stripe, for background work."""
    try:
        session = stripe_client(settings).v1.checkout.sessions.retrieve(session_id)
    except stripe.StripeError as error:
        raise _gateway_error(error, "fetching a checkout session") from error
    return _session_info(session)


def _session_info(session: Any) -> CheckoutSessionInfo:
    details = session.customer_details
    return CheckoutSessionInfo(
        id=session.id,
        status=session.status or "open",
        payment_status=session.payment_status,
        mode=session.mode,
        amount_total=session.amount_total or 0,
        currency=(session.currency or "").lower(),
        customer_id=_id_of(session.customer),
        subscription_id=_id_of(session.subscription),
        payment_intent_id=_id_of(session.payment_intent),
        customer_email=session.customer_email or (details.email if details else None),
        metadata=_plain_metadata(session.metadata),
        expires_at=getattr(session, "expires_at", None),
    )


def create_portal_session(
    settings: Settings, *, customer_id: str, return_url: str, request_id: str
) -> str:
    """Open a Customer Portal session for a customer and return its URL."""
    portal = _for_reader(
        settings,
        "opening the customer portal",
        lambda: _reader_client(settings).v1.billing_portal.sessions.create(
            {"customer": customer_id, "return_url": return_url},
            {"idempotency_key": f"portal-{request_id}"},
        ),
    )
    return portal.url


# -- reading Stripe's current state (webhooks, ledger, reconcile) --------------------------


def _plain(obj: Any) -> dict[str, Any]:
    # for_json keeps Stripe's *_decimal fields as the strings Stripe sent, not Decimals,
    # so the result can be stored as JSON (the webhook inbox keeps events as sent).
    plain: dict[str, Any] = obj.to_dict(recursive=True, for_json=True)
    return plain


def _fetch(doing: str, call: Any, object_id: str, expand: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {"expand": list(expand)} if expand else {}
    try:
        return _plain(call(object_id, params))
    except stripe.StripeError as error:
        raise _gateway_error(error, doing) from error


def fetch_subscription(
    settings: Settings, subscription_id: str, *, expand: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A subscription as Stripe has it now (canceled ones stay retrievable)."""
    client = stripe_client(settings)
    return _fetch(
        "fetching a subscription", client.v1.subscriptions.retrieve, subscription_id, expand
    )


def fetch_charge(
    settings: Settings, charge_id: str, *, expand: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A charge as Stripe has it now (refunded total, disputed flag, metadata)."""
    client = stripe_client(settings)
    return _fetch("fetching a charge", client.v1.charges.retrieve, charge_id, expand)


def fetch_customer(settings: Settings, customer_id: str) -> dict[str, Any]:
    """A customer as Stripe has it now (for the email that joins customers into people)."""
    client = stripe_client(settings)
    return _fetch("fetching a customer", client.v1.customers.retrieve, customer_id, ())


def list_events_since(settings: Settings, created_from: int) -> list[dict[str, Any]]:
    """Every event Stripe still holds created at or after a Unix time, oldest first."""
    client = stripe_client(settings)
    try:
        page = client.v1.events.list({"created": {"gte": created_from}, "limit": 100})
        events = [_plain(event) for event in page.auto_paging_iter()]
    except stripe.StripeError as error:
        raise _gateway_error(error, "listing events") from error
    # Stripe lists newest first; applying oldest first keeps the story in order.
    events.reverse()
    return events


def list_refunds(settings: Settings, charge_id: str) -> list[dict[str, Any]]:
    """A charge's refunds, newest first (a charge lists them only when expanded)."""
    client = stripe_client(settings)
    try:
        page = client.v1.refunds.list({"charge": charge_id, "limit": 100})
        return [_plain(refund) for refund in page.auto_paging_iter()]
    except stripe.StripeError as error:
        raise _gateway_error(error, "listing a charge's refunds") from error


def list_invoice_payments(settings: Settings, invoice_id: str) -> list[dict[str, Any]]:
    """How an invoice was paid: its payments, each with its payment intent and charge."""
    client = stripe_client(settings)
    try:
        page = client.v1.invoice_payments.list(
            {
                "invoice": invoice_id,
                "limit": 10,
                "expand": ["data.payment.payment_intent.latest_charge"],
            }
        )
    except stripe.StripeError as error:
        raise _gateway_error(error, "listing an invoice's payments") from error
    return [_plain(payment) for payment in page.data]


def fetch_payment_intent(
    settings: Settings, payment_intent_id: str, *, expand: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A payment intent as Stripe has it now (its latest charge, expandable)."""
    client = stripe_client(settings)
    return _fetch(
        "fetching a payment intent", client.v1.payment_intents.retrieve, payment_intent_id, expand
    )


def fetch_balance_transaction(settings: Settings, transaction_id: str) -> dict[str, Any]:
    """A balance transaction: the amount, Stripe's fee and the net Stripe reports for it."""
    client = stripe_client(settings)
    return _fetch(
        "fetching a balance transaction",
        client.v1.balance_transactions.retrieve,
        transaction_id,
        (),
    )
