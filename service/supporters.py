"""The supporter count: who counts, how it is kept, and how it is shown in copy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Supporter, utcnow
from service.settings import Settings

DEFINITION = (
    "A supporter is a distinct person (by Stripe customer, joined by email) with an active "
    "or past-due monthly donation, or a successful one-off donation that was not refunded "
    "or disputed in the last {window} days. The count adds {offset} supporters from before "
    "this service."
)


def describe_count(settings: Settings) -> str:
    """The definition shown to staff next to every count."""
    return DEFINITION.format(
        window=settings.supporter_window_days, offset=f"{settings.supporter_count_offset:,}"
    )


def count_supporters(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Count supporters from the maintained supported_until column, plus the offset."""
    now = now or utcnow()
    live = session.scalar(
        select(func.count()).select_from(Supporter).where(Supporter.supported_until > now)
    )
    return int(live or 0) + settings.supporter_count_offset


def display_count(count: int) -> str:
    """A friendly floor for copy: exact below 1,000, then two significant figures.

    847 -> "847", 1,000 -> "1,000", 5,432 -> "over 5,400", 12,345 -> "over 12,000".
    Never overstates: the shown number is always at most the real one.
    """
    if count < 1000:
        return f"{max(count, 0):,}"
    magnitude = 10 ** (len(str(count)) - 2)
    floored = count // magnitude * magnitude
    return f"{count:,}" if floored == count else f"over {floored:,}"
