"""The calls the service makes to Stripe: Checkout and portal sessions, and reading the
current state of Stripe's objects (for webhooks, the ledger and reconcile)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import stripe
from stripe.params.checkout import SessionCreateParams

from service.core.settings import Settings
from service.stripe_gateway.client import (
    PINNED_API_VERSION,
    RECURRING_INTERVALS,
    CheckoutSessionInfo,
    CreatedCheckoutSession,
    GatewayError,
    _for_reader,
    _gateway_error,
    _reader_client,
    stripe_client,
)


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
    locale: str | None = None,
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
    if locale:
        # Stripe's page in the reader's language (one of ours: en, de, fr).
        params["locale"] = cast(Any, locale)
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


def fetch_invoice(settings: Settings, invoice_id: str) -> dict[str, Any]:
    """An invoice as Stripe has it now, at the pinned API version."""
    client = stripe_client(settings)
    return _fetch("fetching an invoice", client.v1.invoices.retrieve, invoice_id, ())


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


# -- payouts and what they paid out (the ledger's payouts) ---------------------------------


def fetch_payout(settings: Settings, payout_id: str) -> dict[str, Any]:
    """A payout as Stripe has it now: status, amount, arrival date, failure."""
    client = stripe_client(settings)
    return _fetch("fetching a payout", client.v1.payouts.retrieve, payout_id, ())


def list_payout_transactions(settings: Settings, payout_id: str) -> list[dict[str, Any]]:
    """Every balance transaction a payout paid out (its own `payout` one included), each
    with its source expanded: the charge, refund, dispute or payout it moved money for."""
    client = stripe_client(settings)
    try:
        page = client.v1.balance_transactions.list(
            {"payout": payout_id, "limit": 100, "expand": ["data.source"]}
        )
        return [_plain(transaction) for transaction in page.auto_paging_iter()]
    except stripe.StripeError as error:
        raise _gateway_error(error, "listing a payout's balance transactions") from error


# -- the webhook endpoint (operators' `stripe-webhook register`) ---------------------------


@dataclass(frozen=True)
class WebhookEndpointInfo:
    """A webhook endpoint at Stripe. `secret` only in the answer that created it."""

    id: str
    url: str
    api_version: str | None
    enabled_events: tuple[str, ...]
    status: str
    secret: str | None = None


def _endpoint_info(endpoint: Any) -> WebhookEndpointInfo:
    return WebhookEndpointInfo(
        id=endpoint.id,
        url=endpoint.url,
        api_version=endpoint.api_version,
        enabled_events=tuple(endpoint.enabled_events),
        status=endpoint.status,
        secret=getattr(endpoint, "secret", None),
    )


def list_webhook_endpoints(settings: Settings) -> list[WebhookEndpointInfo]:
    """Every webhook endpoint of the account (in this mode), newest first."""
    client = stripe_client(settings)
    try:
        page = client.v1.webhook_endpoints.list({"limit": 100})
        return [_endpoint_info(endpoint) for endpoint in page.auto_paging_iter()]
    except stripe.StripeError as error:
        raise _gateway_error(error, "listing webhook endpoints") from error


def create_webhook_endpoint(
    settings: Settings, *, url: str, enabled_events: Sequence[str], description: str
) -> WebhookEndpointInfo:
    """Create an endpoint rendering events at the pinned API version; the answer carries
    its signing secret, which Stripe never shows again."""
    client = stripe_client(settings)
    params: dict[str, Any] = {
        "url": url,
        "enabled_events": list(enabled_events),
        "api_version": PINNED_API_VERSION,
        "description": description,
    }
    try:
        return _endpoint_info(client.v1.webhook_endpoints.create(params))  # type: ignore[arg-type]
    except stripe.StripeError as error:
        raise _gateway_error(error, "creating the webhook endpoint") from error


def update_webhook_endpoint(
    settings: Settings, endpoint_id: str, *, enabled_events: Sequence[str], description: str
) -> WebhookEndpointInfo:
    """Set an endpoint's events (and enable it again if it was disabled). Stripe cannot
    change an endpoint's API version, nor show its secret again."""
    client = stripe_client(settings)
    params: dict[str, Any] = {
        "enabled_events": list(enabled_events),
        "description": description,
        "disabled": False,
    }
    try:
        updated = client.v1.webhook_endpoints.update(endpoint_id, params)  # type: ignore[arg-type]
    except stripe.StripeError as error:
        raise _gateway_error(error, "updating the webhook endpoint") from error
    return _endpoint_info(updated)


def delete_webhook_endpoint(settings: Settings, endpoint_id: str) -> None:
    """Delete an endpoint (one at another API version is replaced, never changed)."""
    client = stripe_client(settings)
    try:
        client.v1.webhook_endpoints.delete(endpoint_id)
    except stripe.StripeError as error:
        raise _gateway_error(error, "deleting the webhook endpoint") from error
