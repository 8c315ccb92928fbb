"""Churn and retention: recurring gifts lost per month, and supporters giving again by cohort.

Both are a few grouped aggregates in SQL over indexed columns; Python only arranges the
handful of rows returned into a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from service.ledger import Donation, MonthlyDonation, MonthlyStatus, Supporter
from service.staff.reports.dashboard import month_starts
from service.staff.reports.money import Period, as_date, period_bucket

RETENTION_DEFINITION = (
    "Churn: recurring gifts (monthly and annual) cancelled during the month, whoever "
    "cancelled and including those Stripe cancelled after failed renewals, divided by the "
    "recurring gifts active at the start of the month. Retention: supporters grouped by the "
    "month of their first gift; each later column is the share of them who made a payment "
    "in that month (an annual gift pays once a year, so its supporter shows in month 12, "
    "not between). Months are calendar months in UTC."
)
# Gifts that never really started are no loss when they lapse.
NEVER_STARTED = (MonthlyStatus.INCOMPLETE, MonthlyStatus.INCOMPLETE_EXPIRED)


@dataclass(frozen=True)
class ChurnRow:
    month: date
    active_at_start: int
    cancelled: int

    @property
    def churn(self) -> float | None:
        return self.cancelled / self.active_at_start if self.active_at_start else None


@dataclass(frozen=True)
class CohortRow:
    cohort: date
    size: int
    # Supporters of the cohort who paid in month 0, 1, 2, … after their first gift's month.
    giving: tuple[int, ...]

    def share(self, months_since: int) -> float | None:
        if months_since >= len(self.giving) or not self.size:
            return None
        return self.giving[months_since] / self.size


def churn_by_month(session: Session, now: datetime, months: int = 12) -> list[ChurnRow]:
    """Recurring gifts active at each month's start and cancelled during it (last months)."""
    edges = month_starts(now, months)
    gift = MonthlyDonation
    columns = []
    for low, high in pairwise(edges):
        active = and_(
            gift.started_at < low,
            or_(gift.canceled_at.is_(None), gift.canceled_at >= low),
            or_(gift.ended_at.is_(None), gift.ended_at >= low),
        )
        cancelled = and_(active, gift.canceled_at >= low, gift.canceled_at < high)
        columns.append(func.coalesce(func.sum(case((active, 1), else_=0)), 0))
        columns.append(func.coalesce(func.sum(case((cancelled, 1), else_=0)), 0))
    values = session.execute(
        select(*columns).where(
            gift.started_at < edges[-1],
            gift.status.not_in(NEVER_STARTED),
            or_(gift.canceled_at.is_(None), gift.canceled_at >= edges[0]),
        )
    ).one()
    numbers = [int(v or 0) for v in values]
    return [
        ChurnRow(month=start.date(), active_at_start=numbers[2 * i], cancelled=numbers[2 * i + 1])
        for i, start in enumerate(edges[:-1])
    ]


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def cohort_retention(session: Session, now: datetime, months: int = 12) -> list[CohortRow]:
    """Supporters by month of first gift, and how many paid in each month after it."""
    edges = month_starts(now, months)
    since, until = edges[0], edges[-1]
    cohort = period_bucket(session, Supporter.first_supported_at, Period.MONTH).label("cohort")
    sizes = {
        as_date(month): int(count)
        for month, count in session.execute(
            select(cohort, func.count())
            .where(Supporter.first_supported_at >= since, Supporter.first_supported_at < until)
            .group_by(cohort)
        )
    }
    paid = period_bucket(session, Donation.paid_at, Period.MONTH).label("paid")
    giving: dict[date, dict[int, int]] = {}
    for month, paid_month, count in session.execute(
        select(cohort, paid, func.count(func.distinct(Donation.supporter_id)))
        .join(Supporter, Supporter.id == Donation.supporter_id)
        .where(Supporter.first_supported_at >= since, Supporter.first_supported_at < until)
        .where(Donation.paid_at >= since, Donation.paid_at < until)
        .group_by(cohort, paid)
    ):
        start = as_date(month)
        offset = _month_index(as_date(paid_month)) - _month_index(start)
        if offset >= 0:
            giving.setdefault(start, {})[offset] = int(count)
    last = _month_index(until.date()) - 1
    return [
        CohortRow(
            cohort=start,
            size=size,
            giving=tuple(
                giving.get(start, {}).get(k, 0) for k in range(last - _month_index(start) + 1)
            ),
        )
        for start, size in sorted(sizes.items())
    ]
