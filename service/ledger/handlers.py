"""The ledger: Stripe events turned into donations, monthly gifts and supporters.

Handlers are idempotent and order-independent. Each works from the event's snapshot
where that is authoritative, and fetches the object's current state from Stripe (through
the gateway) when the snapshot cannot settle it: a subscription snapshot no newer than
what we already hold, an invoice's payment, a customer we have never seen. Objects
without our metadata marker are acknowledged and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service import stripe_gateway
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger.models import (
    AttemptStatus,
    CheckoutAttempt,
    Donation,
    DonationStatus,
    Frequency,
    MonthlyDonation,
    MonthlyStatus,
    StripeCustomer,
    Supporter,
)
from service.ledger.supporters import refresh_supporter

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Handler = Callable[[Session, Settings, Obj], bool]

# Dispute statuses after which the money's fate is settled.
DISPUTE_WON = frozenset({"won", "warning_closed"})
DISPUTE_LOST = "lost"


# -- small readers of Stripe's JSON --------------------------------------------------------


def _id(value: Any) -> str | None:
    """The id of an expandable field, whether Stripe sent the id or the object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        found = value.get("id")
        return str(found) if found else None
    return None


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _metadata(obj: Mapping[str, Any] | None) -> dict[str, str]:
    raw = (obj or {}).get("metadata") or {}
    return {str(key): str(value) for key, value in raw.items()}


def _attribution_of(metadata: Mapping[str, str]) -> dict[str, Any]:
    """Attribution keyword arguments for PaymentFacts."""
    return dict(_attribution(metadata))


def _attribution(metadata: Mapping[str, str]) -> dict[str, str | None]:
    return {
        "campaign": (metadata.get("campaign") or None),
        "variant": (metadata.get("variant") or None),
        "placement": (metadata.get("placement") or None),
    }


def _email(value: Any) -> str | None:
    if not value or not isinstance(value, str):
        return None
    return value.strip().lower() or None


def _event_time(event: Obj) -> datetime:
    return _time(event.get("created")) or utcnow()


# -- inserts that tolerate a concurrent twin -----------------------------------------------


def insert_ignoring_conflicts(session: Session, table: Table, values: Mapping[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when this call inserted the row.

    On PostgreSQL a concurrent insert of the same key makes this wait for the other
    transaction and then do nothing, so the caller can re-read the committed row.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(**values).on_conflict_do_nothing()
    result = session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


# -- supporters ----------------------------------------------------------------------------


def link_supporter(
    session: Session, settings: Settings, customer_id: str | None, email: str | None
) -> Supporter | None:
    """Find or create the supporter behind a Stripe customer, joining customers by email."""
    email = _email(email)
    if customer_id:
        linked = session.scalar(
            select(StripeCustomer).where(StripeCustomer.stripe_customer_id == customer_id)
        )
        if linked is not None:
            return linked.supporter
        if email is None:
            # A customer we have never seen and no email in the event: ask Stripe once.
            email = _email(stripe_gateway.fetch_customer(settings, customer_id).get("email"))
    supporter = _supporter_by_email(session, email)
    if customer_id:
        insert_ignoring_conflicts(
            session,
            StripeCustomer.__table__,  # type: ignore[arg-type]
            {
                "stripe_customer_id": customer_id,
                "supporter_id": supporter.id,
                "email": email,
                "created_at": utcnow(),
            },
        )
        linked = session.scalars(
            select(StripeCustomer)
            .where(StripeCustomer.stripe_customer_id == customer_id)
            .execution_options(populate_existing=True)
        ).one()
        return linked.supporter
    return supporter


def _supporter_by_email(session: Session, email: str | None) -> Supporter:
    if email is None:
        supporter = Supporter(email=None)
        session.add(supporter)
        session.flush()
        return supporter
    insert_ignoring_conflicts(
        session,
        Supporter.__table__,  # type: ignore[arg-type]
        {"email": email, "created_at": utcnow()},
    )
    return session.scalars(select(Supporter).where(Supporter.email == email)).one()


# -- monthly gifts -------------------------------------------------------------------------


def _subscription_amount(subscription: Obj) -> tuple[int, str, datetime | None]:
    items = ((subscription.get("items") or {}).get("data")) or []
    amount = 0
    period_end = None
    for item in items:
        price = item.get("price") or {}
        amount += int(price.get("unit_amount") or 0) * int(item.get("quantity") or 1)
        end = _time(item.get("current_period_end"))
        if end is not None and (period_end is None or end > period_end):
            period_end = end
    currency = str(subscription.get("currency") or "").lower()
    return amount, currency, period_end


def _monthly_for_update(session: Session, subscription_id: str) -> MonthlyDonation | None:
    return session.scalars(
        select(MonthlyDonation)
        .where(MonthlyDonation.stripe_subscription_id == subscription_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def sync_monthly_donation(
    session: Session,
    settings: Settings,
    subscription: Obj,
    state_at: datetime,
    *,
    fetched: bool = False,
) -> MonthlyDonation | None:
    """Bring our monthly gift in line with a subscription snapshot taken at `state_at`.

    A snapshot older than what we hold is stale and skipped; one from the same second is
    ambiguous (Stripe's times are whole seconds), so the current state is fetched.
    """
    if not stripe_gateway.is_ours(subscription.get("metadata")):
        return None
    subscription_id = str(subscription["id"])
    monthly = _monthly_for_update(session, subscription_id)
    if monthly is not None and monthly.stripe_state_at is not None and not fetched:
        if state_at < monthly.stripe_state_at:
            return monthly
        if state_at == monthly.stripe_state_at:
            current = stripe_gateway.fetch_subscription(settings, subscription_id)
            return sync_monthly_donation(session, settings, current, state_at, fetched=True)
    amount, currency, period_end = _subscription_amount(subscription)
    customer_id = _id(subscription.get("customer"))
    if monthly is None:
        inserted = insert_ignoring_conflicts(
            session,
            MonthlyDonation.__table__,  # type: ignore[arg-type]
            {
                "stripe_subscription_id": subscription_id,
                "status": MonthlyStatus(subscription["status"]).value,
                "amount_minor": amount,
                "currency": currency,
                "cancel_at_period_end": False,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            },
        )
        if not inserted:
            # A concurrent event created it first: compare snapshots like any other time.
            return sync_monthly_donation(session, settings, subscription, state_at, fetched=fetched)
        monthly = _monthly_for_update(session, subscription_id)
        assert monthly is not None
    status = MonthlyStatus(subscription["status"])
    # A canceled subscription never comes back; a stale "active" must not revive it.
    if monthly.status is MonthlyStatus.CANCELED and monthly.stripe_state_at is not None:
        status = MonthlyStatus.CANCELED
    monthly.status = status
    monthly.amount_minor = amount
    monthly.currency = currency
    monthly.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    monthly.current_period_end = period_end
    monthly.started_at = _time(subscription.get("start_date")) or monthly.started_at
    monthly.canceled_at = _time(subscription.get("canceled_at")) or monthly.canceled_at
    monthly.ended_at = _time(subscription.get("ended_at")) or monthly.ended_at
    monthly.stripe_customer_id = customer_id or monthly.stripe_customer_id
    for key, value in _attribution(_metadata(subscription)).items():
        if value and not getattr(monthly, key):
            setattr(monthly, key, value)
    if monthly.stripe_state_at is None or state_at > monthly.stripe_state_at:
        monthly.stripe_state_at = state_at
    if monthly.supporter_id is None:
        supporter = link_supporter(session, settings, customer_id, None)
        monthly.supporter_id = supporter.id if supporter else None
    session.flush()
    _refresh(session, settings, monthly.supporter_id)
    return monthly


def _ensure_monthly(
    session: Session, settings: Settings, subscription_id: str, state_at: datetime
) -> MonthlyDonation | None:
    monthly = _monthly_for_update(session, subscription_id)
    if monthly is not None:
        return monthly
    subscription = stripe_gateway.fetch_subscription(settings, subscription_id)
    return sync_monthly_donation(session, settings, subscription, state_at, fetched=True)


# -- donations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentFacts:
    """What one successful payment tells the ledger, gathered from Stripe's objects."""

    frequency: Frequency
    amount_minor: int
    currency: str
    paid_at: datetime
    stripe_payment_intent_id: str | None
    stripe_charge_id: str | None = None
    stripe_invoice_id: str | None = None
    stripe_checkout_session_id: str | None = None
    stripe_customer_id: str | None = None
    email: str | None = None
    campaign: str | None = None
    variant: str | None = None
    placement: str | None = None
    monthly_donation_id: int | None = None
    amount_refunded_minor: int = 0
    refunded_at: datetime | None = None
    disputed: bool = False


def _find_donation(
    session: Session,
    *,
    invoice_id: str | None = None,
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
) -> Donation | None:
    for column, value in (
        (Donation.stripe_invoice_id, invoice_id),
        (Donation.stripe_payment_intent_id, payment_intent_id),
        (Donation.stripe_charge_id, charge_id),
    ):
        if value:
            found = session.scalars(
                select(Donation)
                .where(column == value)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one_or_none()
            if found is not None:
                return found
    return None


def record_donation(session: Session, settings: Settings, facts: PaymentFacts) -> Donation:
    """Record one successful payment once, however often and in whatever order we hear of it."""
    keys = {
        "invoice_id": facts.stripe_invoice_id,
        "payment_intent_id": facts.stripe_payment_intent_id,
        "charge_id": facts.stripe_charge_id,
    }
    donation = _find_donation(session, **keys)
    if donation is None:
        now = utcnow()
        insert_ignoring_conflicts(
            session,
            Donation.__table__,  # type: ignore[arg-type]
            {
                "frequency": facts.frequency.value,
                "status": DonationStatus.SUCCEEDED.value,
                "amount_minor": facts.amount_minor,
                "amount_refunded_minor": 0,
                "currency": facts.currency,
                "paid_at": facts.paid_at,
                "stripe_invoice_id": facts.stripe_invoice_id,
                "stripe_payment_intent_id": facts.stripe_payment_intent_id,
                "stripe_charge_id": facts.stripe_charge_id,
                "created_at": now,
                "updated_at": now,
            },
        )
        donation = _find_donation(session, **keys)
        assert donation is not None
    # Fill in what we did not know yet; never overwrite a known id with nothing.
    for name in (
        "stripe_payment_intent_id",
        "stripe_charge_id",
        "stripe_invoice_id",
        "stripe_checkout_session_id",
        "stripe_customer_id",
        "email",
        "campaign",
        "variant",
        "placement",
        "monthly_donation_id",
    ):
        value = getattr(facts, name)
        if value and not getattr(donation, name):
            setattr(donation, name, value)
    # The earliest time any source gives is when the money moved (the charge precedes the
    # session's completion), so the result does not depend on which we heard of first.
    if facts.paid_at < donation.paid_at:
        donation.paid_at = facts.paid_at
    apply_refund(donation, facts.amount_refunded_minor, facts.refunded_at or facts.paid_at)
    if facts.disputed and donation.disputed_at is None:
        apply_dispute(donation, "needs_response", facts.paid_at)
    if donation.supporter_id is None:
        supporter = link_supporter(session, settings, donation.stripe_customer_id, donation.email)
        donation.supporter_id = supporter.id if supporter else None
    session.flush()
    _refresh(session, settings, donation.supporter_id)
    return donation


def _refund_status(donation: Donation) -> DonationStatus:
    if donation.amount_refunded_minor >= donation.amount_minor:
        return DonationStatus.REFUNDED
    if donation.amount_refunded_minor > 0:
        return DonationStatus.PARTIALLY_REFUNDED
    return DonationStatus.SUCCEEDED


def apply_refund(donation: Donation, amount_refunded: int, at: datetime) -> None:
    """Set the refunded total (refunds only grow, so the largest total seen wins)."""
    refunded = min(
        max(int(amount_refunded), donation.amount_refunded_minor or 0), donation.amount_minor
    )
    donation.amount_refunded_minor = refunded
    if refunded and donation.refunded_at is None:
        donation.refunded_at = at
    if donation.status not in (DonationStatus.DISPUTED, DonationStatus.DISPUTE_LOST):
        donation.status = _refund_status(donation)


def apply_dispute(donation: Donation, dispute_status: str, at: datetime) -> None:
    """Mark a dispute; a closed dispute's outcome is final whatever arrives after it."""
    if dispute_status == DISPUTE_LOST:
        donation.status = DonationStatus.DISPUTE_LOST
    elif dispute_status in DISPUTE_WON:
        if donation.status is not DonationStatus.DISPUTE_LOST:
            donation.status = _refund_status(donation)
    elif donation.disputed_at is None or donation.status is DonationStatus.DISPUTED:
        donation.status = DonationStatus.DISPUTED
    # An open dispute after a closed one (events out of order) changes nothing above.
    if donation.disputed_at is None:
        donation.disputed_at = at


def _refresh(session: Session, settings: Settings, supporter_id: int | None) -> None:
    if supporter_id is None:
        return
    supporter = session.get(Supporter, supporter_id, populate_existing=True)
    if supporter is not None:
        refresh_supporter(session, supporter, settings)


def _charge_facts(charge: Obj) -> tuple[int, datetime | None, bool]:
    refunds = ((charge.get("refunds") or {}).get("data")) or []
    times = [_time(refund.get("created")) for refund in refunds]
    refunded_at = max((when for when in times if when is not None), default=None)
    return int(charge.get("amount_refunded") or 0), refunded_at, bool(charge.get("disputed"))


# -- checkout attempts ---------------------------------------------------------------------


def _mark_attempt(session: Session, checkout_session: Obj, status: AttemptStatus) -> None:
    """Move our checkout attempt on, if we have it (the attempt id is in the metadata)."""
    public_id = _metadata(checkout_session).get("checkout_attempt")
    session_id = str(checkout_session.get("id") or "")
    condition = (
        CheckoutAttempt.public_id == public_id
        if public_id
        else CheckoutAttempt.stripe_checkout_session_id == session_id
    )
    attempt = session.scalars(select(CheckoutAttempt).where(condition)).one_or_none()
    if attempt is None:
        return
    if attempt.status is not AttemptStatus.COMPLETED or status is AttemptStatus.COMPLETED:
        attempt.status = status
    if not attempt.stripe_checkout_session_id and session_id:
        attempt.stripe_checkout_session_id = session_id


# -- handlers ------------------------------------------------------------------------------


def _record_one_off_from_session(
    session: Session, settings: Settings, checkout_session: Obj, event: Obj
) -> None:
    # A paid session is final, so its snapshot is enough; the charge's id and any refund
    # or dispute arrive with charge events, which find the payment by its intent.
    pi_id = _id(checkout_session.get("payment_intent"))
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
            paid_at=_event_time(event),
            stripe_payment_intent_id=pi_id,
            stripe_checkout_session_id=str(checkout_session["id"]),
            stripe_customer_id=_id(checkout_session.get("customer")),
            email=_email(details.get("email") or checkout_session.get("customer_email")),
            **_attribution_of(_metadata(checkout_session)),
        ),
    )


def handle_checkout_completed(session: Session, settings: Settings, event: Obj) -> bool:
    """A reader finished Checkout: record a paid one-off, or start following a monthly gift."""
    checkout_session: Obj = event["data"]["object"]
    if not stripe_gateway.is_ours(checkout_session.get("metadata")):
        return False
    paid = checkout_session.get("payment_status") == "paid"
    _mark_attempt(session, checkout_session, AttemptStatus.COMPLETED)
    details = checkout_session.get("customer_details") or {}
    customer_id = _id(checkout_session.get("customer"))
    email = details.get("email") or checkout_session.get("customer_email")
    if customer_id or email:
        link_supporter(session, settings, customer_id, email)
    if checkout_session.get("mode") == "subscription":
        subscription_id = _id(checkout_session.get("subscription"))
        if subscription_id:
            _ensure_monthly(session, settings, subscription_id, _event_time(event))
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
    _mark_attempt(session, checkout_session, AttemptStatus.FAILED)
    return True


def _invoice_subscription(invoice: Obj) -> tuple[str | None, dict[str, str]]:
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    metadata = {str(k): str(v) for k, v in (details.get("metadata") or {}).items()}
    return _id(details.get("subscription")), metadata


def handle_invoice_paid(session: Session, settings: Settings, event: Obj) -> bool:
    """One month of a monthly gift was paid: record it as a donation."""
    invoice: Obj = event["data"]["object"]
    subscription_id, metadata = _invoice_subscription(invoice)
    if not subscription_id or not stripe_gateway.is_ours(metadata):
        return False
    amount = int(invoice.get("amount_paid") or 0)
    monthly = _ensure_monthly(session, settings, subscription_id, _event_time(event))
    if amount <= 0:
        return True
    # Webhooks carry no payment details: ask Stripe which charge paid this invoice (and
    # whether it was refunded or disputed before we heard of the payment).
    pi_id = None
    charge: Obj = {}
    for payment in stripe_gateway.list_invoice_payments(settings, str(invoice["id"])):
        if payment.get("status") == "paid":
            intent = (payment.get("payment") or {}).get("payment_intent")
            pi_id = _id(intent)
            latest = intent.get("latest_charge") if isinstance(intent, dict) else None
            charge = latest if isinstance(latest, dict) else {}
            break
    refunded, refunded_at, disputed = _charge_facts(charge)
    times = (
        _time((invoice.get("status_transitions") or {}).get("paid_at")),
        _time(charge.get("created")),
    )
    paid_at = min((when for when in times if when is not None), default=None)
    record_donation(
        session,
        settings,
        PaymentFacts(
            frequency=Frequency.MONTHLY,
            amount_minor=amount,
            currency=str(invoice.get("currency") or "").lower(),
            paid_at=paid_at or _event_time(event),
            stripe_payment_intent_id=pi_id,
            stripe_charge_id=_id(charge.get("id")) if charge else None,
            stripe_invoice_id=str(invoice["id"]),
            stripe_customer_id=_id(invoice.get("customer")),
            email=_email(invoice.get("customer_email")),
            monthly_donation_id=monthly.id if monthly else None,
            amount_refunded_minor=refunded,
            refunded_at=refunded_at,
            disputed=disputed,
            **_attribution_of(metadata),
        ),
    )
    return True


def handle_invoice_payment_failed(session: Session, settings: Settings, event: Obj) -> bool:
    """A renewal failed: Stripe makes the gift past_due; read its state from Stripe."""
    invoice: Obj = event["data"]["object"]
    subscription_id, metadata = _invoice_subscription(invoice)
    if not subscription_id or not stripe_gateway.is_ours(metadata):
        return False
    subscription = stripe_gateway.fetch_subscription(settings, subscription_id)
    sync_monthly_donation(session, settings, subscription, _event_time(event), fetched=True)
    return True


def handle_subscription_changed(session: Session, settings: Settings, event: Obj) -> bool:
    """A monthly gift was created, changed (status, amount, cancel at period end) or ended."""
    subscription: Obj = event["data"]["object"]
    return sync_monthly_donation(session, settings, subscription, _event_time(event)) is not None


def _donation_for_charge(
    session: Session, settings: Settings, charge: Obj, event: Obj
) -> Donation | None:
    """Our donation for a charge; a one-off's charge carries our metadata, so a refund or
    dispute heard of before the payment itself still records the payment."""
    found = _find_donation(
        session,
        charge_id=_id(charge.get("id")),
        payment_intent_id=_id(charge.get("payment_intent")),
    )
    if found is not None:
        if not found.stripe_charge_id and charge.get("id"):
            found.stripe_charge_id = str(charge["id"])
        charged_at = _time(charge.get("created"))
        if charged_at is not None and charged_at < found.paid_at:
            found.paid_at = charged_at
        return found
    metadata = _metadata(charge)
    if not stripe_gateway.is_ours(metadata) or not charge.get("paid"):
        # A monthly gift's charge has no metadata: its invoice.paid, whenever it comes,
        # reads the charge's refund and dispute state from Stripe.
        return None
    billing = charge.get("billing_details") or {}
    refunded, refunded_at, disputed = _charge_facts(charge)
    return record_donation(
        session,
        settings,
        PaymentFacts(
            frequency=Frequency.ONE_OFF,
            amount_minor=int(charge.get("amount") or 0),
            currency=str(charge.get("currency") or "").lower(),
            paid_at=_time(charge.get("created")) or _event_time(event),
            stripe_payment_intent_id=_id(charge.get("payment_intent")),
            stripe_charge_id=_id(charge.get("id")),
            stripe_customer_id=_id(charge.get("customer")),
            email=_email(billing.get("email") or charge.get("receipt_email")),
            amount_refunded_minor=refunded,
            refunded_at=refunded_at,
            disputed=disputed,
            **_attribution_of(metadata),
        ),
    )


def handle_charge_refunded(session: Session, settings: Settings, event: Obj) -> bool:
    """A payment was refunded in part or in full."""
    charge: Obj = event["data"]["object"]
    donation = _donation_for_charge(session, settings, charge, event)
    if donation is None:
        return False
    refunded, refunded_at, _disputed = _charge_facts(charge)
    apply_refund(donation, refunded, refunded_at or _event_time(event))
    session.flush()
    _refresh(session, settings, donation.supporter_id)
    return True


def handle_dispute(session: Session, settings: Settings, event: Obj) -> bool:
    """A chargeback opened or closed on one of our payments."""
    dispute: Obj = event["data"]["object"]
    donation = _find_donation(
        session,
        charge_id=_id(dispute.get("charge")),
        payment_intent_id=_id(dispute.get("payment_intent")),
    )
    if donation is None:
        charge_id = _id(dispute.get("charge"))
        if not charge_id:
            return False
        charge = stripe_gateway.fetch_charge(settings, charge_id)
        donation = _donation_for_charge(session, settings, charge, event)
        if donation is None:
            return False
    if not donation.stripe_charge_id and dispute.get("charge"):
        donation.stripe_charge_id = _id(dispute.get("charge"))
    opened_at = _time(dispute.get("created")) or _event_time(event)
    apply_dispute(donation, str(dispute.get("status") or ""), opened_at)
    session.flush()
    _refresh(session, settings, donation.supporter_id)
    return True


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": handle_checkout_completed,
    "checkout.session.async_payment_succeeded": handle_async_payment_succeeded,
    "checkout.session.async_payment_failed": handle_async_payment_failed,
    "invoice.paid": handle_invoice_paid,
    "invoice.payment_failed": handle_invoice_payment_failed,
    "customer.subscription.created": handle_subscription_changed,
    "customer.subscription.updated": handle_subscription_changed,
    "customer.subscription.deleted": handle_subscription_changed,
    "charge.refunded": handle_charge_refunded,
    "charge.dispute.created": handle_dispute,
    "charge.dispute.closed": handle_dispute,
}

HANDLED_EVENT_TYPES = frozenset(HANDLERS)


def apply_event(session: Session, settings: Settings, event: Obj) -> bool:
    """Apply one Stripe event to the ledger; False when it is not about anything of ours."""
    handler = HANDLERS.get(str(event.get("type")))
    if handler is None:
        return False
    return handler(session, settings, event)
