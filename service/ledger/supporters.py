"""The supporter count: who counts, how it is kept, and how it is shown in copy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from service.core.i18n import gettext, number
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger.models import (
    FOREVER,
    SUPPORTING_MONTHLY_STATUSES,
    Donation,
    DonationStatus,
    Frequency,
    MonthlyDonation,
    Supporter,
)

DEFINITION = (
    "A supporter is a distinct person (by Stripe customer, joined by email) with an active "
    "or past-due monthly or annual donation, or a successful one-off donation in the last "
    "{window} days that was not fully refunded and has no open or lost dispute. The count "
    "adds {offset} supporters from before this service."
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

    847 -> "847", 1,000 -> "1,000", 5,432 -> "over 5,400", 12,345 -> "over 12,000"; in
    the language in force ("mehr als 5.400").
    Never overstates: the shown number is always at most the real one.
    """
    if count < 1000:
        return number(max(count, 0))
    magnitude = 10 ** (len(str(count)) - 2)
    floored = count // magnitude * magnitude
    if floored == count:
        return number(count)
    return gettext("over %(number)s", number=number(floored))


# Donation statuses that still count a one-off gift: a partial refund leaves a gift.
COUNTING_DONATION_STATUSES = frozenset(
    {DonationStatus.SUCCEEDED, DonationStatus.PARTIALLY_REFUNDED}
)


def expected_supported_until(
    has_supporting_monthly: bool, last_one_off_paid_at: datetime | None, settings: Settings
) -> datetime | None:
    """The definition, as a date: forever with a live recurring gift, else one window on."""
    if has_supporting_monthly:
        return FOREVER
    if last_one_off_paid_at is None:
        return None
    return last_one_off_paid_at + timedelta(days=settings.supporter_window_days)


def refresh_supporter(
    session: Session, supporter: Supporter, settings: Settings, now: datetime | None = None
) -> None:
    """Recompute one supporter's supported_until from their own ledger rows."""
    has_monthly = session.scalar(
        select(
            exists().where(
                MonthlyDonation.supporter_id == supporter.id,
                MonthlyDonation.status.in_(SUPPORTING_MONTHLY_STATUSES),
            )
        )
    )
    last_paid, first_paid = session.execute(
        select(
            func.max(Donation.paid_at).filter(
                Donation.frequency == Frequency.ONE_OFF,
                Donation.status.in_(COUNTING_DONATION_STATUSES),
            ),
            func.min(Donation.paid_at),
        ).where(Donation.supporter_id == supporter.id)
    ).one()
    supporter.supported_until = expected_supported_until(bool(has_monthly), last_paid, settings)
    if supporter.first_supported_at is None and supporter.supported_until is not None:
        started = session.scalar(
            select(func.min(MonthlyDonation.started_at)).where(
                MonthlyDonation.supporter_id == supporter.id
            )
        )
        candidates = [when for when in (first_paid, started) if when is not None]
        supporter.first_supported_at = min(candidates) if candidates else (now or utcnow())


@dataclass(frozen=True)
class SupporterChange:
    """One supporter whose maintained supported_until disagreed with the ledger."""

    supporter_id: int
    was: datetime | None
    now: datetime | None


@dataclass(frozen=True)
class RecountReport:
    """What a recount found: the count before and after, and every row it corrected."""

    count_before: int
    count_after: int
    changes: list[SupporterChange] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.changes


def recount(session: Session, settings: Settings, now: datetime | None = None) -> RecountReport:
    """Recompute every supporter's supported_until from the ledger and fix any difference."""
    now = now or utcnow()
    count_before = count_supporters(session, settings, now)
    monthly = (
        select(MonthlyDonation.supporter_id.label("supporter_id"))
        .where(MonthlyDonation.status.in_(SUPPORTING_MONTHLY_STATUSES))
        .group_by(MonthlyDonation.supporter_id)
        .subquery()
    )
    one_offs = (
        select(
            Donation.supporter_id.label("supporter_id"),
            func.max(Donation.paid_at).label("last_paid_at"),
        )
        .where(
            Donation.frequency == Frequency.ONE_OFF,
            Donation.status.in_(COUNTING_DONATION_STATUSES),
        )
        .group_by(Donation.supporter_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Supporter.id,
            Supporter.supported_until,
            monthly.c.supporter_id.is_not(None),
            one_offs.c.last_paid_at,
        )
        .outerjoin(monthly, monthly.c.supporter_id == Supporter.id)
        .outerjoin(one_offs, one_offs.c.supporter_id == Supporter.id)
    ).all()
    changes: list[SupporterChange] = []
    for supporter_id, stored, has_monthly, last_paid in rows:
        # func.max over a TypeDecorator column comes back naive on SQLite.
        if last_paid is not None and last_paid.tzinfo is None:
            last_paid = last_paid.replace(tzinfo=UTC)
        expected = expected_supported_until(bool(has_monthly), last_paid, settings)
        if stored != expected:
            changes.append(SupporterChange(supporter_id, stored, expected))
    if changes:
        session.execute(
            update(Supporter),
            [{"id": change.supporter_id, "supported_until": change.now} for change in changes],
        )
        session.flush()
    return RecountReport(count_before, count_supporters(session, settings, now), changes)
