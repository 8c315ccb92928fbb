"""Campaign revenue: per variant and currency, one-off and recurring apart, with A/B notes."""

from __future__ import annotations

from datetime import timedelta
from math import erfc, sqrt

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.ledger.models import DonationStatus, Frequency
from service.staff.reports import (
    MIN_IMPRESSIONS_FOR_TEST,
    RevenueRow,
    campaign_performance,
    compare_revenue,
    revenue_p_value,
)
from tests.staff import factories
from tests.staff.factories import at
from tests.staff.helpers import arranged, sign_in

NOW = at(2026, 11, 18)


def _spring(session: Session) -> None:
    today = NOW.date()
    factories.counter(session, day=today, variant="a", impressions=2000)
    factories.counter(session, day=today, variant="b", placement="bottom", impressions=1000)
    d = factories.donation
    d(session, campaign="spring", variant="a", amount_minor=1000, paid_at=NOW)
    d(session, campaign="spring", variant="a", amount_minor=3000, paid_at=NOW)
    # Refunded in part: revenue is what was kept.
    d(
        session,
        campaign="spring",
        variant="a",
        amount_minor=2000,
        amount_refunded_minor=500,
        status=DonationStatus.PARTIALLY_REFUNDED,
        paid_at=NOW,
    )
    # Lost to a dispute: no revenue, still a gift made.
    d(
        session,
        campaign="spring",
        variant="a",
        amount_minor=700,
        status=DonationStatus.DISPUTE_LOST,
        paid_at=NOW,
    )
    d(
        session,
        campaign="spring",
        variant="a",
        amount_minor=500,
        frequency=Frequency.MONTHLY,
        paid_at=NOW,
    )
    d(
        session,
        campaign="spring",
        variant="a",
        amount_minor=500,
        frequency=Frequency.MONTHLY,
        paid_at=NOW,
    )
    d(session, campaign="spring", variant="b", amount_minor=5000, paid_at=NOW)
    d(session, campaign="spring", variant="b", amount_minor=4000, currency="gbp", paid_at=NOW)
    # Before the period.
    d(session, campaign="spring", variant="a", amount_minor=9999, paid_at=NOW - timedelta(days=40))


def test_revenue_per_variant_and_currency(session: Session) -> None:
    _spring(session)
    [spring] = campaign_performance(session, NOW - timedelta(days=30))
    rows = {(r.variant, r.currency): r for r in spring.revenue}
    a = rows[("a", "eur")]
    assert (a.one_off_gifts, a.one_off_minor) == (4, 1000 + 3000 + 1500 + 0)
    assert (a.recurring_payments, a.recurring_minor) == (2, 1000)
    assert a.gifts == 6 and a.revenue_minor == 6500
    assert a.average_minor == round(6500 / 6)
    assert a.impressions == 2000
    assert a.per_thousand_impressions_minor == 3250
    b = rows[("b", "eur")]
    assert (b.revenue_minor, b.per_thousand_impressions_minor) == (5000, 5000)
    gbp = rows[("b", "gbp")]
    assert (gbp.revenue_minor, gbp.impressions) == (4000, 1000)
    total = rows[("all", "eur")]
    assert (total.impressions, total.gifts, total.revenue_minor) == (3000, 7, 11500)
    assert total.per_thousand_impressions_minor == round(11500 * 1000 / 3000)
    assert rows[("all", "gbp")].revenue_minor == 4000
    # One note per currency for b against a; a has no GBP gifts at all.
    notes = {c.note.split(":")[0]: c for c in spring.revenue_comparisons}
    assert set(notes) == {"EUR", "GBP"}
    assert all(c.variant == "b" and c.control == "a" for c in spring.revenue_comparisons)
    assert "too few EUR gifts" in notes["EUR"].note


def _rows(
    revenue_b: int, squares_b: float, revenue_a: int, squares_a: float, n: int
) -> tuple[RevenueRow, RevenueRow]:
    b = RevenueRow("c", "b", "eur", n, 0, 0, 100, revenue_b, squares_b)
    a = RevenueRow("c", "a", "eur", n, 0, 0, 100, revenue_a, squares_a)
    return b, a


def test_the_revenue_test_is_welchs_z_on_revenue_per_impression() -> None:
    # 10,000 impressions each; b: 200 gifts of 1,000; a: 100 gifts of 1,000.
    n = 10_000
    b, a = _rows(200_000, 200 * 1000.0**2, 100_000, 100 * 1000.0**2, n)
    # Means 20 and 10; variances 2,000,000/10,000 - 400 = 19,600 and 10,000 - 100 = 9,900.
    expected_z = (20 - 10) / ((19_600 / n + 9_900 / n) ** 0.5)
    p = revenue_p_value(b, a)
    assert p is not None
    assert abs(p - erfc(expected_z / sqrt(2))) < 1e-12
    note = compare_revenue(b, a)
    assert note.significant and "raises more EUR per impression than a" in note.note


def test_the_revenue_note_is_honest_about_too_few_views() -> None:
    b, a = _rows(200_000, 2e8, 100_000, 1e8, MIN_IMPRESSIONS_FOR_TEST - 1)
    note = compare_revenue(b, a)
    assert not note.significant and "too few views" in note.note


def test_the_campaigns_page_shows_revenue(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session)
        today = utcnow().date()
        factories.counter(session, day=today, variant="a", impressions=2000)
        factories.counter(session, day=today, variant="b", impressions=1000)
        factories.donation(session, campaign="spring", variant="a", amount_minor=1000)
        factories.donation(
            session, campaign="spring", variant="a", amount_minor=500, frequency=Frequency.MONTHLY
        )
    assert sign_in(client, user.email).status_code == 302
    html = client.get("/staff/campaigns").get_data(as_text=True)
    assert 'data-revenue="a-eur"' in html
    assert "€15.00" in html  # a's revenue
    assert "€7.50" in html  # a's average gift and revenue per 1,000 impressions
    assert 'data-ab-revenue="b"' in html


def test_the_average_gift_gets_its_own_significance_note(session: Session) -> None:
    _spring(session)
    [spring] = campaign_performance(session, NOW - timedelta(days=30))
    notes = {c.note.split(":")[0]: c for c in spring.average_comparisons}
    assert set(notes) == {"EUR", "GBP"}
    assert "too few EUR gifts" in notes["EUR"].note and not notes["EUR"].significant


def test_the_average_gift_test_tells_a_real_difference_from_chance() -> None:
    from service.staff.reports.revenue import compare_average_gift

    # 100 gifts each: b averages €30 against a's €10, both spread by about €5.
    b = RevenueRow("c", "b", "eur", 5000, 100, 300_000, 0, 0, 100 * (3000**2 + 500**2))
    a = RevenueRow("c", "a", "eur", 5000, 100, 100_000, 0, 0, 100 * (1000**2 + 500**2))
    clear = compare_average_gift(b, a)
    assert clear.significant and "larger" in clear.note and clear.p_value is not None
    # The same averages from two gifts each cannot tell.
    b2 = RevenueRow("c", "b", "eur", 5000, 2, 6000, 0, 0, 2 * 3000**2 + 2 * 500**2)
    a2 = RevenueRow("c", "a", "eur", 5000, 2, 2000, 0, 0, 2 * 1000**2 + 2 * 500**2)
    assert not compare_average_gift(b2, a2).significant
