"""Money received: gross, refunds, disputes, Stripe's fees and net per currency and period.

Each figure is one grouped aggregate in SQL (a few rows per currency and period come
back); amounts in different currencies are never added together. Payments count on the
day they were paid, refunds on the day of the first refund and disputes on the day they
opened (UTC). Fees and net are what each charge's balance transaction says.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from service.ledger import Donation, DonationStatus

MONEY_DEFINITION = (
    "Gross: every successful payment (one-off gifts and each recurring payment) on the day "
    "it was paid. Refunds: money returned, on the day of the first refund. Disputes: "
    "payments disputed (open or lost) on the day the dispute opened; Stripe's dispute fee is "
    "not included. Fees: Stripe's processing fees from each charge's balance transaction. "
    "Net: what Stripe credited for the payments, minus refunds and disputes. Days are UTC; "
    "weeks start on Monday; currencies are never added together."
)
NOT_WON = (DonationStatus.DISPUTED, DonationStatus.DISPUTE_LOST)


class Period(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class MoneyRow:
    """Money received in one currency over one period (all amounts in minor units)."""

    currency: str
    period_start: date
    payments: int = 0
    gross_minor: int = 0
    refunds_minor: int = 0
    disputes_minor: int = 0
    fees_minor: int = 0
    net_minor: int = 0
    # Payments whose balance transaction Stripe has not given us yet: their net is
    # counted at gross and their fee as nothing until it arrives.
    fees_unknown: int = 0


def period_start(day: date, period: Period) -> date:
    """The first day of the period holding `day`."""
    if period is Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period is Period.MONTH:
        return day.replace(day=1)
    return day


def period_label(start: date, period: Period) -> str:
    """A period as staff read it: 2025-12-01, week of 2025-12-01, Dec 2025."""
    if period is Period.MONTH:
        return start.strftime("%b %Y")
    if period is Period.WEEK:
        return f"Week of {start.isoformat()}"
    return start.isoformat()


def period_bucket(session: Session, column: Any, period: Period) -> ColumnElement[Any]:
    """The start of each row's period, in SQL (UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc(period.value, func.timezone("UTC", column))
    if period is Period.WEEK:
        # SQLite: 'weekday 0' moves to the coming Sunday (or stays), six days back is Monday.
        return func.date(column, "weekday 0", "-6 days")
    if period is Period.MONTH:
        return func.strftime("%Y-%m-01", column)
    return func.date(column)


def as_date(value: Any) -> date:
    """A period start from the database (a datetime on PostgreSQL, text on SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants [start 00:00, the day after end 00:00)."""
    low = datetime.combine(start, time.min, tzinfo=UTC)
    return low, datetime.combine(end, time.min, tzinfo=UTC) + timedelta(days=1)


def money_received(
    session: Session,
    start: date,
    end: date,
    period: Period,
    currency: str | None = None,
) -> list[MoneyRow]:
    """Money received per currency and period between two days (inclusive, UTC)."""
    low, high = _bounds(start, end)
    rows: dict[tuple[str, date], MoneyRow] = {}

    def merge(currency_: str, bucket: Any, **values: Any) -> None:
        key = (currency_, as_date(bucket))
        row = rows.get(key) or MoneyRow(currency=currency_, period_start=key[1])
        rows[key] = replace(row, **values)

    def where_currency(column: Any) -> Any:
        return column == currency if currency else True

    paid = period_bucket(session, Donation.paid_at, period).label("bucket")
    for cur, bucket, count, gross, fees, net, unknown in session.execute(
        select(
            Donation.currency,
            paid,
            func.count(),
            func.sum(Donation.amount_minor),
            func.coalesce(func.sum(Donation.fee_minor), 0),
            func.sum(func.coalesce(Donation.net_minor, Donation.amount_minor)),
            func.count() - func.count(Donation.fee_minor),
        )
        .where(Donation.paid_at >= low, Donation.paid_at < high)
        .where(where_currency(Donation.currency))
        .group_by(Donation.currency, paid)
    ):
        merge(
            cur,
            bucket,
            payments=int(count),
            gross_minor=int(gross or 0),
            fees_minor=int(fees or 0),
            net_minor=int(net or 0),
            fees_unknown=int(unknown or 0),
        )
    refunded = period_bucket(session, Donation.refunded_at, period).label("bucket")
    for cur, bucket, amount in session.execute(
        select(Donation.currency, refunded, func.sum(Donation.amount_refunded_minor))
        .where(Donation.refunded_at >= low, Donation.refunded_at < high)
        .where(where_currency(Donation.currency))
        .group_by(Donation.currency, refunded)
    ):
        merge(cur, bucket, refunds_minor=int(amount or 0))
    disputed = period_bucket(session, Donation.disputed_at, period).label("bucket")
    for cur, bucket, amount in session.execute(
        select(Donation.currency, disputed, func.sum(Donation.amount_minor))
        .where(Donation.disputed_at >= low, Donation.disputed_at < high)
        .where(Donation.status.in_(NOT_WON))
        .where(where_currency(Donation.currency))
        .group_by(Donation.currency, disputed)
    ):
        merge(cur, bucket, disputes_minor=int(amount or 0))
    # Net so far is what Stripe credited for the payments; money that went back leaves it.
    return [
        replace(row, net_minor=row.net_minor - row.refunds_minor - row.disputes_minor)
        for _, row in sorted(rows.items(), key=lambda item: (item[0][0], item[0][1]))
    ]


def money_totals(rows: list[MoneyRow]) -> list[MoneyRow]:
    """The whole range per currency (the period start is the first period's)."""
    totals: dict[str, MoneyRow] = {}
    for row in rows:
        seen = totals.get(row.currency)
        if seen is None:
            totals[row.currency] = row
            continue
        totals[row.currency] = MoneyRow(
            currency=row.currency,
            period_start=seen.period_start,
            payments=seen.payments + row.payments,
            gross_minor=seen.gross_minor + row.gross_minor,
            refunds_minor=seen.refunds_minor + row.refunds_minor,
            disputes_minor=seen.disputes_minor + row.disputes_minor,
            fees_minor=seen.fees_minor + row.fees_minor,
            net_minor=seen.net_minor + row.net_minor,
            fees_unknown=seen.fees_unknown + row.fees_unknown,
        )
    return [totals[currency] for currency in sorted(totals)]
