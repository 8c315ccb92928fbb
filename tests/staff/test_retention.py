"""Churn per month and retention by cohort, checked against hand-made rows."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.ledger.models import Frequency, MonthlyStatus
from service.staff.reports import churn_by_month, cohort_retention
from tests.staff import factories
from tests.staff.factories import at
from tests.staff.helpers import arranged, sign_in

NOW = at(2026, 11, 18)


def test_churn_is_cancelled_over_active_at_the_start_of_each_month(session: Session) -> None:
    m = factories.monthly
    m(session, started_at=at(2026, 8, 3))
    m(session, started_at=at(2026, 9, 20))
    m(
        session,
        started_at=at(2026, 8, 10),
        status=MonthlyStatus.CANCELED,
        canceled_at=at(2026, 10, 5),
        ended_at=at(2026, 10, 5),
    )
    # Started and cancelled within October: not active at October's start.
    m(
        session,
        started_at=at(2026, 10, 2),
        status=MonthlyStatus.CANCELED,
        canceled_at=at(2026, 10, 20),
    )
    # Never really started.
    m(session, started_at=at(2026, 8, 1), status=MonthlyStatus.INCOMPLETE_EXPIRED)
    rows = {row.month: row for row in churn_by_month(session, NOW)}
    assert len(rows) == 12
    september, october, november = (
        rows[date(2026, 9, 1)],
        rows[date(2026, 10, 1)],
        rows[date(2026, 11, 1)],
    )
    assert (september.active_at_start, september.cancelled) == (2, 0)
    assert (october.active_at_start, october.cancelled) == (3, 1)
    assert october.churn == 1 / 3
    assert (november.active_at_start, november.cancelled) == (2, 0)
    assert rows[date(2025, 12, 1)].churn is None


def test_retention_by_cohort_counts_supporters_paying_in_later_months(session: Session) -> None:
    s = factories.supporter
    d = factories.donation
    one = s(session, first_supported_at=at(2026, 9, 5))
    two = s(session, first_supported_at=at(2026, 9, 25))
    three = s(session, first_supported_at=at(2026, 10, 1))
    s(session, first_supported_at=at(2024, 1, 1))  # outside the 12 months
    d(session, supporter_id=one.id, paid_at=at(2026, 9, 5), frequency=Frequency.MONTHLY)
    d(session, supporter_id=one.id, paid_at=at(2026, 10, 5), frequency=Frequency.MONTHLY)
    d(session, supporter_id=one.id, paid_at=at(2026, 11, 5), frequency=Frequency.MONTHLY)
    d(session, supporter_id=two.id, paid_at=at(2026, 9, 25))
    d(session, supporter_id=two.id, paid_at=at(2026, 11, 2))
    d(session, supporter_id=two.id, paid_at=at(2026, 11, 9))  # same month: one supporter
    d(session, supporter_id=three.id, paid_at=at(2026, 10, 1))
    cohorts = {c.cohort: c for c in cohort_retention(session, NOW)}
    assert set(cohorts) == {date(2026, 9, 1), date(2026, 10, 1)}
    september = cohorts[date(2026, 9, 1)]
    assert (september.size, september.giving) == (2, (2, 1, 2))
    assert september.share(1) == 0.5
    october = cohorts[date(2026, 10, 1)]
    assert (october.size, october.giving) == (1, (1, 0))
    assert october.share(2) is None


def test_the_retention_page(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session)
        factories.monthly(session, started_at=at(2020, 1, 1))
    assert sign_in(client, user.email).status_code == 302
    response = client.get("/staff/reports/retention")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Recurring gifts lost per month" in html and "0.0%" in html
