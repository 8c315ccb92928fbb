"""Trends: a snapshot per day of the supporter count and recurring revenue, and its ranges.

A day's snapshot is computed from the ledger's dates as they stand at the end of that
UTC day: recurring gifts started before then and not ended by then, one-off gifts paid
in the supporter window before then. The daily job writes yesterday's; the back-fill
command writes any past days the same way, so both agree and running either twice
changes nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, case, delete, func, or_, select, union
from sqlalchemy.orm import Session

from service.core.jobs import JobRun
from service.core.settings import Settings
from service.ledger import (
    Donation,
    DonationStatus,
    Frequency,
    Interval,
    MonthlyDonation,
    MonthlyStatus,
)
from service.staff.models import DailySnapshot

TRENDS_KIND = "staff.trends_snapshot"
TRENDS_DEFINITION = (
    "Each point is the end of a UTC day. Supporters: distinct people with a recurring gift "
    "running at that time or a one-off gift in the supporter window before it (current "
    "refund and dispute state). Shown: the count plus the offset of supporters from before "
    "this service, as the widget showed it. Recurring revenue per month: every running "
    "monthly gift's amount plus one twelfth of every annual gift's, per currency, never "
    "added across currencies. Days before the service's daily job ran are back-filled from "
    "the ledger's dates the same way."
)
# Statuses a recurring gift may have now and still have been running in the past.
_WAS_RUNNING = (MonthlyStatus.ACTIVE, MonthlyStatus.PAST_DUE, MonthlyStatus.CANCELED)
_COUNTING = (DonationStatus.SUCCEEDED, DonationStatus.PARTIALLY_REFUNDED)


def end_of(day: date) -> datetime:
    """The first instant after a UTC day."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def _running_at(moment: datetime) -> ColumnElement[bool]:
    gift = MonthlyDonation
    ended = case(
        (
            gift.status == MonthlyStatus.CANCELED,
            func.coalesce(gift.ended_at, gift.canceled_at, gift.updated_at),
        ),
        else_=gift.ended_at,
    )
    started = func.coalesce(gift.started_at, gift.created_at)
    return (
        gift.status.in_(_WAS_RUNNING) & (started < moment) & or_(ended.is_(None), ended >= moment)
    )


@dataclass(frozen=True)
class Snapshot:
    day: date
    supporters: int
    displayed_supporters: int
    active_recurring: int
    recurring_monthly_minor: dict[str, int]


def compute_snapshot(session: Session, settings: Settings, day: date) -> Snapshot:
    """The day's figures from the ledger, as they stood at the end of the day."""
    moment = end_of(day)
    running = _running_at(moment)
    recurring_people = select(MonthlyDonation.supporter_id.label("supporter_id")).where(
        running, MonthlyDonation.supporter_id.is_not(None)
    )
    window_start = moment - timedelta(days=settings.supporter_window_days)
    one_off_people = select(Donation.supporter_id.label("supporter_id")).where(
        Donation.paid_at >= window_start,
        Donation.paid_at < moment,
        Donation.frequency == Frequency.ONE_OFF,
        Donation.status.in_(_COUNTING),
        Donation.supporter_id.is_not(None),
    )
    people = union(recurring_people, one_off_people).subquery()
    supporters = int(session.scalar(select(func.count()).select_from(people)) or 0)
    monthly_minor: dict[str, int] = {}
    active = 0
    rows = session.execute(
        select(
            MonthlyDonation.currency,
            MonthlyDonation.interval,
            func.count(),
            func.sum(MonthlyDonation.amount_minor),
        )
        .where(running)
        .group_by(MonthlyDonation.currency, MonthlyDonation.interval)
    )
    annual: dict[str, int] = {}
    for currency, interval, count, total in rows:
        active += int(count)
        target = annual if interval is Interval.YEAR else monthly_minor
        target[currency] = target.get(currency, 0) + int(total or 0)
    for currency, total in annual.items():
        monthly_minor[currency] = monthly_minor.get(currency, 0) + round(total / 12)
    return Snapshot(
        day,
        supporters,
        supporters + settings.supporter_count_offset,
        active,
        dict(sorted(monthly_minor.items())),
    )


def write_snapshot(session: Session, settings: Settings, day: date) -> Snapshot:
    """Compute and store one day's snapshot, replacing any earlier one for that day."""
    snapshot = compute_snapshot(session, settings, day)
    session.execute(delete(DailySnapshot).where(DailySnapshot.day == day))
    session.add(
        DailySnapshot(
            day=day,
            supporters=snapshot.supporters,
            displayed_supporters=snapshot.displayed_supporters,
            active_recurring=snapshot.active_recurring,
            recurring_monthly_minor=snapshot.recurring_monthly_minor,
        )
    )
    session.flush()
    return snapshot


def run_snapshot_job(run: JobRun) -> None:
    """The daily job: yesterday's snapshot (the day is in the payload)."""
    write_snapshot(run.session, run.settings, date.fromisoformat(str(run.payload["day"])))


class Step(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


# Days up to two weeks, weeks up to about four months, months beyond.
MAX_DAYS = 14
MAX_WEEKS = 17


def step_for(start: date, end: date) -> Step:
    """Days for a short range, weeks for a few months, months beyond."""
    days = (end - start).days + 1
    if days <= MAX_DAYS:
        return Step.DAY
    if days <= MAX_WEEKS * 7:
        return Step.WEEK
    return Step.MONTH


def _bucket(day: date, step: Step) -> date:
    if step is Step.WEEK:
        return day - timedelta(days=day.weekday())
    if step is Step.MONTH:
        return day.replace(day=1)
    return day


def point_label(day: date, step: Step) -> str:
    """Short, unambiguous labels: "3 Dec" (a day, or the Monday a week starts), "Dec 2025".

    A month always carries its year ("Dec 25" reads as a date); the page states the
    range's dates and years above the chart.
    """
    if step is Step.MONTH:
        return day.strftime("%b %Y")
    return f"{day.day} {day.strftime('%b')}"


@dataclass(frozen=True)
class TrendPoint:
    """The last snapshot of one day, week or month in the range."""

    bucket: date
    snapshot: Snapshot


@dataclass(frozen=True)
class Trends:
    start: date
    end: date
    step: Step
    points: list[TrendPoint]
    currencies: list[str]
    # Days in the range with no snapshot (not back-filled yet).
    missing_days: int

    def revenue(self, currency: str) -> list[int]:
        return [int(p.snapshot.recurring_monthly_minor.get(currency, 0)) for p in self.points]


def trends(session: Session, start: date, end: date) -> Trends:
    """Snapshots in the range, one point per day, week or month (its last day's).

    Plain rows, not ORM objects: two years are 730 small rows read by primary key.
    """
    step = step_for(start, end)
    rows = session.execute(
        select(
            DailySnapshot.day,
            DailySnapshot.supporters,
            DailySnapshot.displayed_supporters,
            DailySnapshot.active_recurring,
            DailySnapshot.recurring_monthly_minor,
        )
        .where(DailySnapshot.day >= start, DailySnapshot.day <= end)
        .order_by(DailySnapshot.day)
    ).all()
    last: dict[date, Snapshot] = {}
    for row in rows:
        last[_bucket(row.day, step)] = Snapshot(*row)
    currencies: set[str] = set()
    for snapshot in last.values():
        currencies.update(snapshot.recurring_monthly_minor)
    points = [TrendPoint(bucket, snap) for bucket, snap in sorted(last.items())]
    missing = (end - start).days + 1 - len(rows)
    return Trends(start, end, step, points, sorted(currencies), missing)


def snapshot_days(first: date, last: date) -> list[date]:
    """Every day from first to last, inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
