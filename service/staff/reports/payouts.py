"""Payouts: what each Stripe payout paid out, and the month-end view finance closes with.

A payout's figures are the sums of its balance transactions as Stripe listed them (see
service/ledger/payouts.py), in its own currency. The month-end view puts, per currency,
the money received in the month beside what reached the bank in it and what was still
on its way at the month's end. Currencies are never added together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from service.ledger import Donation, Frequency, Payout, PayoutItem, PayoutStatus
from service.staff.reports.money import MoneyRow, Period, money_received, money_totals

PAYOUTS_DEFINITION = (
    "Each payout is Stripe's transfer of the available balance in one currency to the bank. "
    "Gifts: the payments it paid out (gross). Refunds and disputes: money that went back "
    "(a failed refund or a won dispute gives it back). Fees: Stripe's fees on all of them, "
    "dispute fees included. Other: anything else Stripe moved (such as a failed payout's "
    "money paid out again). Net = gifts - refunds - disputes - fees + other, which is the "
    "payout's amount. Totals leave out failed and canceled payouts, whose money Stripe pays "
    "out again. Dates are UTC."
)
MONTH_END_DEFINITION = (
    "Received: payments in the month, as on the Money page. Paid out: payouts that reached "
    "the bank (status paid) with an arrival date in the month. In transit at month end: "
    "payouts made by the month's end that had not arrived by then. Failed: payouts made in "
    "the month that the bank returned. Not in a payout yet: the net of the month's payments "
    "that no payout has taken so far (Stripe holds new funds for a few days; a failed "
    "payout's gifts count as paid out once a later payout pays its money again)."
)
NOT_PAID = (PayoutStatus.FAILED.value, PayoutStatus.CANCELED.value)
WAITING = (PayoutStatus.PENDING.value, PayoutStatus.IN_TRANSIT.value)
LIST_LIMIT = 500


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    low = datetime.combine(start, time.min, tzinfo=UTC)
    return low, datetime.combine(end, time.min, tzinfo=UTC) + timedelta(days=1)


def payouts_between(
    session: Session, start: date, end: date, currency: str | None = None
) -> list[Payout]:
    """Payouts made between two days (inclusive, UTC), newest first (at most LIST_LIMIT)."""
    low, high = _bounds(start, end)
    statement = (
        select(Payout)
        .where(Payout.stripe_created_at >= low, Payout.stripe_created_at < high)
        .order_by(Payout.stripe_created_at.desc(), Payout.id.desc())
        .limit(LIST_LIMIT)
    )
    if currency:
        statement = statement.where(Payout.currency == currency)
    return list(session.scalars(statement))


@dataclass
class PayoutTotal:
    """The sums of the payouts in one currency (failed and canceled ones left out)."""

    currency: str
    payouts: int = 0
    amount_minor: int = 0
    gifts: int = 0
    gross_minor: int = 0
    refunds_minor: int = 0
    disputes_minor: int = 0
    fees_minor: int = 0
    other_minor: int = 0
    net_minor: int = 0


def payout_totals(payouts: list[Payout]) -> list[PayoutTotal]:
    """Per currency, the sums of the payouts that paid (or are paying) out."""
    totals: dict[str, PayoutTotal] = {}
    for payout in payouts:
        if payout.status in NOT_PAID:
            continue
        total = totals.setdefault(payout.currency, PayoutTotal(payout.currency))
        total.payouts += 1
        total.amount_minor += payout.amount_minor
        total.gifts += payout.gifts
        total.gross_minor += payout.gross_minor
        total.refunds_minor += payout.refunds_minor
        total.disputes_minor += payout.disputes_minor
        total.fees_minor += payout.fees_minor
        total.other_minor += payout.other_minor
        total.net_minor += payout.net_minor
    return [totals[currency] for currency in sorted(totals)]


@dataclass(frozen=True)
class LineItem:
    """What a payout's page shows of one of its balance transactions."""

    kind: str
    type: str
    reporting_category: str
    amount_minor: int
    fee_minor: int
    net_minor: int
    currency: str
    stripe_balance_transaction_id: str
    stripe_source_id: str | None
    stripe_charge_id: str | None
    stripe_created_at: datetime


@dataclass(frozen=True)
class LineGift:
    """What a payout's page shows of the donation a transaction moved money for."""

    id: int
    supporter_id: int | None
    amount_minor: int
    currency: str
    frequency: Frequency
    campaign: str | None


@dataclass(frozen=True)
class PayoutLine:
    """One balance transaction of a payout, and our donation it moved money for, if any."""

    item: LineItem
    donation: LineGift | None
    # For a failed payout's money paid out again: that failed payout.
    failed_payout: Payout | None = None


_ITEM_COLUMNS = [getattr(PayoutItem, name) for name in LineItem.__dataclass_fields__]
_GIFT_COLUMNS = [getattr(Donation, name) for name in LineGift.__dataclass_fields__]


def payout_lines(session: Session, payout: Payout) -> list[PayoutLine]:
    """A payout's transactions with their donations: gifts first, then by time.

    Plain columns, not ORM objects: a payout holds a few days of payments, thousands of
    lines at a large newsroom, and building an object per line cost far more than the SQL.
    """
    order = {"gift": 0, "refund": 1, "dispute": 2, "other": 3, "payout": 4}
    rows = session.execute(
        select(*_ITEM_COLUMNS, *_GIFT_COLUMNS)
        .outerjoin(Donation, Donation.id == PayoutItem.donation_id)
        .where(PayoutItem.payout_id == payout.id)
    ).all()
    split = len(_ITEM_COLUMNS)
    items = [(LineItem(*row[:split]), row[split:]) for row in rows]
    failed_ids = [item.stripe_source_id for item, _ in items if item.type == "payout_failure"]
    failed = {}
    if failed_ids:
        failed = {
            p.stripe_payout_id: p
            for p in session.scalars(select(Payout).where(Payout.stripe_payout_id.in_(failed_ids)))
        }
    lines = [
        PayoutLine(
            item,
            LineGift(*gift) if gift[0] is not None else None,
            failed.get(item.stripe_source_id or ""),
        )
        for item, gift in items
    ]
    return sorted(
        lines, key=lambda line: (order.get(line.item.kind, 5), line.item.stripe_created_at)
    )


@dataclass
class MonthEndRow:
    """One currency's month: received, paid out, in transit, failed, not in a payout yet."""

    currency: str
    received: MoneyRow | None = None
    paid_out_minor: int = 0
    paid_out: list[Payout] = field(default_factory=list)
    in_transit_minor: int = 0
    in_transit: list[Payout] = field(default_factory=list)
    failed_minor: int = 0
    failed: list[Payout] = field(default_factory=list)
    not_paid_out_minor: int = 0
    not_paid_out: int = 0


def month_end(session: Session, month: date) -> list[MonthEndRow]:
    """The month-end view of the month starting on `month` (its first day)."""
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    low, high = _bounds(first, last)
    rows: dict[str, MonthEndRow] = {}

    def row(currency: str) -> MonthEndRow:
        return rows.setdefault(currency, MonthEndRow(currency))

    for total in money_totals(money_received(session, first, last, Period.MONTH)):
        row(total.currency).received = total
    made_by_end = session.scalars(
        select(Payout)
        .where(Payout.stripe_created_at < high)
        .where((Payout.arrival_at >= low) | (Payout.status.in_(WAITING)))
        .order_by(Payout.arrival_at, Payout.id)
    )
    for payout in made_by_end:
        entry = row(payout.currency)
        if payout.status == PayoutStatus.PAID and low <= payout.arrival_at < high:
            entry.paid_out.append(payout)
            entry.paid_out_minor += payout.amount_minor
        elif payout.status in NOT_PAID:
            if payout.stripe_created_at >= low:
                entry.failed.append(payout)
                entry.failed_minor += payout.amount_minor
        elif payout.status in WAITING or payout.arrival_at >= high:
            entry.in_transit.append(payout)
            entry.in_transit_minor += payout.amount_minor
    # Not paid out yet: in no payout, or in a failed one whose money no later payout has
    # paid out again (that payout's payout_failure transaction names the failed one).
    again = aliased(PayoutItem)
    repaid = (
        select(again.id)
        .where(again.type == "payout_failure", again.stripe_source_id == Payout.stripe_payout_id)
        .exists()
    )
    waiting_for_payout = (
        select(
            Donation.currency,
            func.count(),
            func.sum(func.coalesce(Donation.net_minor, Donation.amount_minor)),
        )
        .outerjoin(Payout, Payout.id == Donation.payout_id)
        .where(Donation.paid_at >= low, Donation.paid_at < high)
        .where(Payout.id.is_(None) | (Payout.status.in_(NOT_PAID) & ~repaid))
        .group_by(Donation.currency)
    )
    for currency, count, net in session.execute(waiting_for_payout):
        entry = row(currency)
        entry.not_paid_out, entry.not_paid_out_minor = int(count), int(net or 0)
    return [rows[currency] for currency in sorted(rows)]
