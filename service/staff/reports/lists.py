"""The staff lists: supporters, donations, campaigns and Stripe events; filters and paging.

The staff pages and the CSV downloads share the same filtered statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from service.appeals import Campaign
from service.core.jobs import MAX_ATTEMPTS
from service.ledger import (
    Donation,
    DonationStatus,
    EventOutcome,
    Frequency,
    MonthlyDonation,
    MonthlyStatus,
    StripeEvent,
    Supporter,
)

PAGE_SIZE = 50


@dataclass(frozen=True)
class DonationFilters:
    q: str = ""
    frequency: str = ""
    status: str = ""
    currency: str = ""
    campaign: str = ""
    paid_from: date | None = None
    paid_to: date | None = None


@dataclass(frozen=True)
class SupporterFilters:
    q: str = ""
    # "supporting", "lapsed" or "" for everyone.
    state: str = ""


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def donations_statement(filters: DonationFilters) -> Any:
    """Donations matching the filters, newest first (a Select of Donation)."""
    stmt = select(Donation)
    if filters.q:
        q = filters.q.strip()
        stmt = stmt.where(
            func.lower(Donation.email).like(_like(q), escape="\\")
            | (Donation.stripe_charge_id == q)
            | (Donation.stripe_payment_intent_id == q)
            | (Donation.stripe_customer_id == q)
            | (Donation.stripe_invoice_id == q)
        )
    if filters.frequency:
        stmt = stmt.where(Donation.frequency == Frequency(filters.frequency))
    if filters.status:
        stmt = stmt.where(Donation.status == DonationStatus(filters.status))
    if filters.currency:
        stmt = stmt.where(Donation.currency == filters.currency)
    if filters.campaign:
        stmt = stmt.where(Donation.campaign == filters.campaign)
    if filters.paid_from:
        stmt = stmt.where(Donation.paid_at >= _day_start(filters.paid_from))
    if filters.paid_to:
        stmt = stmt.where(Donation.paid_at < _day_start(filters.paid_to + timedelta(days=1)))
    return stmt.order_by(Donation.paid_at.desc(), Donation.id.desc())


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def supporters_statement(filters: SupporterFilters, now: datetime) -> Any:
    """Supporters with their gift count and last gift, newest first (one grouped query)."""
    # Correlated subqueries use ix_donations_supporter_paid_at per listed supporter, so a
    # page costs the same at a million donations as at a thousand.
    gifts = (
        select(func.count())
        .where(Donation.supporter_id == Supporter.id)
        .correlate(Supporter)
        .scalar_subquery()
    )
    last_paid_at = (
        select(func.max(Donation.paid_at))
        .where(Donation.supporter_id == Supporter.id)
        .correlate(Supporter)
        .scalar_subquery()
    )
    monthly_gifts = (
        select(func.count())
        .where(
            MonthlyDonation.supporter_id == Supporter.id,
            MonthlyDonation.status.in_([MonthlyStatus.ACTIVE, MonthlyStatus.PAST_DUE]),
        )
        .correlate(Supporter)
        .scalar_subquery()
    )
    stmt = select(
        Supporter,
        gifts.label("gifts"),
        last_paid_at.label("last_paid_at"),
        monthly_gifts.label("monthly_gifts"),
    )
    if filters.q:
        stmt = stmt.where(func.lower(Supporter.email).like(_like(filters.q.strip()), escape="\\"))
    if filters.state == "supporting":
        stmt = stmt.where(Supporter.supported_until > now)
    elif filters.state == "lapsed":
        stmt = stmt.where((Supporter.supported_until <= now) | Supporter.supported_until.is_(None))
    # Newest first by id (the creation order), which the primary key serves without a sort.
    return stmt.order_by(Supporter.id.desc())


def page_of(session: Session, stmt: Any, page: int, scalars: bool) -> tuple[list[Any], bool]:
    """One page of a statement and whether another follows (no COUNT over the table)."""
    page = max(page, 1)
    result = session.execute(stmt.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE))
    rows = list(result.scalars() if scalars else result.all())
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def campaigns_for_staff(session: Session) -> list[Campaign]:
    """Return every campaign, active ones first, then by priority and slug."""
    stmt = select(Campaign).order_by(
        Campaign.active.desc(), Campaign.priority.desc(), Campaign.slug
    )
    return list(session.scalars(stmt))


# Kept for the inbox's wording: Stripe resends an unacknowledged delivery for three days.
STRIPE_RETRY_DAYS = 3
# A failed event is retried by its job with backoff; after this many tries it is dead and
# only a replay helps (the job mechanism's dead-letter limit).
DEAD_AFTER_ATTEMPTS = MAX_ATTEMPTS
# "Recently applied" on the inbox's opening view.
RECENT_APPLIED_HOURS = 24
INBOX_VIEWS = ("attention", "pending", "failed", "dead", "applied", "ignored")


def events_statement(view: str, now: datetime) -> Any:
    """Return the Stripe events of one inbox view, newest first.

    attention (the default): every failed or still pending event and those applied in the
    last day; pending (stored, waiting for a worker); failed; dead (failed, and past the
    job's retries); applied; ignored.
    """
    failed = StripeEvent.outcome == EventOutcome.FAILED
    pending = StripeEvent.outcome == EventOutcome.PENDING
    conditions = {
        "pending": pending,
        "failed": failed,
        "dead": and_(failed, StripeEvent.attempts >= DEAD_AFTER_ATTEMPTS),
        "applied": StripeEvent.outcome == EventOutcome.APPLIED,
        "ignored": StripeEvent.outcome == EventOutcome.IGNORED,
    }
    recent = and_(
        StripeEvent.outcome == EventOutcome.APPLIED,
        StripeEvent.received_at >= now - timedelta(hours=RECENT_APPLIED_HOURS),
    )
    condition = conditions.get(view, or_(failed, pending, recent))
    return (
        select(StripeEvent)
        .where(condition)
        .order_by(StripeEvent.received_at.desc(), StripeEvent.id.desc())
    )
