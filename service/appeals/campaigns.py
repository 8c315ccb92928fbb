"""Campaigns: load the active ones for the decision, cache them with the count, edit them.

The appeal endpoint runs on every article page view, so it reads campaigns and the
supporter count from a short in-process cache (APPEAL_CACHE_SECONDS) and makes no
database query in steady state. With REDIS_URL set, a version stamp in Redis lets one
instance's `invalidate_campaign_cache()` reach every instance within a second.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session, selectinload

from service.appeals.decision import (
    GOAL_BEHAVIOURS,
    PLACEMENTS,
    CampaignSpec,
    Copy,
    VariantSpec,
    normalise,
)
from service.appeals.models import AppealCopy, Campaign, CampaignVariant, GoalBehaviour, Placement
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger import count_supporters

log = logging.getLogger(__name__)

REDIS_VERSION_KEY = "reader-contributions:campaign-cache-version"
# How often an instance asks Redis whether another instance invalidated the cache.
REDIS_CHECK_SECONDS = 1.0
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
SLUG_HINT = "use lowercase letters, digits and hyphens (up to 80)"
VARIANT_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
VARIANT_KEY_HINT = "use lowercase letters, digits, hyphens and underscores (up to 40)"


class CampaignError(ValueError):
    """Campaign input that cannot be saved, with a message per field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


# ---------------------------------------------------------------------------- loading


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
        variants=tuple(
            VariantSpec(
                key=variant.key,
                weight=variant.weight,
                copies={
                    copy.placement.value: Copy(copy.heading, copy.body, copy.cta)
                    for copy in variant.copies
                },
            )
            for variant in campaign.variants
        ),
    )


def load_campaign_specs(session: Session, now: datetime | None = None) -> tuple[CampaignSpec, ...]:
    """Load the active campaigns that have not ended, as decision specs."""
    now = now or utcnow()
    rows = session.scalars(
        select(Campaign)
        .where(Campaign.active.is_(True), or_(Campaign.ends_at.is_(None), Campaign.ends_at > now))
        .options(selectinload(Campaign.variants).selectinload(CampaignVariant.copies))
        .order_by(Campaign.priority.desc(), Campaign.slug)
    ).all()
    return tuple(to_spec(row) for row in rows)


# ------------------------------------------------------------------------------ cache


@dataclass(frozen=True)
class AppealSnapshot:
    """Everything the appeal endpoint needs, read together and cached together."""

    campaigns: tuple[CampaignSpec, ...]
    supporter_count: int
    loaded_at: float
    generation: int

    def has_variant(self, campaign: str, variant: str) -> bool:
        """True when an active campaign has this variant (to check beacons)."""
        return any(
            c.slug == campaign and any(v.key == variant for v in c.variants) for c in self.campaigns
        )


@dataclass
class AppealCache:
    """A per-app cache of campaigns and the supporter count, refreshed every few seconds."""

    ttl: float
    redis_url: str = ""
    clock: Callable[[], float] = time.monotonic
    _snapshot: AppealSnapshot | None = None
    _generation: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _redis: Any = None
    _redis_version: bytes | None = None
    _redis_checked_at: float = float("-inf")

    def get(self, load: Callable[[], tuple[tuple[CampaignSpec, ...], int]]) -> AppealSnapshot:
        """The cached snapshot, reloaded with `load` when stale.

        If reloading fails and an older snapshot exists, the older one keeps serving
        (readers still see appeals while the database is away); otherwise it raises.
        """
        snapshot = self._snapshot
        if snapshot is not None and self._is_fresh(snapshot):
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and self._is_fresh(snapshot):
                return snapshot
            if self.redis_url:
                # Read the version before loading, so a change during the load is seen.
                self._redis_version = self._read_redis_version()
                self._redis_checked_at = self.clock()
            try:
                campaigns, count = load()
            except Exception:
                if snapshot is None:
                    raise
                log.warning("could not refresh campaigns; serving the cached ones", exc_info=True)
                # Retry after a short pause rather than on every request.
                self._snapshot = AppealSnapshot(
                    snapshot.campaigns,
                    snapshot.supporter_count,
                    self.clock() - max(self.ttl - 5, 0),
                    snapshot.generation,
                )
                return self._snapshot
            self._generation += 1
            self._snapshot = AppealSnapshot(campaigns, count, self.clock(), self._generation)
            return self._snapshot

    def invalidate(self, *, broadcast: bool = True) -> None:
        """Drop the snapshot here and, with Redis, on every other instance too."""
        self._snapshot = None
        if broadcast and self.redis_url:
            try:
                self._redis_client().incr(REDIS_VERSION_KEY)
            except Exception:
                log.warning("could not bump the campaign cache version in Redis", exc_info=True)

    def _is_fresh(self, snapshot: AppealSnapshot) -> bool:
        now = self.clock()
        if now - snapshot.loaded_at >= self.ttl:
            return False
        if self.redis_url and now - self._redis_checked_at >= REDIS_CHECK_SECONDS:
            self._redis_checked_at = now
            version = self._read_redis_version()
            # Redis away (None): the TTL alone bounds staleness.
            if version is not None and version != self._redis_version:
                self._snapshot = None
                return False
        return True

    def _read_redis_version(self) -> bytes | None:
        try:
            version = self._redis_client().get(REDIS_VERSION_KEY)
        except Exception:
            log.warning("could not read the campaign cache version from Redis", exc_info=True)
            return None
        return version if isinstance(version, bytes) else b"0"

    def _redis_client(self) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(
                self.redis_url, socket_timeout=0.25, socket_connect_timeout=0.25
            )
        return self._redis


def appeal_cache(app: Flask | None = None) -> AppealCache:
    """The app's appeal cache, created on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache: AppealCache | None = app.extensions.get("appeal_cache")
    if cache is None:
        settings: Settings = app.extensions["settings"]
        cache = app.extensions.setdefault(
            "appeal_cache",
            AppealCache(ttl=float(settings.appeal_cache_seconds), redis_url=settings.redis_url),
        )
    return cache


def get_appeal_snapshot(app: Flask | None = None) -> AppealSnapshot:
    """Campaigns and the supporter count, from the cache or (rarely) the database."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    settings: Settings = app.extensions["settings"]

    def load() -> tuple[tuple[CampaignSpec, ...], int]:
        # A session of its own: the request's session (and its commit hook) stays idle.
        maker = app.extensions["database"]["sessionmaker"]
        with maker() as session:
            now = utcnow()
            return load_campaign_specs(session, now), count_supporters(session, settings, now)

    return appeal_cache(app).get(load)


def invalidate_campaign_cache(app: Flask | None = None) -> None:
    """Make the next appeal request reload campaigns and the count (call after saving).

    Inside a request that has a database session, the cache is dropped again once that
    session commits, so no request can re-cache the old campaign in between.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache = appeal_cache(app)
    cache.invalidate()
    session = g.get("_db_session") if _in_app_context() else None
    if session is not None:
        event.listen(session, "after_commit", lambda _s: cache.invalidate(), once=True)


def _in_app_context() -> bool:
    from flask import has_app_context

    return has_app_context()


# ---------------------------------------------------------------------------- editing


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


def check_campaign_input(data: CampaignInput) -> None:
    """Raise CampaignError naming every field that cannot be saved."""
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
                errors[f"{prefix}.{placement}"] = "placement must be top or bottom"
            elif not (copy.heading.strip() and copy.body.strip() and copy.cta.strip()):
                errors[f"{prefix}.{placement}"] = "heading, body and call to action are needed"
    if data.variants and sum(max(v.weight, 0) for v in data.variants) == 0:
        errors["variants"] = "at least one variant needs a weight above zero"
    if errors:
        raise CampaignError(errors)


def create_campaign(session: Session, data: CampaignInput) -> Campaign:
    """Add a campaign with its variants and copy; flush, never commit."""
    check_campaign_input(data)
    if session.scalar(select(Campaign.id).where(Campaign.slug == data.slug)) is not None:
        raise CampaignError({"slug": "another campaign already uses this slug"})
    campaign = Campaign(slug=data.slug)
    session.add(campaign)
    _apply(session, campaign, data)
    session.flush()
    return campaign


def update_campaign(session: Session, campaign: Campaign, data: CampaignInput) -> Campaign:
    """Replace a campaign's settings, variants and copy; flush, never commit."""
    check_campaign_input(data)
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


def _labels(values: Sequence[str]) -> list[str]:
    return sorted({normalise(v) for v in values if v.strip()})
