"""Payouts: the list for a date range, one payout's contents, the month-end view, the CSV."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from service.core.extensions import db
from service.core.input_guard import input_refusals, refuse_parameter
from service.core.models import utcnow
from service.ledger import Payout
from service.staff import reports
from service.staff.csv_export import csv_response
from service.staff.reports.payouts import LIST_LIMIT
from service.staff.views.common import DATE_YEARS, date_arg, settings

CSV_HEADER = [
    "payout_id",
    "status",
    "created",
    "arrival_date",
    "currency",
    "amount_minor",
    "gifts",
    "gross_minor",
    "refunds_minor",
    "disputes_minor",
    "fees_minor",
    "other_minor",
    "net_minor",
    "contents_read",
]


@dataclass(frozen=True)
class PayoutQuery:
    start: date
    end: date
    currency: str


def _payout_query() -> PayoutQuery:
    """Read from, to and currency; refuse what does not make sense, with why."""
    today = utcnow().date()
    default_start = today - timedelta(days=90)
    start = date_arg("from") or default_start
    end = date_arg("to") or today
    if start > end:
        refuse_parameter("to", "The end date is before the start date; showing the last 90 days.")
        start, end = default_start, today
    currency = request.args.get("currency", "").strip().lower()
    if currency and currency not in settings().supported_currencies:
        refuse_parameter(
            "currency",
            f"{currency[:8].upper()!r} is not a currency we take "
            f"({', '.join(c.upper() for c in settings().supported_currencies)}); "
            "showing every currency.",
        )
        currency = ""
    return PayoutQuery(start, end, currency)


def payouts() -> ResponseReturnValue:
    """Show the payouts made in a date range, with what each paid out."""
    query = _payout_query()
    found = reports.payouts_between(db.session, query.start, query.end, query.currency or None)
    return render_template(
        "staff/payouts.html",
        query=query,
        payouts=found,
        totals=reports.payout_totals(found),
        limit=LIST_LIMIT,
        currencies=settings().supported_currencies,
        definition=reports.PAYOUTS_DEFINITION,
    )


def payout(payout_id: int) -> ResponseReturnValue:
    """Show one payout: its status and every gift, refund, dispute and fee in it."""
    found = db.session.get(Payout, payout_id)
    if found is None:
        abort(404, "There is no such payout.")
    return render_template(
        "staff/payout.html",
        payout=found,
        lines=reports.payout_lines(db.session, found),
        definition=reports.PAYOUTS_DEFINITION,
    )


def _month_arg() -> date:
    """The month asked for as YYYY-MM (this month when absent, or refused with why)."""
    this_month = utcnow().date().replace(day=1)
    raw = request.args.get("month", "")
    if not raw:
        return this_month
    try:
        month = date.fromisoformat(f"{raw}-01") if len(raw) == 7 else None
    except ValueError:
        month = None
    if month is None or month.year not in DATE_YEARS:
        refuse_parameter(
            "month", f"Enter a month as YYYY-MM; {raw[:20]!r} was ignored, showing this month."
        )
        return this_month
    return month


def month_end() -> ResponseReturnValue:
    """Show a month's close: received, paid out, in transit, failed, not paid out yet."""
    month = _month_arg()
    previous = (month - timedelta(days=1)).replace(day=1)
    following = (month + timedelta(days=32)).replace(day=1)
    return render_template(
        "staff/payouts_month.html",
        month=month,
        previous=previous,
        following=following,
        rows=reports.month_end(db.session, month),
        definition=reports.MONTH_END_DEFINITION,
    )


def payouts_csv() -> ResponseReturnValue:
    """Download the payouts of a date range as CSV: one row per payout, minor units."""
    query = _payout_query()
    if input_refusals():
        # A spreadsheet cannot show a note: refuse rather than silently change the range.
        abort(422, " ".join(input_refusals().values()))
    found = reports.payouts_between(db.session, query.start, query.end, query.currency or None)

    def lines() -> Iterator[list[Any]]:
        for row in found:
            yield [
                row.stripe_payout_id,
                row.status,
                row.stripe_created_at.date().isoformat(),
                row.arrival_at.date().isoformat(),
                row.currency,
                row.amount_minor,
                row.gifts,
                row.gross_minor,
                row.refunds_minor,
                row.disputes_minor,
                row.fees_minor,
                row.other_minor,
                row.net_minor,
                "yes" if row.contents_at else "no",
            ]

    name = f"payouts-{query.start.isoformat()}-{query.end.isoformat()}.csv"
    return csv_response(name, CSV_HEADER, lines)
