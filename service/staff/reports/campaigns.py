"""Campaign performance: the funnel and the revenue of every campaign, variant and placement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from service.staff.reports.funnel import FunnelRow, VariantComparison, compare_variants, funnel_rows
from service.staff.reports.revenue import RevenueRow, _revenue_for, revenue_rows


@dataclass(frozen=True)
class CampaignPerformance:
    campaign: str
    total: FunnelRow
    variants: list[FunnelRow]
    rows: list[FunnelRow]
    comparisons: list[VariantComparison]
    revenue: list[RevenueRow] = field(default_factory=list)
    revenue_comparisons: list[VariantComparison] = field(default_factory=list)
    average_comparisons: list[VariantComparison] = field(default_factory=list)


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
        money, money_notes, average_notes = _revenue_for(
            campaign, revenue.get(campaign, []), variants
        )
        result.append(
            CampaignPerformance(
                campaign=campaign,
                total=_sum_rows(campaign, "all", "all", rows),
                variants=variants,
                rows=rows,
                comparisons=comparisons,
                revenue=money,
                revenue_comparisons=money_notes,
                average_comparisons=average_notes,
            )
        )
    return result
