"""Money received: per currency and period, the page, the CSV and bad input."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.ledger.models import DonationStatus
from service.staff.reports import Period, money_received, money_totals, period_start
from tests.staff import factories
from tests.staff.helpers import arranged, sign_in


def _at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _ledger(session: Session) -> None:
    """Payments in two currencies over two months, a refund, disputes and a missing fee."""
    d = factories.donation
    d(session, amount_minor=1000, fee_minor=40, net_minor=960, paid_at=_at("2026-10-30"))
    d(session, amount_minor=2000, fee_minor=55, net_minor=1945, paid_at=_at("2026-11-02", 0))
    d(
        session,
        amount_minor=3000,
        fee_minor=70,
        net_minor=2930,
        paid_at=_at("2026-11-02", 23),
        amount_refunded_minor=500,
        refunded_at=_at("2026-11-03"),
        status=DonationStatus.PARTIALLY_REFUNDED,
    )
    d(
        session,
        amount_minor=4000,
        fee_minor=90,
        net_minor=3910,
        paid_at=_at("2026-11-04"),
        disputed_at=_at("2026-11-05"),
        status=DonationStatus.DISPUTE_LOST,
    )
    # A dispute the newsroom won: the money came back, so it is no dispute loss.
    d(
        session,
        amount_minor=600,
        fee_minor=30,
        net_minor=570,
        paid_at=_at("2026-11-04"),
        disputed_at=_at("2026-11-05"),
    )
    # No balance transaction yet: counted at gross, flagged.
    d(session, amount_minor=800, paid_at=_at("2026-11-06"))
    d(
        session,
        amount_minor=50000,
        currency="gbp",
        fee_minor=800,
        net_minor=49200,
        paid_at=_at("2026-11-02"),
    )


def test_money_per_day_never_adds_currencies(session: Session) -> None:
    _ledger(session)
    rows = money_received(session, date(2026, 11, 1), date(2026, 11, 30), Period.DAY)
    by_key = {(r.currency, r.period_start): r for r in rows}
    nov2 = by_key[("eur", date(2026, 11, 2))]
    assert (nov2.payments, nov2.gross_minor, nov2.fees_minor, nov2.net_minor) == (
        2,
        5000,
        125,
        4875,
    )
    nov3 = by_key[("eur", date(2026, 11, 3))]
    assert (nov3.payments, nov3.refunds_minor, nov3.net_minor) == (0, 500, -500)
    nov5 = by_key[("eur", date(2026, 11, 5))]
    assert (nov5.disputes_minor, nov5.net_minor) == (4000, -4000)
    gbp = by_key[("gbp", date(2026, 11, 2))]
    assert (gbp.gross_minor, gbp.fees_minor, gbp.net_minor) == (50000, 800, 49200)
    # October's payment is outside the range.
    assert all(r.period_start >= date(2026, 11, 1) for r in rows)

    eur, gbp_total = money_totals(rows)
    assert eur.currency == "eur" and gbp_total.currency == "gbp"
    assert eur.payments == 5
    assert eur.gross_minor == 2000 + 3000 + 4000 + 600 + 800
    assert eur.fees_minor == 55 + 70 + 90 + 30
    assert eur.fees_unknown == 1
    assert eur.net_minor == 1945 + 2930 + 3910 + 570 + 800 - 500 - 4000


@pytest.mark.parametrize(
    ("period", "starts"),
    [
        (Period.WEEK, [date(2026, 10, 26), date(2026, 11, 2)]),
        (Period.MONTH, [date(2026, 10, 1), date(2026, 11, 1)]),
    ],
)
def test_money_per_week_and_month(session: Session, period: Period, starts: list[date]) -> None:
    _ledger(session)
    rows = money_received(session, date(2026, 10, 1), date(2026, 11, 30), period, "eur")
    assert [r.period_start for r in rows] == starts
    assert [r.gross_minor for r in rows] == [1000, 10400]
    assert {r.currency for r in rows} == {"eur"}


def test_period_starts() -> None:
    assert period_start(date(2026, 11, 8), Period.WEEK) == date(2026, 11, 2)
    assert period_start(date(2026, 11, 8), Period.MONTH) == date(2026, 11, 1)
    assert period_start(date(2026, 11, 8), Period.DAY) == date(2026, 11, 8)


@pytest.fixture
def signed_in(app: Flask, client: FlaskClient) -> FlaskClient:
    with arranged(app) as session:
        user = factories.staff_user(session)
        _ledger(session)
    assert sign_in(client, user.email).status_code == 302
    return client


def test_the_money_page_shows_each_currency_and_its_totals(signed_in: FlaskClient) -> None:
    response = signed_in.get("/staff/reports/money?from=2026-11-01&to=2026-11-30&period=month")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Nov 2026" in html
    assert 'data-metric="gross-eur">€104.00' in html
    assert 'data-metric="gross-gbp">£500.00' in html
    assert "has not yet told us the fee for 1 payment" in html


def test_the_money_csv_has_one_row_per_currency_and_period(signed_in: FlaskClient) -> None:
    response = signed_in.get("/staff/reports/money.csv?from=2026-10-01&to=2026-11-30&period=month")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:9] == [
        "currency",
        "period",
        "period_start",
        "payments",
        "gross_minor",
        "refunds_minor",
        "disputes_minor",
        "fees_minor",
        "net_minor",
    ]
    assert rows[1:] == [
        ["eur", "month", "2026-10-01", "1", "1000", "0", "0", "40", "960", "0"],
        ["eur", "month", "2026-11-01", "5", "10400", "500", "4000", "245", "5655", "1"],
        ["gbp", "month", "2026-11-01", "1", "50000", "0", "0", "800", "49200", "0"],
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-11-01&to=9999-12-31", "Enter dates as YYYY-MM-DD"),
        ("from=2026-13-01", "Enter dates as YYYY-MM-DD"),
        ("from=2026-11-30&to=2026-11-01", "end date is before the start date"),
        ("currency=xyz", "is not a currency we take"),
        ("currency=%00", "control characters or invalid Unicode"),
        ("period=year", "Choose a period of day, week or month"),
    ],
)
def test_bad_input_gets_a_clear_message_not_a_500(
    signed_in: FlaskClient, query: str, message: str
) -> None:
    page = signed_in.get(f"/staff/reports/money?{query}")
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)
    download = signed_in.get(f"/staff/reports/money.csv?{query}")
    assert download.status_code == 422
    assert message in download.get_data(as_text=True)
