"""The staff dashboard's numbers: supporters, monthly gifts, one-off revenue, refunds, trends.

Every number is one aggregate query in SQL, portable SQLite/PostgreSQL. Time buckets
(months, weeks) are CASE expressions over one indexed range scan rather than
dialect-specific date functions, so the same SQL runs on both backends. Python only adds
up the handful of rows the database returns (a few per currency).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger import (
    Donation,
    DonationStatus,
    Frequency,
    Interval,
    MonthlyDonation,
    MonthlyStatus,
    Supporter,
    count_supporters,
    describe_count,
    display_count,
)

MONTHS = 12
WEEKS = 12
DISPUTED_STATUSES = (DonationStatus.DISPUTED, DonationStatus.DISPUTE_LOST)

DEFINITIONS = {
    "mrr": "Recurring revenue: the amounts of active monthly and annual gifts, per month "
    "(an annual gift counts a twelfth of its amount each month) and per year (a monthly "
    "gift counts twelve times). Past-due gifts are left out and shown as at risk.",
    "one_off": "One-off revenue: one-off donations by the date they were paid (UTC). Net is "
    "gross minus refunds and minus donations under dispute or lost to a dispute.",
    "new_supporters": "New supporters: people whose first successful gift fell in that week "
    "(weeks start on Monday, UTC).",
    "cancellations": "Cancellations: monthly and annual gifts cancelled in that week, whoever "
    "cancelled.",
    "at_risk": "At risk: recurring gifts whose latest renewal failed (past due); Stripe retries "
    "the card, and they still count as supporters until the gift is cancelled.",
    "refunds": "Refunds and disputes in the last 12 months, by the date they happened.",
    "funnel": "Impressions and clicks come from the widget's beacons; checkouts started are "
    "Stripe Checkout sessions we created; donations completed are one-off donations plus "
    "recurring gifts started, each attributed to the appeal the reader came from.",
}


@dataclass(frozen=True)
class SupporterSummary:
    count: int
    display: str
    definition: str


@dataclass(frozen=True)
class MonthlyRow:
    """Recurring gifts in one currency: monthly and annual, amounts per month and per year."""

    currency: str
    active: int
    mrr_minor: int
    past_due: int
    past_due_minor: int
    active_annual: int = 0
    arr_minor: int = 0


@dataclass(frozen=True)
class OneOffRow:
    currency: str
    month_count: int
    month_gross_minor: int
    month_net_minor: int
    year_count: int
    year_gross_minor: int
    year_net_minor: int
    # Net one-off revenue per calendar month, oldest first (MONTHS entries).
    by_month_minor: tuple[int, ...]


@dataclass(frozen=True)
class RefundDisputeRow:
    currency: str
    refunds: int
    refunded_minor: int
    disputes: int
    disputed_minor: int
    disputes_lost: int


@dataclass(frozen=True)
class WeeklyTrend:
    week_starts: tuple[date, ...]
    new_supporters: tuple[int, ...]
    cancellations: tuple[int, ...]


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    supporters: SupporterSummary
    monthly: list[MonthlyRow]
    one_off: list[OneOffRow]
    month_labels: tuple[str, ...]
    refunds_disputes: list[RefundDisputeRow]
    weekly: WeeklyTrend
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def month_starts(now: datetime, months: int = MONTHS) -> list[datetime]:
    """First instants of the last `months` calendar months (UTC), oldest first, and the next."""
    year, month = now.year, now.month
    starts = []
    for back in range(months - 1, -2, -1):
        index = year * 12 + (month - 1) - back
        starts.append(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC))
    return starts


def week_starts(now: datetime, weeks: int = WEEKS) -> list[datetime]:
    """Mondays 00:00 UTC of the last `weeks` weeks, oldest first, plus the next Monday."""
    today = now.astimezone(UTC).date()
    this_monday = datetime.combine(today - timedelta(days=today.weekday()), datetime.min.time())
    this_monday = this_monday.replace(tzinfo=UTC)
    return [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -2, -1)]


def _bucket_sums(column: Any, edges: list[datetime], value: Any = 1) -> list[ColumnElement[Any]]:
    """One SUM(CASE …) per bucket [edges[i], edges[i+1]); portable across backends."""
    return [
        func.coalesce(
            func.sum(case((and_(column >= low, column < high), value), else_=0)), 0
        ).label(f"b{i}")
        for i, (low, high) in enumerate(itertools.pairwise(edges))
    ]


def summarise_supporters(session: Session, settings: Settings, now: datetime) -> SupporterSummary:
    """The supporter count, its display form and its definition."""
    count = count_supporters(session, settings, now)
    return SupporterSummary(count, display_count(count), describe_count(settings))


def summarise_monthly(session: Session) -> list[MonthlyRow]:
    """Active and past-due recurring gifts per currency; annual amounts normalised ÷ 12."""
    is_active = MonthlyDonation.status == MonthlyStatus.ACTIVE
    is_past_due = MonthlyDonation.status == MonthlyStatus.PAST_DUE
    is_annual = MonthlyDonation.interval == Interval.YEAR

    def amounts(status: ColumnElement[bool], annual: bool) -> ColumnElement[Any]:
        interval = is_annual if annual else ~is_annual
        return func.sum(case((and_(status, interval), MonthlyDonation.amount_minor), else_=0))

    rows = session.execute(
        select(
            MonthlyDonation.currency,
            func.sum(case((is_active, 1), else_=0)),
            func.sum(case((and_(is_active, is_annual), 1), else_=0)),
            amounts(is_active, annual=False),
            amounts(is_active, annual=True),
            func.sum(case((is_past_due, 1), else_=0)),
            amounts(is_past_due, annual=False),
            amounts(is_past_due, annual=True),
        )
        .where(MonthlyDonation.status.in_([MonthlyStatus.ACTIVE, MonthlyStatus.PAST_DUE]))
        .group_by(MonthlyDonation.currency)
        .order_by(MonthlyDonation.currency)
    ).all()
    result = []
    for currency, *numbers in rows:
        active, active_annual, monthly, annual, past_due, due_monthly, due_annual = map(
            int, numbers
        )
        result.append(
            MonthlyRow(
                currency=currency,
                active=active,
                mrr_minor=per_month(monthly, annual),
                past_due=past_due,
                past_due_minor=per_month(due_monthly, due_annual),
                active_annual=active_annual,
                arr_minor=monthly * 12 + annual,
            )
        )
    return result


def per_month(monthly_minor: int, annual_minor: int) -> int:
    """Monthly amounts plus annual ones spread over 12 months, floored: never overstated."""
    return monthly_minor + annual_minor // 12


def _net_amount() -> ColumnElement[Any]:
    """A donation's amount after refunds; nothing while disputed or after a lost dispute."""
    return case(
        (Donation.status.in_(DISPUTED_STATUSES), 0),
        else_=Donation.amount_minor - Donation.amount_refunded_minor,
    )


def _bucket_index(column: Any, edges: list[datetime]) -> ColumnElement[Any]:
    """Which bucket [edges[i], edges[i+1]) a row falls in, as one portable CASE."""
    return case(
        *[(column >= start, index) for index, start in reversed(list(enumerate(edges[:-1])))],
        else_=-1,
    )


def summarise_one_off(session: Session, now: datetime) -> tuple[list[OneOffRow], tuple[str, ...]]:
    """One-off revenue this month, over the last 12 calendar months and per month."""
    edges = month_starts(now)
    month = _bucket_index(Donation.paid_at, edges).label("month")
    # One row per currency and month (at most 12 per currency): the database does the
    # per-donation work once, and the totals below add up those few aggregates.
    rows = session.execute(
        select(
            Donation.currency,
            month,
            func.count(),
            func.sum(Donation.amount_minor),
            func.sum(_net_amount()),
        )
        # paid_at leads ix_donations_paid_at_amounts, which covers every column used
        # here, so this is one index-only range scan.
        .where(Donation.paid_at >= edges[0], Donation.paid_at < edges[-1])
        .where(Donation.frequency == Frequency.ONE_OFF)
        .group_by(Donation.currency, month)
    ).all()
    months = len(edges) - 1
    totals: dict[str, list[list[int]]] = {}
    for currency, index, count, gross, net in rows:
        per_month = totals.setdefault(currency, [[0] * months for _ in range(3)])
        per_month[0][index] = int(count or 0)
        per_month[1][index] = int(gross or 0)
        per_month[2][index] = int(net or 0)
    labels = tuple(start.strftime("%b %Y") for start in edges[:-1])
    result = [
        OneOffRow(
            currency=currency,
            month_count=counts[-1],
            month_gross_minor=gross[-1],
            month_net_minor=net[-1],
            year_count=sum(counts),
            year_gross_minor=sum(gross),
            year_net_minor=sum(net),
            by_month_minor=tuple(net),
        )
        for currency, (counts, gross, net) in sorted(totals.items())
    ]
    return result, labels


def summarise_refunds_disputes(session: Session, now: datetime) -> list[RefundDisputeRow]:
    """Refunds and disputes that happened in the last 12 calendar months, per currency."""
    since = month_starts(now)[0]
    refunded = Donation.refunded_at >= since
    disputed = Donation.disputed_at >= since
    rows = session.execute(
        select(
            Donation.currency,
            func.sum(case((refunded, 1), else_=0)),
            func.sum(case((refunded, Donation.amount_refunded_minor), else_=0)),
            func.sum(case((disputed, 1), else_=0)),
            func.sum(case((disputed, Donation.amount_minor), else_=0)),
            func.sum(
                case((and_(disputed, Donation.status == DonationStatus.DISPUTE_LOST), 1), else_=0)
            ),
        )
        .where(refunded | disputed)
        .group_by(Donation.currency)
        .order_by(Donation.currency)
    ).all()
    return [
        RefundDisputeRow(c, int(r), int(rm), int(d), int(dm), int(dl))
        for c, r, rm, d, dm, dl in rows
    ]


def summarise_weeks(session: Session, now: datetime) -> WeeklyTrend:
    """New supporters and recurring gifts cancelled per week over the last 12 weeks."""
    edges = week_starts(now)
    new = session.execute(
        select(*_bucket_sums(Supporter.first_supported_at, edges)).where(
            Supporter.first_supported_at >= edges[0], Supporter.first_supported_at < edges[-1]
        )
    ).one()
    cancelled = session.execute(
        select(*_bucket_sums(MonthlyDonation.canceled_at, edges)).where(
            MonthlyDonation.canceled_at >= edges[0], MonthlyDonation.canceled_at < edges[-1]
        )
    ).one()
    return WeeklyTrend(
        week_starts=tuple(start.date() for start in edges[:-1]),
        new_supporters=tuple(int(v or 0) for v in new),
        cancellations=tuple(int(v or 0) for v in cancelled),
    )


def build_dashboard(session: Session, settings: Settings, now: datetime | None = None) -> Dashboard:
    """Every number on the staff dashboard."""
    now = now or utcnow()
    one_off, labels = summarise_one_off(session, now)
    return Dashboard(
        now=now,
        supporters=summarise_supporters(session, settings, now),
        monthly=summarise_monthly(session),
        one_off=one_off,
        month_labels=labels,
        refunds_disputes=summarise_refunds_disputes(session, now),
        weekly=summarise_weeks(session, now),
    )
