"""Report aggregates: every number checked against hand-made rows on both backends."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from service.core.settings import Settings
from service.ledger.models import DonationStatus, Frequency, Interval, MonthlyStatus
from service.staff.reports import (
    MIN_IMPRESSIONS_FOR_TEST,
    FunnelRow,
    build_dashboard,
    campaign_performance,
    compare_variants,
    month_starts,
    two_proportion_p_value,
    week_starts,
)
from tests.staff import factories
from tests.staff.factories import at

NOW = at(2026, 11, 18)  # a Wednesday


def _settings(**overrides: object) -> Settings:
    return Settings(env="test").with_overrides(overrides)


def test_month_and_week_edges_are_calendar_aligned() -> None:
    months = month_starts(NOW)
    assert months[0] == at(2025, 12, 1, 0) and months[-2] == at(2026, 11, 1, 0)
    assert months[-1] == at(2026, 12, 1, 0) and len(months) == 13
    weeks = week_starts(NOW)
    assert weeks[-2] == at(2026, 11, 16, 0) and weeks[-2].weekday() == 0
    assert weeks[0] == at(2026, 8, 31, 0) and len(weeks) == 13


def test_supporters_with_offset_and_definition(session: Session) -> None:
    factories.supporter(session, supported_until=NOW + timedelta(days=1))
    factories.supporter(session, supported_until=NOW - timedelta(days=1))
    board = build_dashboard(session, _settings(supporter_count_offset=5000), NOW)
    assert board.supporters.count == 5001
    assert board.supporters.display == "over 5,000"
    assert "5,000 supporters from before" in board.supporters.definition


def test_monthly_recurring_revenue_and_at_risk_per_currency(session: Session) -> None:
    factories.monthly(session, amount_minor=500)
    factories.monthly(session, amount_minor=1500)
    factories.monthly(session, amount_minor=300, currency="gbp")
    factories.monthly(session, amount_minor=700, status=MonthlyStatus.PAST_DUE)
    factories.monthly(session, amount_minor=9999, status=MonthlyStatus.CANCELED)
    board = build_dashboard(session, _settings(), NOW)
    eur, gbp = board.monthly
    assert (eur.currency, eur.active, eur.mrr_minor, eur.past_due, eur.past_due_minor) == (
        "eur",
        2,
        2000,
        1,
        700,
    )
    assert (gbp.currency, gbp.active, gbp.mrr_minor, gbp.past_due) == ("gbp", 1, 300, 0)


def test_annual_gifts_are_recurring_revenue_a_twelfth_a_month_and_whole_a_year(
    session: Session,
) -> None:
    factories.monthly(session, amount_minor=1000)
    factories.monthly(session, amount_minor=12000, interval=Interval.YEAR)
    factories.monthly(session, amount_minor=5000, interval=Interval.YEAR)
    factories.monthly(
        session, amount_minor=2400, interval=Interval.YEAR, status=MonthlyStatus.PAST_DUE
    )
    factories.monthly(
        session, amount_minor=99999, interval=Interval.YEAR, status=MonthlyStatus.CANCELED
    )
    board = build_dashboard(session, _settings(), NOW)
    [eur] = board.monthly
    assert (eur.active, eur.active_annual) == (3, 2)
    # 1000 a month + (12000 + 5000) / 12 = 1000 + 1416.67, floored: never overstated.
    assert eur.mrr_minor == 1000 + 1416
    assert eur.arr_minor == 1000 * 12 + 17000
    assert (eur.past_due, eur.past_due_minor) == (1, 200)


def test_one_off_revenue_this_month_and_over_twelve_months(session: Session) -> None:
    factories.donation(session, amount_minor=1000, paid_at=at(2026, 11, 2))
    factories.donation(
        session,
        amount_minor=2000,
        amount_refunded_minor=500,
        paid_at=at(2026, 11, 3),
        status=DonationStatus.PARTIALLY_REFUNDED,
    )
    factories.donation(
        session, amount_minor=4000, paid_at=at(2026, 11, 4), status=DonationStatus.DISPUTED
    )
    factories.donation(session, amount_minor=3000, paid_at=at(2026, 1, 15))
    factories.donation(session, amount_minor=8000, paid_at=at(2025, 11, 30))  # too old
    factories.donation(session, amount_minor=600, paid_at=at(2026, 11, 5), currency="usd")
    factories.donation(
        session, amount_minor=500, paid_at=at(2026, 11, 5), frequency=Frequency.MONTHLY
    )  # monthly payments are not one-off
    board = build_dashboard(session, _settings(), NOW)
    eur, usd = board.one_off
    assert (eur.month_count, eur.month_gross_minor, eur.month_net_minor) == (3, 7000, 2500)
    assert (eur.year_count, eur.year_gross_minor, eur.year_net_minor) == (4, 10000, 5500)
    assert eur.by_month_minor == (0, 3000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2500)
    assert board.month_labels[0] == "Dec 2025" and board.month_labels[-1] == "Nov 2026"
    assert (usd.month_net_minor, usd.year_count) == (600, 1)


def test_new_supporters_and_cancellations_per_week(session: Session) -> None:
    factories.supporter(session, first_supported_at=at(2026, 11, 16))  # this week
    factories.supporter(session, first_supported_at=at(2026, 11, 18))  # this week
    factories.supporter(session, first_supported_at=at(2026, 11, 15))  # last week (Sunday)
    factories.supporter(session, first_supported_at=at(2026, 1, 1))  # outside
    factories.monthly(session, status=MonthlyStatus.CANCELED, canceled_at=at(2026, 9, 1))
    board = build_dashboard(session, _settings(), NOW)
    weekly = board.weekly
    assert weekly.week_starts[-1] == date(2026, 11, 16)
    assert weekly.new_supporters[-2:] == (1, 2) and sum(weekly.new_supporters) == 3
    assert weekly.cancellations[0] == 1 and sum(weekly.cancellations) == 1


def test_refunds_and_disputes_in_the_last_twelve_months(session: Session) -> None:
    factories.donation(
        session,
        amount_minor=2000,
        amount_refunded_minor=2000,
        status=DonationStatus.REFUNDED,
        refunded_at=at(2026, 10, 1),
    )
    factories.donation(
        session, amount_minor=3000, status=DonationStatus.DISPUTE_LOST, disputed_at=at(2026, 6, 1)
    )
    factories.donation(
        session, amount_minor=1000, status=DonationStatus.DISPUTED, disputed_at=at(2026, 11, 1)
    )
    factories.donation(
        session,
        amount_minor=1000,
        amount_refunded_minor=1000,
        status=DonationStatus.REFUNDED,
        refunded_at=at(2024, 1, 1),
    )
    (eur,) = build_dashboard(session, _settings(), NOW).refunds_disputes
    assert (eur.refunds, eur.refunded_minor) == (1, 2000)
    assert (eur.disputes, eur.disputed_minor, eur.disputes_lost) == (2, 4000, 1)


def test_the_campaign_funnel_per_variant_and_placement(session: Session) -> None:
    today = NOW.date()
    factories.counter(session, day=today, variant="a", placement="top", impressions=100, clicks=10)
    factories.counter(
        session,
        day=today - timedelta(days=1),
        variant="a",
        placement="top",
        impressions=50,
        clicks=5,
    )
    factories.counter(session, day=today, variant="b", placement="bottom", impressions=80, clicks=4)
    factories.counter(
        session, day=today - timedelta(days=400), variant="a", placement="top", impressions=999
    )  # outside the period
    for _ in range(3):
        factories.attempt(session, campaign="spring", variant="a", placement="top", created_at=NOW)
    factories.donation(session, campaign="spring", variant="a", placement="top", paid_at=NOW)
    factories.monthly(session, campaign="spring", variant="a", placement="top", started_at=NOW)
    # A renewal is a payment, not a new conversion.
    factories.donation(
        session,
        campaign="spring",
        variant="a",
        placement="top",
        paid_at=NOW,
        frequency=Frequency.MONTHLY,
    )
    factories.attempt(session, campaign="other", created_at=NOW)
    result = {p.campaign: p for p in campaign_performance(session, NOW - timedelta(days=30))}
    spring = result["spring"]
    rows = {(r.variant, r.placement): r for r in spring.rows}
    top_a = rows[("a", "top")]
    assert (top_a.impressions, top_a.clicks, top_a.checkouts, top_a.completed) == (150, 15, 3, 2)
    assert top_a.click_rate == 0.1 and top_a.conversion_rate == 2 / 150
    assert rows[("b", "bottom")].impressions == 80
    assert (spring.total.impressions, spring.total.completed) == (230, 2)
    assert [c.variant for c in spring.comparisons] == ["b"]
    assert spring.comparisons[0].note.startswith("Not significant yet: too few views")
    other = result["other"]
    assert (other.total.checkouts, other.rows[0].variant) == (1, "")


def test_the_z_test_matches_a_textbook_value() -> None:
    # 200/1000 vs 150/1000: pooled 0.175, z = 2.94, two-sided p = 0.0033.
    p = two_proportion_p_value(200, 1000, 150, 1000)
    assert p is not None and abs(p - 0.0033) < 0.0001
    assert two_proportion_p_value(0, 0, 1, 10) is None
    assert two_proportion_p_value(0, 10, 0, 10) is None


def _row(variant: str, impressions: int, completed: int) -> FunnelRow:
    return FunnelRow("c", variant, "all", impressions, 0, 0, completed)


def test_ab_notes_are_honest() -> None:
    enough = MIN_IMPRESSIONS_FOR_TEST
    clear = compare_variants(_row("b", enough * 10, 400), _row("a", enough * 10, 200))
    assert clear.significant and "better" in clear.note and "significant at 95%" in clear.note
    close = compare_variants(_row("b", enough, 21), _row("a", enough, 20))
    assert not close.significant and close.note.startswith("Not significant yet (p = ")
    few_views = compare_variants(_row("b", 100, 50), _row("a", 100, 1))
    assert not few_views.significant and "too few views" in few_views.note
    few_donations = compare_variants(_row("b", enough, 4), _row("a", enough, 0))
    assert not few_donations.significant and "too few donations" in few_donations.note
