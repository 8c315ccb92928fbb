"""Billing periods: calendar months and years anchored on the day a subscription began."""

from __future__ import annotations

import calendar
import datetime as dt

_SECONDS = {"day": 86400, "week": 7 * 86400}


def period_boundary(anchor: int, interval: str, interval_count: int, cycles: int) -> int:
    """The timestamp ``cycles`` periods after ``anchor``.

    Months keep the anchor's day and clamp it to short months (31 Jan -> 28 Feb -> 31 Mar),
    counting from the anchor each time so a clamp never drifts, as Stripe bills.
    """
    if interval in _SECONDS:
        return anchor + _SECONDS[interval] * interval_count * cycles
    months = interval_count * cycles * (12 if interval == "year" else 1)
    start = dt.datetime.fromtimestamp(anchor, dt.UTC)
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())
