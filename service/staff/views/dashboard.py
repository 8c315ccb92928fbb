"""The dashboard: supporters, monthly gifts, one-off revenue, refunds and weekly trends."""

from __future__ import annotations

from functools import partial

from flask import render_template
from flask.typing import ResponseReturnValue

from service.core.extensions import db
from service.core.money import format_money, minor_unit_factor, to_major
from service.staff import charts, reports
from service.staff.views.common import settings


def _chart_money(value: float, currency: str) -> str:
    """Format a chart value (units of the currency) for people."""
    return format_money(round(value * minor_unit_factor(currency)), currency)


def dashboard() -> ResponseReturnValue:
    """Show the dashboard's numbers and charts."""
    board = reports.build_dashboard(db.session, settings())
    revenue_charts = [
        charts.bar_chart(
            f"Net one-off revenue per month ({row.currency.upper()})",
            # "Dec 2025", never "Dec 25", which reads as a date.
            list(board.month_labels),
            [
                charts.Series(
                    row.currency.upper(),
                    [float(to_major(v, row.currency)) for v in row.by_month_minor],
                )
            ],
            fmt=partial(_chart_money, currency=row.currency),
        )
        for row in board.one_off
    ]
    # Weeks start on Monday; the label is that Monday with its year ("1 Dec 2025").
    week_labels = [f"{day.day} {day:%b %Y}" for day in board.weekly.week_starts]
    trend_chart = charts.line_chart(
        "New supporters and recurring gifts cancelled per week (weeks start on Monday)",
        week_labels,
        [
            charts.Series("New supporters", board.weekly.new_supporters),
            # Monthly and annual gifts alike: both are counted.
            charts.Series("Recurring gifts cancelled", board.weekly.cancellations),
        ],
    )
    return render_template(
        "staff/dashboard.html",
        board=board,
        revenue_charts=revenue_charts,
        trend_chart=trend_chart,
    )
