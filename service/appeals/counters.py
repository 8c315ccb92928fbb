"""Fold appeal beacons (impression, click, dismiss) into daily counters.

Each beacon is one INSERT ... ON CONFLICT DO UPDATE on the counter row for its day,
campaign, variant and placement: never a row per view, and safe under concurrency.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from sqlalchemy.orm import Session

from service.appeals.models import AppealCounter
from service.core.db import insert_or_update
from service.core.models import utcnow

EVENT_TYPES: Final = ("impression", "click", "dismiss")
_COLUMN_OF: Final = {"impression": "impressions", "click": "clicks", "dismiss": "dismissals"}


def record_appeal_event(
    session: Session,
    event_type: str,
    campaign: str,
    variant: str,
    placement: str,
    at: datetime | None = None,
) -> None:
    """Add one to the day's counter for this event, creating the row when needed."""
    column = _COLUMN_OF[event_type]
    day: date = (at or utcnow()).date()
    values = {
        "day": day,
        "campaign": campaign,
        "variant": variant,
        "placement": placement,
        "impressions": 0,
        "clicks": 0,
        "dismissals": 0,
    }
    values[column] = 1
    insert_or_update(
        session,
        AppealCounter.__table__,  # type: ignore[arg-type]
        values,
        conflict_on=("day", "campaign", "variant", "placement"),
        set_={column: getattr(AppealCounter, column) + 1},
    )
