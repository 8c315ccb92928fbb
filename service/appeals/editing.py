"""Staff edits to campaigns: the input, its rules, and saving it as plain text.

`save_campaign` is the one way staff input reaches the tables: every piece of copy is
reduced to plain text (nothing executable reaches a publisher's page), then checked
(`check_campaign_input`) and created or updated; it flushes, never commits. Callers
invalidate the appeal cache (service.appeals.cache) after saving.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import nh3
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.appeals.asks import Asks, asks_problems, ordered_frequencies
from service.appeals.decision import (
    DEVICES,
    DONOR_STATES,
    FORMATS,
    GOAL_BEHAVIOURS,
    PLACEMENTS,
    REFERRERS,
    normalise,
)
from service.appeals.models import (
    AppealCopy,
    Campaign,
    CampaignAsk,
    CampaignVariant,
    GoalBehaviour,
    Placement,
)
from service.core.settings import CurrencyLimits

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
SLUG_HINT = "use lowercase letters, digits and hyphens (up to 80)"
VARIANT_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
VARIANT_KEY_HINT = "use lowercase letters, digits, hyphens and underscores (up to 40)"


class CampaignError(ValueError):
    """Campaign input that cannot be saved, with a message per field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


@dataclass(frozen=True)
class CopyInput:
    heading: str
    body: str
    cta: str


@dataclass(frozen=True)
class VariantInput:
    key: str
    weight: int = 1
    copies: Mapping[str, CopyInput] = field(default_factory=dict)
    # Asks per currency (amounts in minor units); a currency left out offers its defaults.
    asks: Mapping[str, Asks] = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignInput:
    """Everything staff edit about a campaign; variants replace the existing ones."""

    slug: str
    name: str
    variants: Sequence[VariantInput]
    active: bool = True
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    priority: int = 0
    goal_supporters: int | None = None
    goal_behaviour: str = "thank_you"
    goal_step: int | None = None
    thank_you_heading: str | None = None
    thank_you_body: str | None = None
    include_sections: Sequence[str] = ()
    exclude_sections: Sequence[str] = ()
    include_tags: Sequence[str] = ()
    exclude_tags: Sequence[str] = ()
    min_articles_read: int = 0
    formats: Sequence[str] = ("inline",)
    max_views: int | None = None
    views_days: int = 30
    max_dismissals: int | None = None
    devices: Sequence[str] = ()
    referrers: Sequence[str] = ()
    countries: Sequence[str] = ()
    donor_states: Sequence[str] = ()


def check_campaign_input(
    data: CampaignInput, limits: Mapping[str, CurrencyLimits] | None = None
) -> None:
    """Raise CampaignError naming every field that cannot be saved.

    With the currencies' `limits`, asks outside them are refused (without, only asks'
    shape is checked: for seeds and tests that name no settings).
    """
    errors: dict[str, str] = {}
    if not SLUG_PATTERN.match(data.slug):
        errors["slug"] = SLUG_HINT
    if not data.name.strip():
        errors["name"] = "give the campaign a name"
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        errors["ends_at"] = "the end must be after the start"
    for name in ("starts_at", "ends_at"):
        value = getattr(data, name)
        if value is not None and value.tzinfo is None:
            errors[name] = "give a timezone-aware (UTC) time"
    if data.goal_supporters is not None and data.goal_supporters <= 0:
        errors["goal_supporters"] = "the goal must be a positive number of supporters"
    if data.goal_behaviour not in GOAL_BEHAVIOURS:
        errors["goal_behaviour"] = f"choose one of {', '.join(GOAL_BEHAVIOURS)}"
    if data.goal_behaviour == "next_goal" and not (data.goal_step and data.goal_step > 0):
        errors["goal_step"] = "a next goal needs a positive step"
    texts = [c.body for v in data.variants for c in v.copies.values()]
    texts += [c.heading for v in data.variants for c in v.copies.values()]
    if data.goal_supporters is None and any("{goal}" in t for t in texts):
        errors["goal_supporters"] = "the copy mentions {goal}: set a goal or reword it"
    if data.min_articles_read < 0:
        errors["min_articles_read"] = "must be zero or more"
    for name, allowed in (
        ("formats", FORMATS),
        ("devices", DEVICES),
        ("referrers", REFERRERS),
        ("donor_states", DONOR_STATES),
    ):
        if set(getattr(data, name)) - set(allowed):
            errors[name] = f"choose from {', '.join(allowed)}"
    if not data.formats:
        errors["formats"] = "choose at least one format"
    if any(not re.fullmatch(r"[A-Za-z]{2}", c) for c in data.countries):
        errors["countries"] = "use two-letter country codes"
    if data.max_views is not None and data.max_views <= 0:
        errors["max_views"] = "must be a positive number of views, or empty"
    if not 0 < data.views_days <= 3650:
        errors["views_days"] = "must be between 1 and 3650 days"
    if data.max_dismissals is not None and data.max_dismissals <= 0:
        errors["max_dismissals"] = "must be a positive number of closes, or empty"
    if not data.variants:
        errors["variants"] = "add at least one variant"
    keys = [v.key for v in data.variants]
    if len(set(keys)) != len(keys):
        errors["variants"] = "variant keys must be different"
    for variant in data.variants:
        prefix = f"variants.{variant.key}"
        if not VARIANT_KEY_PATTERN.match(variant.key):
            errors[prefix] = VARIANT_KEY_HINT
        if variant.weight < 0:
            errors[f"{prefix}.weight"] = "the weight must be zero or more"
        for placement, copy in variant.copies.items():
            if placement not in PLACEMENTS:
                errors[f"{prefix}.{placement}"] = "use " + ", ".join(PLACEMENTS)
            elif not (copy.heading.strip() and copy.body.strip() and copy.cta.strip()):
                errors[f"{prefix}.{placement}"] = "heading, body and call to action are needed"
        for currency, asks in variant.asks.items():
            if limits is None:
                problems = asks_problems(asks, currency, CurrencyLimits(1, 10**12))
            else:
                problems = asks_problems(asks, currency, limits.get(currency))
            if problems:
                errors[f"{prefix}.asks.{currency}"] = "; ".join(problems)
    if data.variants and sum(max(v.weight, 0) for v in data.variants) == 0:
        errors["variants"] = "at least one variant needs a weight above zero"
    if errors:
        raise CampaignError(errors)


def create_campaign(
    session: Session, data: CampaignInput, limits: Mapping[str, CurrencyLimits] | None = None
) -> Campaign:
    """Add a campaign with its variants and copy; flush, never commit."""
    check_campaign_input(data, limits)
    if session.scalar(select(Campaign.id).where(Campaign.slug == data.slug)) is not None:
        raise CampaignError({"slug": "another campaign already uses this slug"})
    campaign = Campaign(slug=data.slug)
    session.add(campaign)
    _apply(session, campaign, data)
    session.flush()
    return campaign


def update_campaign(
    session: Session,
    campaign: Campaign,
    data: CampaignInput,
    limits: Mapping[str, CurrencyLimits] | None = None,
) -> Campaign:
    """Replace a campaign's settings, variants and copy; flush, never commit."""
    check_campaign_input(data, limits)
    if data.slug != campaign.slug:
        clash = session.scalar(
            select(Campaign.id).where(Campaign.slug == data.slug, Campaign.id != campaign.id)
        )
        if clash is not None:
            raise CampaignError({"slug": "another campaign already uses this slug"})
    _apply(session, campaign, data)
    session.flush()
    return campaign


def _apply(session: Session, campaign: Campaign, data: CampaignInput) -> None:
    campaign.slug = data.slug
    campaign.name = data.name.strip()
    campaign.active = data.active
    campaign.starts_at = data.starts_at
    campaign.ends_at = data.ends_at
    campaign.priority = data.priority
    campaign.goal_supporters = data.goal_supporters
    campaign.goal_behaviour = GoalBehaviour(data.goal_behaviour)
    campaign.goal_step = data.goal_step
    campaign.thank_you_heading = data.thank_you_heading or None
    campaign.thank_you_body = data.thank_you_body or None
    campaign.include_sections = _labels(data.include_sections)
    campaign.exclude_sections = _labels(data.exclude_sections)
    campaign.include_tags = _labels(data.include_tags)
    campaign.exclude_tags = _labels(data.exclude_tags)
    campaign.min_articles_read = data.min_articles_read
    campaign.formats = [f for f in FORMATS if f in data.formats]
    campaign.max_views = data.max_views
    campaign.views_days = data.views_days
    campaign.max_dismissals = data.max_dismissals
    campaign.devices = [d for d in DEVICES if d in data.devices]
    campaign.referrers = [r for r in REFERRERS if r in data.referrers]
    campaign.countries = sorted({c.upper() for c in data.countries})
    campaign.donor_states = [d for d in DONOR_STATES if d in data.donor_states]

    existing = {variant.key: variant for variant in campaign.variants}
    wanted = {variant.key for variant in data.variants}
    for key, variant in existing.items():
        if key not in wanted:
            campaign.variants.remove(variant)
    # Removed rows must be gone before a re-added key hits the unique constraint.
    session.flush()
    for item in data.variants:
        variant = existing.get(item.key) or CampaignVariant(key=item.key)
        if variant not in campaign.variants:
            campaign.variants.append(variant)
        variant.weight = item.weight
        copies = {copy.placement.value: copy for copy in variant.copies}
        for placement, copy in copies.items():
            if placement not in item.copies:
                variant.copies.remove(copy)
        for placement, text in item.copies.items():
            row = copies.get(placement) or AppealCopy(placement=Placement(placement))
            if row not in variant.copies:
                variant.copies.append(row)
            row.heading, row.body, row.cta = text.heading, text.body, text.cta
        _apply_asks(variant, item.asks)


def _apply_asks(variant: CampaignVariant, asks: Mapping[str, Asks]) -> None:
    rows = {row.currency: row for row in variant.asks}
    for currency, row in rows.items():
        if currency not in asks:
            variant.asks.remove(row)
    for currency, wanted in asks.items():
        row = rows.get(currency) or CampaignAsk(currency=currency)
        if row not in variant.asks:
            variant.asks.append(row)
        frequencies = ordered_frequencies(wanted.frequencies)
        row.frequencies = list(frequencies)
        row.default_frequency = wanted.default_frequency
        row.amounts = {f: list(wanted.amounts.get(f, ())) for f in frequencies}
        row.default_amounts = {f: wanted.default_amounts.get(f) for f in frequencies}
        row.minimum_minor = wanted.minimum


def _labels(values: Sequence[str]) -> list[str]:
    return sorted({normalise(v) for v in values if v.strip()})


# --------------------------------------------------------------- plain-text copy

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


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
    # What is left is text, but a stray "</" or "<x" could still join with other markup
    # if a page ever used innerHTML; a space makes it inert everywhere.
    return _TAG_START.sub("< ", value).strip()


def parse_labels(text: str | None) -> list[str]:
    """Split comma-separated sections or tags into lowercase, unique, plain labels."""
    labels: list[str] = []
    for part in (text or "").split(","):
        label = sanitise_copy(part).lower()[:80]
        if label and label not in labels:
            labels.append(label)
    return labels


def _plain_labels(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(parse_labels(",".join(values)))


def _plain_copy(copy: CopyInput) -> CopyInput:
    return CopyInput(
        heading=sanitise_copy(copy.heading)[:200],
        body=sanitise_copy(copy.body),
        cta=sanitise_copy(copy.cta)[:80],
    )


def sanitise_campaign_input(data: CampaignInput) -> CampaignInput:
    """The same campaign with every text field reduced to plain text."""
    return replace(
        data,
        name=sanitise_copy(data.name)[:200],
        thank_you_heading=sanitise_copy(data.thank_you_heading)[:200] or None,
        thank_you_body=sanitise_copy(data.thank_you_body) or None,
        include_sections=_plain_labels(data.include_sections),
        exclude_sections=_plain_labels(data.exclude_sections),
        include_tags=_plain_labels(data.include_tags),
        exclude_tags=_plain_labels(data.exclude_tags),
        countries=tuple(c.upper() for c in _plain_labels(data.countries)),
        variants=[
            VariantInput(
                key=variant.key,
                weight=variant.weight,
                copies={p: _plain_copy(c) for p, c in variant.copies.items()},
                asks=variant.asks,
            )
            for variant in data.variants
        ],
    )


def save_campaign(
    session: Session,
    campaign: Campaign | None,
    data: CampaignInput,
    limits: Mapping[str, CurrencyLimits] | None = None,
) -> Campaign:
    """Create or update a campaign from staff input, copy sanitised; flush, never commit.

    Raises CampaignError (a message per field) when it cannot be saved,
    including copy that is empty once its markup is removed.
    """
    clean = sanitise_campaign_input(data)
    if campaign is None:
        return create_campaign(session, clean, limits)
    return update_campaign(session, campaign, clean, limits)
