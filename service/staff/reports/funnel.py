"""The campaign funnel: impressions to completed gifts per variant, and A/B statistics.

The counts come from one UNION ALL over the widget's counters, checkout attempts and
completed gifts, grouped in SQL; the two-proportion z-test runs on the few rows it returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from service.appeals import AppealCounter
from service.ledger import CheckoutAttempt, Donation, DonationStatus, Frequency, MonthlyDonation

# Below this many impressions per variant an A/B difference is not worth testing.
MIN_IMPRESSIONS_FOR_TEST = 1000
MIN_CONVERSIONS_FOR_TEST = 10
SIGNIFICANCE_LEVEL = 0.05


@dataclass(frozen=True)
class FunnelRow:
    campaign: str
    variant: str
    placement: str
    impressions: int
    clicks: int
    checkouts: int
    completed: int

    @property
    def click_rate(self) -> float | None:
        return _rate(self.clicks, self.impressions)

    @property
    def checkout_rate(self) -> float | None:
        return _rate(self.checkouts, self.clicks)

    @property
    def completion_rate(self) -> float | None:
        return _rate(self.completed, self.checkouts)

    @property
    def conversion_rate(self) -> float | None:
        """Donations completed per impression: what the appeal is for."""
        return _rate(self.completed, self.impressions)


@dataclass(frozen=True)
class VariantComparison:
    variant: str
    control: str
    rate: float | None
    control_rate: float | None
    p_value: float | None
    significant: bool
    note: str


@dataclass(frozen=True)
class RevenueRow:
    """Money a campaign's variant brought in one currency (minor units, net of refunds).

    First gifts are one-off gifts; recurring payments are every payment of a monthly or
    annual gift (the gifts started are the funnel's conversions).
    """

    campaign: str
    variant: str
    currency: str
    impressions: int
    one_off_gifts: int
    one_off_minor: int
    recurring_payments: int
    recurring_minor: int
    # The sum of squared payment amounts, for the revenue test's variance.
    squares: float = 0.0

    @property
    def gifts(self) -> int:
        return self.one_off_gifts + self.recurring_payments

    @property
    def revenue_minor(self) -> int:
        return self.one_off_minor + self.recurring_minor

    @property
    def average_minor(self) -> int | None:
        return round(self.revenue_minor / self.gifts) if self.gifts else None

    @property
    def per_thousand_impressions_minor(self) -> int | None:
        """Revenue per 1,000 impressions (RPM), in minor units."""
        return round(self.revenue_minor * 1000 / self.impressions) if self.impressions else None


@dataclass(frozen=True)
class CampaignPerformance:
    campaign: str
    total: FunnelRow
    variants: list[FunnelRow]
    rows: list[FunnelRow]
    comparisons: list[VariantComparison]
    revenue: list[RevenueRow] = field(default_factory=list)
    revenue_comparisons: list[VariantComparison] = field(default_factory=list)


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def funnel_rows(session: Session, since: datetime) -> list[FunnelRow]:
    """Impressions → clicks → checkouts → donations per campaign, variant and placement."""
    # Each branch is grouped before the union, so the union holds a few rows per
    # campaign rather than one per checkout and donation (which spilled sorts to disk).
    zero = literal(0)

    def keys(model: Any) -> list[Any]:
        return [
            model.campaign,
            func.coalesce(model.variant, "").label("variant"),
            func.coalesce(model.placement, "").label("placement"),
        ]

    counter_keys = keys(AppealCounter)
    counters = (
        select(
            *counter_keys,
            func.sum(AppealCounter.impressions).label("impressions"),
            func.sum(AppealCounter.clicks).label("clicks"),
            zero.label("checkouts"),
            zero.label("completed"),
        )
        .where(AppealCounter.campaign.is_not(None), AppealCounter.day >= since.date())
        .group_by(*counter_keys)
    )
    attempt_keys = keys(CheckoutAttempt)
    attempts = (
        select(*attempt_keys, zero, zero, func.count(), zero)
        .where(CheckoutAttempt.campaign.is_not(None), CheckoutAttempt.created_at >= since)
        .group_by(*attempt_keys)
    )
    donation_keys = keys(Donation)
    one_offs = (
        select(*donation_keys, zero, zero, zero, func.count())
        .where(
            Donation.campaign.is_not(None),
            Donation.paid_at >= since,
            Donation.frequency == Frequency.ONE_OFF,
        )
        .group_by(*donation_keys)
    )
    # A monthly gift completes once, when it starts; its renewals are not new conversions.
    monthly_keys = keys(MonthlyDonation)
    monthlies = (
        select(*monthly_keys, zero, zero, zero, func.count())
        .where(MonthlyDonation.campaign.is_not(None), MonthlyDonation.started_at >= since)
        .group_by(*monthly_keys)
    )
    events = union_all(counters, attempts, one_offs, monthlies).subquery("events")
    rows = session.execute(
        select(
            events.c.campaign,
            events.c.variant,
            events.c.placement,
            func.sum(events.c.impressions),
            func.sum(events.c.clicks),
            func.sum(events.c.checkouts),
            func.sum(events.c.completed),
        )
        .group_by(events.c.campaign, events.c.variant, events.c.placement)
        .order_by(events.c.campaign, events.c.variant, events.c.placement)
    ).all()
    return [
        FunnelRow(c, v, p, int(i or 0), int(cl or 0), int(ch or 0), int(co or 0))
        for c, v, p, i, cl, ch, co in rows
    ]


def two_proportion_p_value(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> float | None:
    """Two-sided p-value of a two-proportion z-test (pooled); None when undefined."""
    if not trials_a or not trials_b:
        return None
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    variance = pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b)
    if variance <= 0:
        return None
    z = (successes_a / trials_a - successes_b / trials_b) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))


def compare_variants(variant: FunnelRow, control: FunnelRow) -> VariantComparison:
    """Say honestly whether a variant's conversion differs from the control's."""
    rate, control_rate = variant.conversion_rate, control.conversion_rate
    p_value = two_proportion_p_value(
        variant.completed, variant.impressions, control.completed, control.impressions
    )
    enough_views = min(variant.impressions, control.impressions) >= MIN_IMPRESSIONS_FOR_TEST
    enough_conversions = variant.completed + control.completed >= MIN_CONVERSIONS_FOR_TEST
    significant = bool(
        enough_views and enough_conversions and p_value is not None and p_value < SIGNIFICANCE_LEVEL
    )
    if not enough_views:
        note = (
            f"Not significant yet: too few views to tell (each variant needs at least "
            f"{MIN_IMPRESSIONS_FOR_TEST:,} impressions)."
        )
    elif not enough_conversions or p_value is None:
        note = (
            f"Not significant yet: too few donations to tell (at least "
            f"{MIN_CONVERSIONS_FOR_TEST} between the two variants)."
        )
    elif significant:
        better = "better" if (rate or 0) > (control_rate or 0) else "worse"
        note = (
            f"Variant {variant.variant} converts {better} than {control.variant} "
            f"(p = {p_value:.3f}, significant at 95%)."
        )
    else:
        note = f"Not significant yet (p = {p_value:.2f}): the difference may be chance."
    return VariantComparison(
        variant=variant.variant,
        control=control.variant,
        rate=rate,
        control_rate=control_rate,
        p_value=p_value,
        significant=significant,
        note=note,
    )


def _net_amount() -> Any:
    """A payment's amount after refunds; nothing while disputed or lost to a dispute."""
    return case(
        (Donation.status.in_((DonationStatus.DISPUTED, DonationStatus.DISPUTE_LOST)), 0),
        else_=Donation.amount_minor - Donation.amount_refunded_minor,
    )


def revenue_rows(session: Session, since: datetime) -> list[RevenueRow]:
    """Net revenue per campaign, variant and currency: one-off gifts and recurring payments.

    Impressions are filled in by `campaign_performance` from the funnel (they have no
    currency); this is one grouped scan of ix_donations_attributed_paid_at.
    """
    net = _net_amount()
    one_off = Donation.frequency == Frequency.ONE_OFF
    variant = func.coalesce(Donation.variant, "").label("variant")
    rows = session.execute(
        select(
            Donation.campaign,
            variant,
            Donation.currency,
            func.sum(case((one_off, 1), else_=0)),
            func.sum(case((one_off, net), else_=0)),
            func.sum(case((one_off, 0), else_=1)),
            func.sum(case((one_off, 0), else_=net)),
            func.sum(cast(net, Float) * cast(net, Float)),
        )
        .where(Donation.campaign.is_not(None), Donation.paid_at >= since)
        .group_by(Donation.campaign, variant, Donation.currency)
        .order_by(Donation.campaign, variant, Donation.currency)
    ).all()
    return [
        RevenueRow(
            campaign=c,
            variant=v,
            currency=cur,
            impressions=0,
            one_off_gifts=int(oc or 0),
            one_off_minor=int(om or 0),
            recurring_payments=int(rc or 0),
            recurring_minor=int(rm or 0),
            squares=float(sq or 0),
        )
        for c, v, cur, oc, om, rc, rm, sq in rows
    ]


def revenue_p_value(variant: RevenueRow, control: RevenueRow) -> float | None:
    """Two-sided p-value that revenue per impression differs (Welch's z-test)."""
    n1, n2 = variant.impressions, control.impressions
    if n1 < 2 or n2 < 2:
        return None
    m1, m2 = variant.revenue_minor / n1, control.revenue_minor / n2
    # Each impression gave its payment's amount, or nothing: the variance of that.
    v1 = max(variant.squares / n1 - m1 * m1, 0.0)
    v2 = max(control.squares / n2 - m2 * m2, 0.0)
    spread = v1 / n1 + v2 / n2
    if spread <= 0:
        return None
    z = (m1 - m2) / math.sqrt(spread)
    return math.erfc(abs(z) / math.sqrt(2))


def compare_revenue(variant: RevenueRow, control: RevenueRow) -> VariantComparison:
    """Say honestly whether a variant's revenue per impression differs from the control's."""
    rpm = variant.per_thousand_impressions_minor
    control_rpm = control.per_thousand_impressions_minor
    p_value = revenue_p_value(variant, control)
    enough_views = min(variant.impressions, control.impressions) >= MIN_IMPRESSIONS_FOR_TEST
    enough_gifts = variant.gifts + control.gifts >= MIN_CONVERSIONS_FOR_TEST
    significant = bool(
        enough_views and enough_gifts and p_value is not None and p_value < SIGNIFICANCE_LEVEL
    )
    currency = variant.currency.upper()
    if not enough_views:
        note = (
            f"Not significant yet: too few views to tell (each variant needs at least "
            f"{MIN_IMPRESSIONS_FOR_TEST:,} impressions)."
        )
    elif not enough_gifts or p_value is None:
        note = (
            f"Not significant yet: too few {currency} gifts to tell (at least "
            f"{MIN_CONVERSIONS_FOR_TEST} between the two variants)."
        )
    elif significant:
        better = "more" if (rpm or 0) > (control_rpm or 0) else "less"
        note = (
            f"Variant {variant.variant} raises {better} {currency} per impression than "
            f"{control.variant} (p = {p_value:.3f}, significant at 95%)."
        )
    else:
        note = f"Not significant yet (p = {p_value:.2f}): the difference may be chance."
    return VariantComparison(
        variant=variant.variant,
        control=control.variant,
        rate=None if rpm is None else rpm / 1000,
        control_rate=None if control_rpm is None else control_rpm / 1000,
        p_value=p_value,
        significant=significant,
        note=f"{currency}: {note}",
    )


def _revenue_for(
    campaign: str, revenue: list[RevenueRow], variants: list[FunnelRow]
) -> tuple[list[RevenueRow], list[VariantComparison]]:
    """Per-variant revenue with its impressions, the campaign's total, and the A/B notes."""
    impressions = {v.variant: v.impressions for v in variants}
    rows = [replace(r, impressions=impressions.get(r.variant, 0)) for r in revenue]
    total_impressions = sum(impressions.values())
    totals: list[RevenueRow] = []
    for currency in sorted({r.currency for r in rows}):
        mine = [r for r in rows if r.currency == currency]
        totals.append(
            RevenueRow(
                campaign,
                "all",
                currency,
                total_impressions,
                sum(r.one_off_gifts for r in mine),
                sum(r.one_off_minor for r in mine),
                sum(r.recurring_payments for r in mine),
                sum(r.recurring_minor for r in mine),
                sum(r.squares for r in mine),
            )
        )
    shown = [v.variant for v in variants if v.variant]
    comparisons = []
    if len(shown) > 1:
        for currency in sorted({r.currency for r in rows}):
            by_variant = {r.variant: r for r in rows if r.currency == currency}
            empty = RevenueRow(campaign, "", currency, 0, 0, 0, 0, 0)
            control = by_variant.get(shown[0]) or replace(
                empty, variant=shown[0], impressions=impressions[shown[0]]
            )
            for key in shown[1:]:
                row = by_variant.get(key) or replace(
                    empty, variant=key, impressions=impressions[key]
                )
                comparisons.append(compare_revenue(row, control))
    return rows + totals, comparisons


def _sum_rows(campaign: str, variant: str, placement: str, rows: list[FunnelRow]) -> FunnelRow:
    return FunnelRow(
        campaign,
        variant,
        placement,
        sum(r.impressions for r in rows),
        sum(r.clicks for r in rows),
        sum(r.checkouts for r in rows),
        sum(r.completed for r in rows),
    )


def campaign_performance(session: Session, since: datetime) -> list[CampaignPerformance]:
    """The funnel per campaign with per-variant totals and A/B notes (control = first)."""
    # Grouping the already-aggregated rows (a few per campaign) is cheap; the heavy
    # lifting happened in funnel_rows' single SQL query.
    by_campaign: dict[str, list[FunnelRow]] = {}
    for row in funnel_rows(session, since):
        by_campaign.setdefault(row.campaign, []).append(row)
    revenue: dict[str, list[RevenueRow]] = {}
    for earned in revenue_rows(session, since):
        revenue.setdefault(earned.campaign, []).append(earned)
    result = []
    for campaign, rows in by_campaign.items():
        variant_keys = sorted({r.variant for r in rows})
        variants = [
            _sum_rows(campaign, key, "all", [r for r in rows if r.variant == key])
            for key in variant_keys
        ]
        shown = [v for v in variants if v.variant]
        comparisons = [compare_variants(v, shown[0]) for v in shown[1:]] if len(shown) > 1 else []
        money, money_notes = _revenue_for(campaign, revenue.get(campaign, []), variants)
        result.append(
            CampaignPerformance(
                campaign=campaign,
                total=_sum_rows(campaign, "all", "all", rows),
                variants=variants,
                rows=rows,
                comparisons=comparisons,
                revenue=money,
                revenue_comparisons=money_notes,
            )
        )
    return result
