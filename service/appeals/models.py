"""The appeals' tables: campaigns, their variants and copy, daily beacon counters."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.core.models import Base, currency_check, stored_enum, utcnow


class Placement(enum.StrEnum):
    TOP = "top"
    BOTTOM = "bottom"
    BANNER = "banner"
    HEADER = "header"


class GoalBehaviour(enum.StrEnum):
    HIDE = "hide"
    THANK_YOU = "thank_you"
    NEXT_GOAL = "next_goal"


class Campaign(Base):
    """What staff run: dates, priority, goal, targeting; copy lives on its variants."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("goal_supporters IS NULL OR goal_supporters > 0", name="goal_positive"),
        CheckConstraint("min_articles_read >= 0", name="min_articles_non_negative"),
        CheckConstraint("max_views IS NULL OR max_views > 0", name="max_views_positive"),
        CheckConstraint("views_days > 0", name="views_days_positive"),
        CheckConstraint(
            "max_dismissals IS NULL OR max_dismissals > 0", name="max_dismissals_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(default=0)
    goal_supporters: Mapped[int | None]
    goal_behaviour: Mapped[GoalBehaviour] = mapped_column(
        stored_enum(GoalBehaviour, "goal_behaviour"), default=GoalBehaviour.THANK_YOU
    )
    # For next_goal: how far the goal moves each time it is reached.
    goal_step: Mapped[int | None]
    thank_you_heading: Mapped[str | None] = mapped_column(String(200))
    thank_you_body: Mapped[str | None] = mapped_column(Text)
    include_sections: Mapped[list[str]] = mapped_column(default=list)
    exclude_sections: Mapped[list[str]] = mapped_column(default=list)
    include_tags: Mapped[list[str]] = mapped_column(default=list)
    exclude_tags: Mapped[list[str]] = mapped_column(default=list)
    min_articles_read: Mapped[int] = mapped_column(default=0)
    # inline (the top and bottom boxes), banner, header: where the campaign appears.
    formats: Mapped[list[str]] = mapped_column(default=lambda: ["inline"])
    # Frequency: at most max_views page views per views_days days for one browser, and
    # none after max_dismissals closes (None: no cap). Counted in the reader's browser.
    max_views: Mapped[int | None]
    views_days: Mapped[int] = mapped_column(default=30)
    max_dismissals: Mapped[int | None]
    # Audience (empty: everyone): phone/desktop, search/social/newsletter/direct/other,
    # ISO country codes, never/current/lapsed (current supporters only when listed).
    devices: Mapped[list[str]] = mapped_column(default=list)
    referrers: Mapped[list[str]] = mapped_column(default=list)
    countries: Mapped[list[str]] = mapped_column(default=list)
    donor_states: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    variants: Mapped[list[CampaignVariant]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignVariant.key"
    )


class CampaignVariant(Base):
    """An A/B variant of a campaign, with its weight and its copy per placement."""

    __tablename__ = "campaign_variants"
    __table_args__ = (
        UniqueConstraint("campaign_id", "key", name="uq_campaign_variants_campaign_key"),
        CheckConstraint("weight >= 0", name="weight_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    weight: Mapped[int] = mapped_column(default=1)

    campaign: Mapped[Campaign] = relationship(back_populates="variants")
    copies: Mapped[list[AppealCopy]] = relationship(
        back_populates="variant", cascade="all, delete-orphan"
    )
    asks: Mapped[list[CampaignAsk]] = relationship(
        back_populates="variant", cascade="all, delete-orphan", order_by="CampaignAsk.currency"
    )


class AppealCopy(Base):
    """Heading, body and call to action of one variant at one placement."""

    __tablename__ = "appeal_copies"
    __table_args__ = (
        UniqueConstraint("variant_id", "placement", name="uq_appeal_copies_variant_placement"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("campaign_variants.id", ondelete="CASCADE"))
    placement: Mapped[Placement] = mapped_column(stored_enum(Placement, "placement"))
    heading: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    cta: Mapped[str] = mapped_column(String(80))

    variant: Mapped[CampaignVariant] = relationship(back_populates="copies")
    translations: Mapped[list[AppealCopyTranslation]] = relationship(
        back_populates="copy", cascade="all, delete-orphan", order_by="AppealCopyTranslation.id"
    )


class AppealCopyTranslation(Base):
    """The same copy in another language; readers of a language without one get the
    default language's copy."""

    __tablename__ = "appeal_copy_translations"
    __table_args__ = (
        UniqueConstraint("copy_id", "language", name="uq_appeal_copy_translations_language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("appeal_copies.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(12))
    heading: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    cta: Mapped[str] = mapped_column(String(80))

    copy: Mapped[AppealCopy] = relationship(back_populates="translations")


class CampaignAsk(Base):
    """The asks one variant sets in one currency (no row: the currency's defaults).

    Amounts are minor units; `amounts` and `default_amounts` are keyed by frequency.
    """

    __tablename__ = "campaign_asks"
    __table_args__ = (
        UniqueConstraint("variant_id", "currency", name="uq_campaign_asks_variant_currency"),
        CheckConstraint("minimum_minor > 0", name="minimum_positive"),
        currency_check(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("campaign_variants.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    frequencies: Mapped[list[str]] = mapped_column(default=list)
    default_frequency: Mapped[str] = mapped_column(String(10))
    amounts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    default_amounts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    minimum_minor: Mapped[int] = mapped_column(BigInteger)

    variant: Mapped[CampaignVariant] = relationship(back_populates="asks")


class CountryCurrency(Base):
    """Staff's country -> currency map (no rows: the defaults in service.appeals.currency)."""

    __tablename__ = "country_currencies"
    __table_args__ = (currency_check(),)

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))


class AppealCounter(Base):
    """Daily impressions, clicks and dismissals; one row per day/campaign/variant/placement."""

    __tablename__ = "appeal_counters"
    __table_args__ = (
        UniqueConstraint("day", "campaign", "variant", "placement", name="uq_appeal_counters_key"),
        Index("ix_appeal_counters_campaign_day", "campaign", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    campaign: Mapped[str] = mapped_column(String(80))
    variant: Mapped[str] = mapped_column(String(40))
    placement: Mapped[str] = mapped_column(String(20))
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    dismissals: Mapped[int] = mapped_column(BigInteger, default=0)


class AppealBeaconMark(Base):
    """A beacon already counted for one page view, so a repeat of it is not counted again.

    One row per (view_id, placement, kind): the unique key is the de-duplication. A
    click or close counts only when the same page view's impression at that placement,
    for the same campaign and variant, has a row. Rows are swept after two days.
    """

    __tablename__ = "appeal_beacon_marks"
    __table_args__ = (
        UniqueConstraint("view_id", "placement", "kind", name="uq_appeal_beacon_marks_key"),
        Index("ix_appeal_beacon_marks_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    view_id: Mapped[str] = mapped_column(String(64))
    placement: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    campaign: Mapped[str] = mapped_column(String(80))
    variant: Mapped[str] = mapped_column(String(40))


class AppealBeaconClient(Base):
    """Beacons counted today from one client, for the daily cap.

    The client is a keyed hash of its IP and the day (never the IP itself), so rows of
    different days cannot be linked; rows of past days are swept.
    """

    __tablename__ = "appeal_beacon_clients"
    __table_args__ = (UniqueConstraint("day", "client", name="uq_appeal_beacon_clients_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    client: Mapped[str] = mapped_column(String(64))
    counted: Mapped[int] = mapped_column(default=0)
