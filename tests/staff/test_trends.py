"""Trends: daily snapshots from the ledger's dates, the daily job, the back-fill, the page."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.jobs import Job, JobStatus, Worker, daily_key
from service.core.models import utcnow
from service.ledger.models import DonationStatus, Frequency, Interval, MonthlyStatus
from service.staff.models import DailySnapshot
from service.staff.reports.trends import (
    TRENDS_KIND,
    Step,
    compute_snapshot,
    point_label,
    step_for,
)
from tests.conftest import drain_jobs
from tests.staff import factories
from tests.staff.factories import at
from tests.staff.helpers import arranged, sign_in


def _ledger(session: Session) -> None:
    s, d, m = factories.supporter, factories.donation, factories.monthly
    monthly, annual, ended, later, one_off, old, refunded = (s(session) for _ in range(7))
    m(session, supporter_id=monthly.id, started_at=at(2026, 3, 1), amount_minor=500)
    m(
        session,
        supporter_id=annual.id,
        started_at=at(2026, 1, 15),
        interval=Interval.YEAR,
        amount_minor=12_000,
    )
    m(
        session,
        supporter_id=ended.id,
        started_at=at(2026, 1, 1),
        status=MonthlyStatus.CANCELED,
        canceled_at=at(2026, 5, 31),
        ended_at=at(2026, 5, 31),
        amount_minor=900,
    )
    m(session, supporter_id=later.id, started_at=at(2026, 7, 1), amount_minor=700)
    m(session, started_at=at(2026, 2, 1), amount_minor=300, currency="gbp")
    m(session, started_at=at(2026, 2, 1), status=MonthlyStatus.INCOMPLETE_EXPIRED)
    d(session, supporter_id=one_off.id, paid_at=at(2026, 4, 1))
    d(session, supporter_id=old.id, paid_at=at(2025, 5, 1))  # outside the 365-day window
    d(session, supporter_id=refunded.id, paid_at=at(2026, 4, 2), status=DonationStatus.REFUNDED)
    # A recurring payment counts its supporter through the gift, not as a one-off.
    d(session, supporter_id=monthly.id, paid_at=at(2026, 5, 1), frequency=Frequency.MONTHLY)


def test_a_snapshot_counts_what_was_running_at_the_end_of_the_day(
    app: Flask, session: Session
) -> None:
    _ledger(session)
    settings = app.extensions["settings"]
    snap = compute_snapshot(session, settings, date(2026, 6, 15))
    # monthly, annual, one-off; the gbp gift has no supporter row to count.
    assert snap.supporters == 3
    assert snap.displayed_supporters == 3 + settings.supporter_count_offset
    assert snap.active_recurring == 3
    assert snap.recurring_monthly_minor == {"eur": 500 + 1000, "gbp": 300}
    # Before the cancellation the cancelled gift still ran.
    may = compute_snapshot(session, settings, date(2026, 5, 30))
    assert (may.supporters, may.active_recurring) == (4, 4)
    assert may.recurring_monthly_minor["eur"] == 500 + 1000 + 900
    # After July 1st the later gift runs, and the one-off of April 1st still counts.
    july = compute_snapshot(session, settings, date(2026, 7, 2))
    assert (july.supporters, july.recurring_monthly_minor["eur"]) == (4, 2200)
    assert compute_snapshot(session, settings, date(2025, 12, 31)).supporters == 1


def test_backfill_writes_each_day_once_however_often_it_runs(app: Flask) -> None:
    with arranged(app) as session:
        _ledger(session)
    args = ["trends", "backfill", "--from", "2026-05-29", "--to", "2026-06-01"]
    for _ in range(2):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 0, result.output
        assert "4 day(s) written" in result.output
    with arranged(app) as session:
        rows = session.scalars(select(DailySnapshot).order_by(DailySnapshot.day)).all()
        assert [row.day for row in rows] == [date(2026, 5, 29) + timedelta(n) for n in range(4)]
        assert [row.active_recurring for row in rows] == [4, 4, 3, 3]


def test_backfill_refuses_days_not_over_yet_and_reversed_ranges(app: Flask) -> None:
    today = utcnow().date().isoformat()
    result = app.test_cli_runner().invoke(
        args=["trends", "backfill", "--from", "2026-01-01", "--to", today]
    )
    assert result.exit_code != 0 and "not over yet" in result.output
    result = app.test_cli_runner().invoke(
        args=["trends", "backfill", "--from", "2026-02-02", "--to", "2026-02-01"]
    )
    assert result.exit_code != 0 and "is after" in result.output


def test_the_worker_enqueues_one_snapshot_a_day_and_runs_it(app: Flask) -> None:
    with arranged(app) as session:
        factories.monthly(session, started_at=at(2020, 1, 1), amount_minor=800)
    first, second = Worker(app, name="one"), Worker(app, name="two")
    assert first.schedule_daily() >= 1
    # Another worker, or the same later the same day: nothing new.
    assert second.schedule_daily() == 0
    yesterday = utcnow().date() - timedelta(days=1)
    drain_jobs(app)
    with arranged(app) as session:
        job = session.scalar(select(Job).where(Job.key == daily_key(TRENDS_KIND, yesterday)))
        assert job is not None and job.status is JobStatus.DONE
        snapshot = session.get(DailySnapshot, yesterday)
        assert snapshot is not None
        assert snapshot.recurring_monthly_minor == {"eur": 800}
        assert session.scalar(select(func.count()).select_from(DailySnapshot)) == 1


def test_points_and_labels_stay_legible_over_any_range() -> None:
    assert step_for(date(2026, 1, 1), date(2026, 1, 14)) is Step.DAY
    assert step_for(date(2026, 1, 1), date(2026, 1, 15)) is Step.WEEK
    assert step_for(date(2026, 1, 1), date(2026, 3, 31)) is Step.WEEK
    assert step_for(date(2025, 1, 1), date(2026, 3, 31)) is Step.MONTH
    assert point_label(date(2025, 12, 1), Step.MONTH) == "Dec 2025"
    assert point_label(date(2025, 12, 1), Step.WEEK) == "1 Dec"
    assert point_label(date(2025, 12, 3), Step.DAY) == "3 Dec"


def test_the_trends_page_charts_a_range_and_explains_a_bad_one(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session)
        _ledger(session)
    result = app.test_cli_runner().invoke(
        args=["trends", "backfill", "--from", "2026-05-25", "--to", "2026-06-05"]
    )
    assert result.exit_code == 0, result.output
    assert sign_in(client, user.email).status_code == 302
    response = client.get("/staff/reports/trends?from=2026-05-25&to=2026-06-05")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Recurring revenue per month, EUR" in html and "Recurring revenue per month, GBP" in html
    assert "30 May" in html and "€24.00" in html and "€15.00" in html
    assert "no snapshot yet" not in html
    wider = client.get("/staff/reports/trends?from=2026-05-20&to=2026-06-05")
    assert "5 days in this range have no snapshot yet" in wider.get_data(as_text=True)
    bad_ranges = (
        "from=2026-06-05&to=2026-05-01",
        "to=9999-12-31",
        "from=%00",
        "from=1901-01-01&to=2026-01-01",
    )
    for query in bad_ranges:
        bad = client.get(f"/staff/reports/trends?{query}")
        # Shown again with the default range and why, never a 500.
        assert bad.status_code == 422, query
        assert 'role="alert"' in bad.get_data(as_text=True), query
