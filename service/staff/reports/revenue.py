"""Campaign revenue per variant and currency, and whether a variant's revenue differs."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from service.ledger import Donation, DonationStatus, Frequency
from service.staff.reports.funnel import (
    MIN_CONVERSIONS_FOR_TEST,
    MIN_IMPRESSIONS_FOR_TEST,
    SIGNIFICANCE_LEVEL,
    FunnelRow,
    VariantComparison,
)


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


def compare_average_gift(variant: RevenueRow, control: RevenueRow) -> VariantComparison:
    """Say honestly whether a variant's average gift differs (Welch's z-test on amounts)."""
    n1, n2 = variant.gifts, control.gifts
    p_value: float | None = None
    if n1 >= 2 and n2 >= 2:
        m1, m2 = variant.revenue_minor / n1, control.revenue_minor / n2
        v1 = max(variant.squares / n1 - m1 * m1, 0.0) * n1 / (n1 - 1)
        v2 = max(control.squares / n2 - m2 * m2, 0.0) * n2 / (n2 - 1)
        spread = v1 / n1 + v2 / n2
        if spread > 0:
            p_value = math.erfc(abs(m1 - m2) / math.sqrt(spread) / math.sqrt(2))
        elif m1 != m2:
            p_value = 0.0
    enough = n1 + n2 >= MIN_CONVERSIONS_FOR_TEST and min(n1, n2) >= 2
    significant = bool(enough and p_value is not None and p_value < SIGNIFICANCE_LEVEL)
    currency = variant.currency.upper()
    if not enough or p_value is None:
        note = (
            f"Not significant yet: too few {currency} gifts to tell (at least "
            f"{MIN_CONVERSIONS_FOR_TEST} between the two variants, two each)."
        )
    elif significant:
        bigger = (
            "larger" if (variant.average_minor or 0) > (control.average_minor or 0) else "smaller"
        )
        note = (
            f"Variant {variant.variant}'s gifts are {bigger} than {control.variant}'s "
            f"(p = {p_value:.3f}, significant at 95%)."
        )
    else:
        note = f"Not significant yet (p = {p_value:.2f}): the difference may be chance."
    return VariantComparison(
        variant=variant.variant,
        control=control.variant,
        rate=None if variant.average_minor is None else float(variant.average_minor),
        control_rate=None if control.average_minor is None else float(control.average_minor),
        p_value=p_value,
        significant=significant,
        note=f"{currency}: {note}",
    )


def _revenue_for(
    campaign: str, revenue: list[RevenueRow], variants: list[FunnelRow]
) -> tuple[list[RevenueRow], list[VariantComparison], list[VariantComparison]]:
    """Per-variant revenue with its impressions, the campaign's total, and the A/B notes
    on revenue per impression and on the average gift."""
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
    comparisons: list[VariantComparison] = []
    averages: list[VariantComparison] = []
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
                averages.append(compare_average_gift(row, control))
    return rows + totals, comparisons, averages
