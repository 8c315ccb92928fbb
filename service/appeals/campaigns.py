"""Campaigns as the decision sees them: active rows loaded into CampaignSpecs.

Caching them lives in service.appeals.cache, editing them in service.appeals.editing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from service.appeals.asks import Asks, asks_from_json
from service.appeals.decision import CampaignSpec, Copy, VariantSpec, normalise
from service.appeals.models import AppealCopy, Campaign, CampaignAsk, CampaignVariant
from service.core.models import utcnow


def stored_asks(row: CampaignAsk) -> Asks:
    """A campaign_asks row as Asks."""
    return asks_from_json(
        {
            "frequencies": row.frequencies,
            "default_frequency": row.default_frequency,
            "amounts": row.amounts,
            "default_amounts": row.default_amounts,
            "minimum": row.minimum_minor,
        }
    )


def to_spec(campaign: Campaign) -> CampaignSpec:
    """Turn a campaign row (with variants and copies loaded) into a decision spec."""
    thank_you = None
    if campaign.thank_you_heading or campaign.thank_you_body:
        thank_you = Copy(campaign.thank_you_heading or "", campaign.thank_you_body or "", "")
    return CampaignSpec(
        slug=campaign.slug,
        name=campaign.name,
        priority=campaign.priority,
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
        goal=campaign.goal_supporters,
        goal_behaviour=campaign.goal_behaviour.value,
        goal_step=campaign.goal_step,
        thank_you=thank_you,
        include_sections=frozenset(map(normalise, campaign.include_sections or ())),
        exclude_sections=frozenset(map(normalise, campaign.exclude_sections or ())),
        include_tags=frozenset(map(normalise, campaign.include_tags or ())),
        exclude_tags=frozenset(map(normalise, campaign.exclude_tags or ())),
        min_articles_read=campaign.min_articles_read,
        formats=frozenset(campaign.formats or ("inline",)),
        max_views=campaign.max_views,
        views_days=campaign.views_days,
        max_dismissals=campaign.max_dismissals,
        devices=frozenset(campaign.devices or ()),
        referrers=frozenset(campaign.referrers or ()),
        countries=frozenset(c.upper() for c in campaign.countries or ()),
        donor_states=frozenset(campaign.donor_states or ()),
        variants=tuple(
            VariantSpec(
                key=variant.key,
                weight=variant.weight,
                copies={
                    copy.placement.value: Copy(copy.heading, copy.body, copy.cta)
                    for copy in variant.copies
                },
                translations=_translations(variant),
                asks={ask.currency: stored_asks(ask) for ask in variant.asks},
            )
            for variant in campaign.variants
        ),
    )


def _translations(variant: CampaignVariant) -> dict[str, dict[str, Copy]]:
    """Language -> placement -> copy, from the variant's translated copy."""
    found: dict[str, dict[str, Copy]] = {}
    for copy in variant.copies:
        for text in copy.translations:
            found.setdefault(text.language, {})[copy.placement.value] = Copy(
                text.heading, text.body, text.cta
            )
    return found


def load_campaign_specs(session: Session, now: datetime | None = None) -> tuple[CampaignSpec, ...]:
    """Load the active campaigns that have not ended, as decision specs."""
    now = now or utcnow()
    rows = session.scalars(
        select(Campaign)
        .where(Campaign.active.is_(True), or_(Campaign.ends_at.is_(None), Campaign.ends_at > now))
        .options(
            selectinload(Campaign.variants)
            .selectinload(CampaignVariant.copies)
            .selectinload(AppealCopy.translations),
            selectinload(Campaign.variants).selectinload(CampaignVariant.asks),
        )
        .order_by(Campaign.priority.desc(), Campaign.slug)
    ).all()
    return tuple(to_spec(row) for row in rows)


def known_attribution(
    session: Session, campaign: str | None, variant: str | None
) -> tuple[str | None, str | None]:
    """The (campaign, variant) a public request named, kept only where they exist.

    The campaign is kept when a campaign has that slug (running or not: a gift may come
    from a page opened before it ended), the variant when that campaign has it; anything
    else is dropped, so free text from the public never becomes a campaign in reports.
    """
    if not campaign:
        return None, None
    row = session.scalar(select(Campaign.id).where(Campaign.slug == campaign))
    if row is None:
        return None, None
    if not variant:
        return campaign, None
    has_variant = session.scalar(
        select(CampaignVariant.id).where(
            CampaignVariant.campaign_id == row, CampaignVariant.key == variant
        )
    )
    return campaign, variant if has_variant is not None else None
