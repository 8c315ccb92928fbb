"""Recording recurring gifts: our monthly or annual gift in line with Stripe's subscription.

Idempotent and order-independent like the rest of the recording: a stale snapshot is
skipped, an ambiguous one is settled by fetching the subscription; flushes, never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import stripe_gateway
from service.core.db import insert_ignoring_conflicts
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger import stripe_json, stripe_reads
from service.ledger.changes import Change, announce_recurring
from service.ledger.models import (
    SUPPORTING_MONTHLY_STATUSES,
    Interval,
    MonthlyDonation,
    MonthlyStatus,
)
from service.ledger.notices import Notice, notify
from service.ledger.recording import link_supporter, refresh
from service.ledger.stripe_json import Obj


def _subscription_amount(subscription: Obj) -> tuple[int, str, datetime | None]:
    items = ((subscription.get("items") or {}).get("data")) or []
    amount = 0
    # Before API 2025-03-31 the period was the subscription's, not its items'.
    period_end = stripe_json.timestamp(subscription.get("current_period_end"))
    # Older payloads may lack the top-level currency; the prices always carry it.
    currency = str(subscription.get("currency") or "").lower()
    for item in items:
        price = item.get("price") or item.get("plan") or {}
        amount += int(price.get("unit_amount") or price.get("amount") or 0) * int(
            item.get("quantity") or 1
        )
        currency = currency or str(price.get("currency") or "").lower()
        end = stripe_json.timestamp(item.get("current_period_end"))
        if end is not None and (period_end is None or end > period_end):
            period_end = end
    return amount, currency, period_end


def subscription_interval(subscription: Obj) -> Interval:
    """Whether a subscription renews monthly or yearly, from its price (month if unsure)."""
    for item in ((subscription.get("items") or {}).get("data")) or []:
        recurring = (item.get("price") or {}).get("recurring") or {}
        if recurring.get("interval") == Interval.YEAR.value:
            return Interval.YEAR
    return Interval.MONTH


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
    canceled = False
    if monthly is not None and monthly.stripe_state_at is not None and not fetched:
        if state_at < monthly.stripe_state_at:
            return monthly
        if state_at == monthly.stripe_state_at:
            current = stripe_reads.fetch_subscription(settings, subscription_id)
            return sync_monthly_donation(session, settings, current, state_at, fetched=True)
    amount, currency, period_end = _subscription_amount(subscription)
    customer_id = stripe_json.object_id(subscription.get("customer"))
    if monthly is None:
        inserted = insert_ignoring_conflicts(
            session,
            MonthlyDonation.__table__,  # type: ignore[arg-type]
            {
                "stripe_subscription_id": subscription_id,
                "status": MonthlyStatus(subscription["status"]).value,
                "interval": subscription_interval(subscription).value,
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
    before = _terms(monthly) if monthly.stripe_state_at is not None else None
    status = MonthlyStatus(subscription["status"])
    # A canceled subscription never comes back; a stale "active" must not revive it.
    if monthly.status is MonthlyStatus.CANCELED and monthly.stripe_state_at is not None:
        status = MonthlyStatus.CANCELED
    elif status is MonthlyStatus.CANCELED:
        # Keyed by the gift: however many events report the end, one notice.
        notify(session, Notice.MONTHLY_CANCELED, str(monthly.id), monthly_id=monthly.id)
        canceled = True
    monthly.status = status
    monthly.interval = subscription_interval(subscription)
    monthly.amount_minor = amount
    monthly.currency = currency
    monthly.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    monthly.current_period_end = period_end
    monthly.started_at = stripe_json.timestamp(subscription.get("start_date")) or monthly.started_at
    monthly.canceled_at = (
        stripe_json.timestamp(subscription.get("canceled_at")) or monthly.canceled_at
    )
    monthly.ended_at = stripe_json.timestamp(subscription.get("ended_at")) or monthly.ended_at
    monthly.stripe_customer_id = customer_id or monthly.stripe_customer_id
    for key, value in stripe_json.attribution(stripe_json.metadata_of(subscription)).items():
        if value and not getattr(monthly, key):
            setattr(monthly, key, value)
    if monthly.stripe_state_at is None or state_at > monthly.stripe_state_at:
        monthly.stripe_state_at = state_at
    if monthly.supporter_id is None:
        supporter = link_supporter(session, settings, customer_id, None)
        monthly.supporter_id = supporter.id if supporter else None
    session.flush()
    _announce(session, monthly, before, canceled, state_at)
    refresh(session, settings, monthly.supporter_id)
    return monthly


def _terms(monthly: MonthlyDonation) -> tuple[MonthlyStatus, int, str, Interval, bool]:
    return (
        monthly.status,
        monthly.amount_minor,
        monthly.currency,
        monthly.interval,
        monthly.cancel_at_period_end,
    )


def _announce(
    session: Session,
    monthly: MonthlyDonation,
    before: tuple[MonthlyStatus, int, str, Interval, bool] | None,
    canceled: bool,
    at: datetime,
) -> None:
    """Tell listeners a recurring gift started, changed its terms, or ended."""
    if canceled:
        key = f"recurring_gift.canceled:{monthly.id}"
        announce_recurring(session, Change.RECURRING_CANCELED, monthly, key, at)
        return
    supporting = monthly.status in SUPPORTING_MONTHLY_STATUSES
    if supporting and (before is None or before[0] not in SUPPORTING_MONTHLY_STATUSES):
        # Once in a gift's life: a past-due gift paid again did not start anew.
        key = f"recurring_gift.started:{monthly.id}"
        announce_recurring(session, Change.RECURRING_STARTED, monthly, key, at)
    elif before is not None and before[1:] != _terms(monthly)[1:]:
        _, amount, currency, interval, at_end = _terms(monthly)
        key = (
            f"recurring_gift.changed:{monthly.id}:{int(at.timestamp())}:"
            f"{amount}{currency}:{interval.value}:{int(at_end)}"
        )
        announce_recurring(session, Change.RECURRING_CHANGED, monthly, key, at)


def ensure_monthly(
    session: Session, settings: Settings, subscription_id: str, state_at: datetime
) -> MonthlyDonation | None:
    """Our monthly gift for a subscription, fetched from Stripe if we do not have it yet."""
    monthly = _monthly_for_update(session, subscription_id)
    if monthly is not None:
        return monthly
    subscription = stripe_reads.fetch_subscription(settings, subscription_id)
    return sync_monthly_donation(session, settings, subscription, state_at, fetched=True)
