"""Money received: the page and its CSV, for any date range, per day, week or month."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from service.core.extensions import db
from service.core.input_guard import input_refusals, refuse_parameter
from service.core.models import utcnow
from service.staff import reports
from service.staff.csv_export import csv_response
from service.staff.views.common import date_arg, settings

CSV_HEADER = [
    "currency",
    "period",
    "period_start",
    "payments",
    "gross_minor",
    "refunds_minor",
    "disputes_minor",
    "fees_minor",
    "net_minor",
    "payments_without_fees_yet",
]


@dataclass(frozen=True)
class MoneyQuery:
    start: date
    end: date
    period: reports.Period
    currency: str


def _money_query() -> MoneyQuery:
    """Read from, to, period and currency; refuse what does not make sense, with why."""
    today = utcnow().date()
    start = date_arg("from") or today.replace(day=1)
    end = date_arg("to") or today
    if start > end:
        refuse_parameter("to", "The end date is before the start date; showing this month.")
        start, end = today.replace(day=1), today
    raw_period = request.args.get("period", "")
    try:
        period = reports.Period(raw_period or "day")
    except ValueError:
        refuse_parameter("period", "Choose a period of day, week or month; showing days.")
        period = reports.Period.DAY
    currency = request.args.get("currency", "").strip().lower()
    if currency and currency not in settings().supported_currencies:
        refuse_parameter(
            "currency",
            f"{currency[:8].upper()!r} is not a currency we take "
            f"({', '.join(c.upper() for c in settings().supported_currencies)}); "
            "showing every currency.",
        )
        currency = ""
    return MoneyQuery(start, end, period, currency)


def money() -> ResponseReturnValue:
    """Show money received per currency and period."""
    query = _money_query()
    rows = reports.money_received(
        db.session, query.start, query.end, query.period, query.currency or None
    )
    return render_template(
        "staff/money.html",
        query=query,
        rows=rows,
        totals=reports.money_totals(rows),
        label=reports.period_label,
        periods=[p.value for p in reports.Period],
        currencies=settings().supported_currencies,
        definition=reports.MONEY_DEFINITION,
    )


def money_csv() -> ResponseReturnValue:
    """Download money received as CSV: one row per currency and period, minor units."""
    query = _money_query()
    if input_refusals():
        # A spreadsheet cannot show a note: refuse rather than silently change the range.
        abort(422, " ".join(input_refusals().values()))
    rows = reports.money_received(
        db.session, query.start, query.end, query.period, query.currency or None
    )

    def lines() -> Iterator[list[Any]]:
        for row in rows:
            yield [
                row.currency,
                query.period.value,
                row.period_start.isoformat(),
                row.payments,
                row.gross_minor,
                row.refunds_minor,
                row.disputes_minor,
                row.fees_minor,
                row.net_minor,
                row.fees_unknown,
            ]

    name = f"money-{query.start.isoformat()}-{query.end.isoformat()}.csv"
    return csv_response(name, CSV_HEADER, lines)
