"""Stripe's events, one handler per type, applied to the ledger.

Handlers are idempotent and order-independent. Each works from the event's snapshot
where that is authoritative, and fetches the object's current state from Stripe (through
the gateway) when the snapshot cannot settle it: a subscription snapshot no newer than
what we already hold, an invoice's payment, a customer we have never seen. Objects
without our metadata marker are acknowledged and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from service import stripe_gateway
from service.core.i18n import normalise_language
from service.core.settings import Settings
from service.ledger import stripe_reads
from service.ledger.changes import Change, announce_recurring
from service.ledger.customers import handle_customer_deleted, handle_customer_updated
from service.ledger.models import (
    AttemptStatus,
    Donation,
    Frequency,
    MonthlyDonation,
    MonthlyStatus,
)
from service.ledger.notices import Notice, notify
from service.ledger.payouts import PAYOUT_EVENTS, handle_payout
from service.ledger.recording import (
    PaymentFacts,
    find_donation,
    link_supporter,
    mark_attempt,
    record_donation,
    record_fees,
    refresh,
)
from service.ledger.recurring import ensure_monthly, sync_monthly_donation
from service.ledger.refunds import apply_dispute, apply_refund, restate_refund
from service.ledger.stripe_json import (
    Obj,
    attribution,
    charge_facts,
    email,
    event_time,
    invoice_subscription,
    metadata_of,
    object_id,
    refund_facts,
    timestamp,
)

Handler = Callable[[Session, Settings, Obj], bool]


def _record_one_off_from_session(
    session: Session, settings: Settings, checkout_session: Obj, event: Obj
) -> None:
    # A paid session is final, so its snapshot is enough; the charge's id and any refund
    # or dispute arrive with charge events, which find the payment by its intent.
    pi_id = object_id(checkout_session.get("payment_intent"))
    amount = int(checkout_session.get("amount_total") or 0)
    if amount <= 0 or not pi_id:
        return
    details = checkout_session.get("customer_details") or {}
    record_donation(
        session,
        settings,
        PaymentFacts(
            frequency=Frequency.ONE_OFF,
            amount_minor=amount,
            currency=str(checkout_session.get("currency") or "").lower(),
            paid_at=event_time(event),
            stripe_payment_intent_id=pi_id,
            stripe_checkout_session_id=str(checkout_session["id"]),
            stripe_customer_id=object_id(checkout_session.get("customer")),
            email=email(details.get("email") or checkout_session.get("customer_email")),
            **attribution(metadata_of(checkout_session)),
        ),
    )


def handle_checkout_completed(session: Session, settings: Settings, event: Obj) -> bool:
    """A reader finished Checkout: record a paid one-off, or start following a monthly gift."""
    checkout_session: Obj = event["data"]["object"]
    if not stripe_gateway.is_ours(checkout_session.get("metadata")):
        return False
    paid = checkout_session.get("payment_status") == "paid"
    mark_attempt(session, checkout_session, AttemptStatus.COMPLETED)
    details = checkout_session.get("customer_details") or {}
    customer_id = object_id(checkout_session.get("customer"))
    address = details.get("email") or checkout_session.get("customer_email")
    if customer_id or address:
        supporter = link_supporter(session, settings, customer_id, address)
        # The language the reader gave in: our receipts and notices are written in it.
        language = normalise_language(metadata_of(checkout_session).get("language"))
        if supporter is not None and language:
            supporter.language = language
    if checkout_session.get("mode") == "subscription":
        subscription_id = object_id(checkout_session.get("subscription"))
        if subscription_id:
            ensure_monthly(session, settings, subscription_id, event_time(event))
    elif paid:
        _record_one_off_from_session(session, settings, checkout_session, event)
    # An unpaid payment-mode session waits for checkout.session.async_payment_succeeded.
    return True


def handle_async_payment_succeeded(session: Session, settings: Settings, event: Obj) -> bool:
    """A delayed payment method (a bank debit) went through."""
    return handle_checkout_completed(session, settings, event)


def handle_async_payment_failed(session: Session, settings: Settings, event: Obj) -> bool:
    """A delayed payment failed: no donation, and the attempt is marked failed."""
    checkout_session: Obj = event["data"]["object"]
    if not stripe_gateway.is_ours(checkout_session.get("metadata")):
        return False
    mark_attempt(session, checkout_session, AttemptStatus.FAILED)
    return True


def renewal_frequency(monthly: MonthlyDonation | None, metadata: dict[str, str]) -> Frequency:
    """Whether a paid invoice renews a monthly or an annual gift."""
    if monthly is not None:
        return monthly.frequency
    # Only when the subscription is not ours to follow: trust the metadata we wrote.
    return Frequency.ANNUAL if metadata.get("frequency") == "annual" else Frequency.MONTHLY


def handle_invoice_paid(session: Session, settings: Settings, event: Obj) -> bool:
    """One period of a monthly or annual gift was paid: record it as a donation."""
    invoice: Obj = event["data"]["object"]
    subscription_id, metadata = invoice_subscription(invoice)
    if not subscription_id or not stripe_gateway.is_ours(metadata):
        return False
    amount = int(invoice.get("amount_paid") or 0)
    monthly = ensure_monthly(session, settings, subscription_id, event_time(event))
    if amount <= 0:
        return True
    # Webhooks carry no payment details: ask Stripe which charge paid this invoice (and
    # whether it was refunded or disputed before we heard of the payment).
    pi_id = None
    charge: Obj = {}
    for payment in stripe_reads.list_invoice_payments(settings, str(invoice["id"])):
        if payment.get("status") == "paid":
            intent = (payment.get("payment") or {}).get("payment_intent")
            pi_id = object_id(intent)
            latest = intent.get("latest_charge") if isinstance(intent, dict) else None
            charge = latest if isinstance(latest, dict) else {}
            break
    refunded, refunded_at, disputed = _charge_facts(settings, charge)
    times = (
        timestamp((invoice.get("status_transitions") or {}).get("paid_at")),
        timestamp(charge.get("created")),
    )
    paid_at = min((when for when in times if when is not None), default=None)
    record_donation(
        session,
        settings,
        PaymentFacts(
            frequency=renewal_frequency(monthly, metadata),
            amount_minor=amount,
            currency=str(invoice.get("currency") or "").lower(),
            paid_at=paid_at or event_time(event),
            stripe_payment_intent_id=pi_id,
            stripe_charge_id=object_id(charge.get("id")) if charge else None,
            stripe_invoice_id=str(invoice["id"]),
            stripe_customer_id=object_id(invoice.get("customer")),
            email=email(invoice.get("customer_email")),
            monthly_donation_id=monthly.id if monthly else None,
            amount_refunded_minor=refunded,
            refunded_at=refunded_at,
            disputed=disputed,
            balance_transaction=charge.get("balance_transaction"),
            **attribution(metadata),
        ),
    )
    return True


def handle_invoice_payment_failed(session: Session, settings: Settings, event: Obj) -> bool:
    """A renewal failed: Stripe makes the gift past_due; read its state from Stripe."""
    invoice: Obj = event["data"]["object"]
    subscription_id, metadata = invoice_subscription(invoice)
    if not subscription_id or not stripe_gateway.is_ours(metadata):
        return False
    subscription = stripe_reads.fetch_subscription(settings, subscription_id)
    monthly = sync_monthly_donation(
        session, settings, subscription, event_time(event), fetched=True
    )
    if monthly is not None and monthly.status is not MonthlyStatus.CANCELED:
        notify(
            session,
            Notice.RENEWAL_FAILED,
            str(event["id"]),
            monthly_id=monthly.id,
            invoice_url=_invoice_url(invoice),
        )
        key = f"recurring_gift.failed:{event['id']}"
        announce_recurring(session, Change.RECURRING_FAILED, monthly, key, event_time(event))
    return True


def handle_invoice_action_required(session: Session, settings: Settings, event: Obj) -> bool:
    """A renewal needs the reader to confirm the payment with their bank."""
    invoice: Obj = event["data"]["object"]
    subscription_id, metadata = invoice_subscription(invoice)
    if not subscription_id or not stripe_gateway.is_ours(metadata):
        return False
    monthly = ensure_monthly(session, settings, subscription_id, event_time(event))
    if monthly is None:
        return False
    notify(
        session,
        Notice.ACTION_REQUIRED,
        str(event["id"]),
        monthly_id=monthly.id,
        invoice_url=_invoice_url(invoice),
    )
    return True


def _invoice_url(invoice: Obj) -> str | None:
    """Stripe's hosted page where the reader pays or authenticates this invoice."""
    url = invoice.get("hosted_invoice_url")
    return str(url) if isinstance(url, str) and url.startswith("https://") else None


def handle_subscription_changed(session: Session, settings: Settings, event: Obj) -> bool:
    """A monthly gift was created, changed (status, amount, cancel at period end) or ended."""
    subscription: Obj = event["data"]["object"]
    return sync_monthly_donation(session, settings, subscription, event_time(event)) is not None


def _charge_facts(settings: Settings, charge: Obj) -> tuple[int, datetime | None, bool]:
    """``charge_facts`` with the charge's refunds listed from Stripe when it has any: a
    charge (in an event or fetched) carries them only when expanded."""
    refunds = None
    if int(charge.get("amount_refunded") or 0) > 0 and not charge.get("refunds"):
        charge_id = object_id(charge.get("id"))
        if charge_id:
            refunds = stripe_reads.list_refunds(settings, charge_id)
    return charge_facts(charge, refunds)


def _donation_for_charge(
    session: Session, settings: Settings, charge: Obj, event: Obj
) -> Donation | None:
    """Our donation for a charge; a one-off's charge carries our metadata, so a refund or
    dispute heard of before the payment itself still records the payment."""
    found = find_donation(
        session,
        charge_id=object_id(charge.get("id")),
        payment_intent_id=object_id(charge.get("payment_intent")),
    )
    if found is not None:
        if not found.stripe_charge_id and charge.get("id"):
            found.stripe_charge_id = str(charge["id"])
        charged_at = timestamp(charge.get("created"))
        if charged_at is not None and charged_at < found.paid_at:
            found.paid_at = charged_at
        record_fees(settings, found, charge.get("balance_transaction"))
        return found
    metadata = metadata_of(charge)
    if not stripe_gateway.is_ours(metadata) or not charge.get("paid"):
        # A monthly gift's charge has no metadata: its invoice.paid, whenever it comes,
        # reads the charge's refund and dispute state from Stripe.
        return None
    billing = charge.get("billing_details") or {}
    refunded, refunded_at, disputed = _charge_facts(settings, charge)
    return record_donation(
        session,
        settings,
        PaymentFacts(
            frequency=Frequency.ONE_OFF,
            amount_minor=int(charge.get("amount") or 0),
            currency=str(charge.get("currency") or "").lower(),
            paid_at=timestamp(charge.get("created")) or event_time(event),
            stripe_payment_intent_id=object_id(charge.get("payment_intent")),
            stripe_charge_id=object_id(charge.get("id")),
            stripe_customer_id=object_id(charge.get("customer")),
            email=email(billing.get("email") or charge.get("receipt_email")),
            amount_refunded_minor=refunded,
            refunded_at=refunded_at,
            disputed=disputed,
            balance_transaction=charge.get("balance_transaction"),
            **attribution(metadata),
        ),
    )


def handle_charge_refunded(session: Session, settings: Settings, event: Obj) -> bool:
    """A payment was refunded in part or in full."""
    charge: Obj = event["data"]["object"]
    donation = _donation_for_charge(session, settings, charge, event)
    if donation is None:
        return False
    # The snapshot may predate a refund that failed since (its events may come first or
    # last), so Stripe's current refunds decide, not the snapshot's `amount_refunded`.
    charge_id = object_id(charge.get("id"))
    refunds = stripe_reads.list_refunds(settings, charge_id) if charge_id else []
    if refunds:
        refunded, refunded_at = refund_facts(refunds)
        restate_refund(session, donation, refunded, refunded_at)
    else:
        refunded, refunded_at, _disputed = charge_facts(charge)
        apply_refund(session, donation, refunded, refunded_at or event_time(event))
    session.flush()
    refresh(session, settings, donation.supporter_id)
    return True


def handle_refund_changed(session: Session, settings: Settings, event: Obj) -> bool:
    """A refund changed or failed (``charge.refund.updated``, ``refund.failed``): a failed
    refund's money is back with us, so the gift counts again. Stripe's current charge and
    refunds settle it, whatever order the refund's events arrive in."""
    refund: Obj = event["data"]["object"]
    charge_id = object_id(refund.get("charge"))
    donation = find_donation(
        session, charge_id=charge_id, payment_intent_id=object_id(refund.get("payment_intent"))
    )
    if donation is None or not charge_id:
        return False
    charge = stripe_reads.fetch_charge(settings, charge_id)
    refunds = stripe_reads.list_refunds(settings, charge_id)
    refunded, refunded_at, _disputed = charge_facts(charge, refunds)
    restate_refund(session, donation, refunded, refunded_at)
    session.flush()
    refresh(session, settings, donation.supporter_id)
    return True


def handle_checkout_expired(session: Session, settings: Settings, event: Obj) -> bool:
    """A reader left checkout unpaid until it expired: the attempt is marked expired."""
    checkout_session: Obj = event["data"]["object"]
    if not stripe_gateway.is_ours(checkout_session.get("metadata")):
        return False
    mark_attempt(session, checkout_session, AttemptStatus.EXPIRED)
    return True


def handle_dispute(session: Session, settings: Settings, event: Obj) -> bool:
    """A chargeback opened or closed on one of our payments."""
    dispute: Obj = event["data"]["object"]
    if str(dispute.get("status") or "").startswith("warning_"):
        # An inquiry (warning_needs_response, ..._under_review, ..._closed) withdraws no
        # funds; only a chargeback it may turn into does, and that has its own events.
        return False
    donation = find_donation(
        session,
        charge_id=object_id(dispute.get("charge")),
        payment_intent_id=object_id(dispute.get("payment_intent")),
    )
    if donation is None:
        charge_id = object_id(dispute.get("charge"))
        if not charge_id:
            return False
        charge = stripe_reads.fetch_charge(settings, charge_id)
        donation = _donation_for_charge(session, settings, charge, event)
        if donation is None:
            return False
    if not donation.stripe_charge_id and dispute.get("charge"):
        donation.stripe_charge_id = object_id(dispute.get("charge"))
    opened_at = timestamp(dispute.get("created")) or event_time(event)
    apply_dispute(donation, str(dispute.get("status") or ""), opened_at)
    session.flush()
    refresh(session, settings, donation.supporter_id)
    return True


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": handle_checkout_completed,
    "checkout.session.async_payment_succeeded": handle_async_payment_succeeded,
    "checkout.session.async_payment_failed": handle_async_payment_failed,
    "invoice.paid": handle_invoice_paid,
    "invoice.payment_failed": handle_invoice_payment_failed,
    "invoice.payment_action_required": handle_invoice_action_required,
    "customer.subscription.created": handle_subscription_changed,
    "customer.subscription.updated": handle_subscription_changed,
    "customer.subscription.deleted": handle_subscription_changed,
    "charge.refunded": handle_charge_refunded,
    "charge.refund.updated": handle_refund_changed,
    "refund.failed": handle_refund_changed,
    "checkout.session.expired": handle_checkout_expired,
    "customer.updated": handle_customer_updated,
    "customer.deleted": handle_customer_deleted,
    "charge.dispute.created": handle_dispute,
    "charge.dispute.closed": handle_dispute,
    **dict.fromkeys(PAYOUT_EVENTS, handle_payout),
}


def apply_event(session: Session, settings: Settings, event: Obj) -> bool:
    """Apply one Stripe event to the ledger; False when it is not about anything of ours."""
    handler = HANDLERS.get(str(event.get("type")))
    if handler is None:
        return False
    return handler(session, settings, event)
