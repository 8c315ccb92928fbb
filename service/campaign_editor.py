"""Staff edits to campaigns: copy sanitised to plain text, variants and copies replaced."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import nh3
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AppealCopy, Campaign, CampaignVariant, GoalBehaviour, Placement

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CampaignError(ValueError):
    """The campaign could not be saved; the message says why."""


def sanitise_copy(text: str | None) -> str:
    """Reduce staff copy to plain text: no tags, no entities that could become tags.

    nh3 strips every tag (and the contents of script/style); unescaping its output and
    repeating until nothing changes defeats payloads hidden as entities (&lt;script&gt;).
    """
    value = _CONTROL.sub("", text or "").replace("\r\n", "\n").strip()
    for _ in range(5):
        cleaned = html.unescape(nh3.clean(value, tags=set(), attributes={}))
        if cleaned == value:
            break
        value = cleaned
    else:
        # Still changing after five rounds: something adversarial; keep no markup at all.
        value = re.sub(r"[<>]", "", value)
    return value.strip()


def parse_labels(text: str | None) -> list[str]:
    """Split comma-separated sections or tags into lowercase, unique, plain labels."""
    labels: list[str] = []
    for part in (text or "").split(","):
        label = sanitise_copy(part).lower()
        if label and label not in labels:
            labels.append(label[:80])
    return labels


@dataclass(frozen=True)
class CopyValues:
    heading: str
    body: str
    cta: str


@dataclass(frozen=True)
class VariantValues:
    key: str
    weight: int
    copies: dict[Placement, CopyValues] = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignValues:
    name: str
    slug: str
    active: bool = True
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    priority: int = 0
    goal_supporters: int | None = None
    goal_behaviour: GoalBehaviour = GoalBehaviour.THANK_YOU
    goal_step: int | None = None
    thank_you_heading: str = ""
    thank_you_body: str = ""
    include_sections: list[str] = field(default_factory=list)
    exclude_sections: list[str] = field(default_factory=list)
    include_tags: list[str] = field(default_factory=list)
    exclude_tags: list[str] = field(default_factory=list)
    min_articles_read: int = 0
    variants: list[VariantValues] = field(default_factory=list)


def save_campaign(session: Session, campaign: Campaign | None, values: CampaignValues) -> Campaign:
    """Create or update a campaign with its variants and copy, all text sanitised."""
    if campaign is None:
        taken = session.scalar(select(Campaign.id).where(Campaign.slug == values.slug))
        if taken is not None:
            raise CampaignError(f"a campaign with the slug {values.slug!r} already exists")
        campaign = Campaign(slug=values.slug)
        session.add(campaign)
    if values.ends_at and values.starts_at and values.ends_at <= values.starts_at:
        raise CampaignError("the end must be after the start")
    campaign.name = sanitise_copy(values.name)[:200]
    campaign.active = values.active
    campaign.starts_at = values.starts_at
    campaign.ends_at = values.ends_at
    campaign.priority = values.priority
    campaign.goal_supporters = values.goal_supporters
    campaign.goal_behaviour = values.goal_behaviour
    campaign.goal_step = values.goal_step
    campaign.thank_you_heading = sanitise_copy(values.thank_you_heading)[:200] or None
    campaign.thank_you_body = sanitise_copy(values.thank_you_body) or None
    campaign.include_sections = parse_labels(",".join(values.include_sections))
    campaign.exclude_sections = parse_labels(",".join(values.exclude_sections))
    campaign.include_tags = parse_labels(",".join(values.include_tags))
    campaign.exclude_tags = parse_labels(",".join(values.exclude_tags))
    campaign.min_articles_read = values.min_articles_read
    _replace_variants(session, campaign, values.variants)
    session.flush()
    return campaign


def _replace_variants(
    session: Session, campaign: Campaign, wanted: Iterable[VariantValues]
) -> None:
    existing = {variant.key: variant for variant in campaign.variants}
    keep: set[str] = set()
    for values in wanted:
        keep.add(values.key)
        variant = existing.get(values.key)
        if variant is None:
            variant = CampaignVariant(key=values.key)
            campaign.variants.append(variant)
        variant.weight = values.weight
        copies = {Placement(copy.placement): copy for copy in variant.copies}
        for placement in Placement:
            text = values.copies.get(placement)
            copy = copies.get(placement)
            if text is None:
                if copy is not None:
                    variant.copies.remove(copy)
                continue
            if copy is None:
                copy = AppealCopy(placement=placement, heading="", body="", cta="")
                variant.copies.append(copy)
            heading = sanitise_copy(text.heading)[:200]
            body = sanitise_copy(text.body)
            cta = sanitise_copy(text.cta)[:80]
            if not (heading and body and cta):
                raise CampaignError(
                    f"variant {values.key}: the {placement.value} copy is empty once markup "
                    "is removed; write it as plain text"
                )
            copy.heading, copy.body, copy.cta = heading, body, cta
    for key, variant in existing.items():
        if key not in keep:
            campaign.variants.remove(variant)
