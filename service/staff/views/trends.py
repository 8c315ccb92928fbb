"""Trends over any range: the supporter count and recurring revenue, from daily snapshots."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from service.core.extensions import db
from service.core.input_guard import refuse_parameter
from service.core.models import utcnow
from service.core.money import format_money
from service.staff import charts
from service.staff.reports import trends as report
from service.staff.views.common import date_arg

DEFAULT_DAYS = 90
# Ten years of days is a plenty long chart; longer ranges are typos.
MAX_DAYS = 3660


def trends() -> ResponseReturnValue:
    """Charts of the supporter count and recurring revenue per month over a range."""
    today = utcnow().date()
    default_end = today - timedelta(days=1)
    default_start = default_end - timedelta(days=DEFAULT_DAYS - 1)
    start = date_arg("from") or default_start
    end = date_arg("to") or default_end
    if start > end:
        refuse_parameter("to", "The end date is before the start date; showing the last 90 days.")
        start, end = default_start, default_end
    elif (end - start).days >= MAX_DAYS:
        refuse_parameter("from", "Choose a range of at most ten years; showing the last 90 days.")
        start, end = default_start, default_end
    found = report.trends(db.session, start, end)
    labels = [report.point_label(point.bucket, found.step) for point in found.points]
    count_chart = charts.line_chart(
        "Supporters",
        labels,
        [
            charts.Series("Supporters", [p.snapshot.supporters for p in found.points]),
            charts.Series("Shown", [p.snapshot.displayed_supporters for p in found.points]),
        ],
    )
    recurring_chart = charts.line_chart(
        "Recurring gifts running",
        labels,
        [charts.Series("Recurring gifts", [p.snapshot.active_recurring for p in found.points])],
    )
    revenue_charts: list[Markup] = []
    for currency in found.currencies:

        def fmt(value: float, currency: str = currency) -> str:
            return format_money(round(value), currency)

        revenue_charts.append(
            charts.line_chart(
                f"Recurring revenue per month, {currency.upper()}",
                labels,
                [charts.Series(currency.upper(), found.revenue(currency))],
                fmt,
            )
        )
    return render_template(
        "staff/trends.html",
        found=found,
        count_chart=count_chart,
        recurring_chart=recurring_chart,
        revenue_charts=revenue_charts,
        definition=report.TRENDS_DEFINITION,
    )
