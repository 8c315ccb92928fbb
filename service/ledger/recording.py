"""Recording what Stripe tells us: supporters, donations, refunds, disputes, attempts.

Every function here is idempotent and order-independent: it may hear of the same payment
or customer many times, in any order, concurrently, and flushes but never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import stripe_gateway
from service.core.db import insert_ignoring_conflicts
from service.core.erasure import erase_person
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger import stripe_json, stripe_reads
from service.ledger.changes import Change, announce_gift, announce_supporter
from service.ledger.models import (
    AttemptStatus,
    CheckoutAttempt,
    Donation,
    DonationStatus,
    Frequency,
    MonthlyDonation,
    StripeCustomer,
    Supporter,
)
from service.ledger.notices import Notice, notify
from service.ledger.refunds import apply_dispute, apply_refund
from service.ledger.stripe_json import Obj
from service.ledger.supporters import refresh_supporter

# -- supporters ----------------------------------------------------------------------------


def link_supporter(
    session: Session, settings: Settings, customer_id: str | None, email: str | None
) -> Supporter | None:
    """Find or create the supporter behind a Stripe customer, joining customers by email."""
    email = stripe_json.email(email)
    if customer_id:
        linked = session.scalar(
            select(StripeCustomer).where(StripeCustomer.stripe_customer_id == customer_id)
        )
        if linked is not None:
            return linked.supporter
        if email is None:
            # A customer we have never seen and no email in the event: ask Stripe once.
            customer = stripe_reads.fetch_customer(settings, customer_id)
            email = stripe_json.email(customer.get("email"))
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


def follow_email(session: Session, customer: StripeCustomer, email: str | None) -> None:
    """A customer's email changed at Stripe: the person stays one supporter.

    The supporter takes the new address; if another supporter already has it (the same
    person gave before under that address), the two are merged into this one.
    """
    customer.email = email
    supporter = customer.supporter
    if email is None or supporter.email == email:
        return
    other = session.scalars(select(Supporter).where(Supporter.email == email)).one_or_none()
    if other is not None and other.id != supporter.id:
        for model in (StripeCustomer, Donation, MonthlyDonation):
            session.execute(
                update(model)
                .where(model.supporter_id == other.id)
                .values(supporter_id=supporter.id)
            )
        session.flush()
        session.delete(other)
        session.flush()
    supporter.email = email
    session.flush()


def erase_customer(session: Session, customer: StripeCustomer) -> None:
    """A customer was deleted at Stripe: erase their personal data here too.

    Their gifts stay, anonymised, so totals and counts do not change; the supporter
    loses the address once none of its customers is left with one.
    """
    addresses = {customer.email, customer.supporter.email} - {None}
    session.execute(
        update(Donation)
        .where(Donation.stripe_customer_id == customer.stripe_customer_id)
        .values(email=None)
    )
    if addresses:
        session.execute(
            update(CheckoutAttempt).where(CheckoutAttempt.email.in_(addresses)).values(email=None)
        )
    customer.email = None
    session.flush()
    supporter = customer.supporter
    gone = all(other.email is None for other in supporter.customers)
    if gone:
        supporter.email = None
        session.execute(
            update(Donation).where(Donation.supporter_id == supporter.id).values(email=None)
        )
    session.flush()
    # Messages to them and job payloads naming them (features above register theirs).
    erase_person(session, {a for a in addresses if a}, supporter.id if gone else None)


def refresh(session: Session, settings: Settings, supporter_id: int | None) -> None:
    """Recompute one supporter's standing after their gifts changed; announce a start or
    a lapse (keyed by the standing it ends, so a redelivered event announces nothing)."""
    if supporter_id is None:
        return
    supporter = session.get(Supporter, supporter_id, populate_existing=True)
    if supporter is None:
        return
    now = utcnow()
    before = supporter.supported_until
    refresh_supporter(session, supporter, settings)
    after = supporter.supported_until
    was, counts = before is not None and before > now, after is not None and after > now
    if counts and not was:
        key = f"supporter.started:{supporter.id}:{_stamp(before)}"
        announce_supporter(session, Change.SUPPORTER_STARTED, supporter, key, now)
    elif was and not counts:
        announce_supporter(session, Change.SUPPORTER_LAPSED, supporter, lapse_key(supporter), now)


def _stamp(value: datetime | None) -> str:
    return str(int(value.timestamp())) if value is not None else "none"


def lapse_key(supporter: Supporter) -> str:
    """One lapse, one key: by the time support ended, whichever path notices it."""
    return f"supporter.lapsed:{supporter.id}:{_stamp(supporter.supported_until)}"


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
    # The charge's balance_transaction as the event or fetch gave it: an id or the object.
    balance_transaction: str | Obj | None = None


def find_donation(
    session: Session,
    *,
    invoice_id: str | None = None,
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
) -> Donation | None:
    """Our donation for any of a payment's Stripe ids, locked for update."""
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
    donation = find_donation(session, **keys)
    new = donation is None
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
        donation = find_donation(session, **keys)
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
    if donation.supporter_id is None:
        supporter = link_supporter(session, settings, donation.stripe_customer_id, donation.email)
        donation.supporter_id = supporter.id if supporter else None
    apply_refund(session, donation, facts.amount_refunded_minor, facts.refunded_at or facts.paid_at)
    if facts.disputed and donation.disputed_at is None:
        apply_dispute(donation, "needs_response", facts.paid_at)
    record_fees(settings, donation, facts.balance_transaction)
    session.flush()
    refresh(session, settings, donation.supporter_id)
    if new and donation.status is DonationStatus.SUCCEEDED:
        # Keyed by the payment: a twin event or a redelivery never thanks twice.
        notify(session, Notice.GIFT_SUCCEEDED, str(donation.id), donation_id=donation.id)
        announce_gift(session, Change.GIFT_SUCCEEDED, donation, f"gift.succeeded:{donation.id}")
    return donation


def record_fees(
    settings: Settings, donation: Donation, balance_transaction: str | Obj | None = None
) -> None:
    """Record Stripe's fee and net for a payment from its charge's balance transaction.

    Uses the transaction when the event carries it, else asks Stripe once (by charge, or
    by payment intent when the charge is not known yet). A payment Stripe has no
    transaction for keeps no fee rather than an estimate; a retryable failure raises so
    the event is retried.
    """
    if donation.fee_minor is not None:
        return
    try:
        transaction = _balance_transaction(settings, donation, balance_transaction)
    except stripe_gateway.GatewayError as error:
        if error.retryable:
            raise
        return
    if not transaction or transaction.get("fee") is None or transaction.get("net") is None:
        return
    donation.fee_minor = int(transaction["fee"])
    donation.net_minor = int(transaction["net"])


def _balance_transaction(
    settings: Settings, donation: Donation, given: str | Obj | None
) -> Obj | None:
    if isinstance(given, dict):
        return given
    if isinstance(given, str) and given:
        return stripe_reads.fetch_balance_transaction(settings, given)
    if donation.stripe_charge_id:
        charge = stripe_reads.fetch_charge(
            settings, donation.stripe_charge_id, expand=("balance_transaction",)
        )
    elif donation.stripe_payment_intent_id:
        intent = stripe_reads.fetch_payment_intent(
            settings,
            donation.stripe_payment_intent_id,
            expand=("latest_charge.balance_transaction",),
        )
        latest = intent.get("latest_charge")
        charge = latest if isinstance(latest, dict) else {}
    else:
        return None
    found = charge.get("balance_transaction")
    return found if isinstance(found, dict) else None


# -- checkout attempts ---------------------------------------------------------------------


def mark_attempt(session: Session, checkout_session: Obj, status: AttemptStatus) -> None:
    """Move our checkout attempt on, if we have it (the attempt id is in the metadata)."""
    public_id = stripe_json.metadata_of(checkout_session).get("checkout_attempt")
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
