"""The campaign funnel: impressions to completed gifts per variant, and A/B statistics.

The counts come from one UNION ALL over the widget's counters, checkout attempts and
completed gifts, grouped in SQL; the two-proportion z-test runs on the few rows it returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session

from service.appeals import AppealCounter
from service.ledger import CheckoutAttempt, Donation, Frequency, MonthlyDonation

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
