"""The domain's tables: ledger, monthly gifts, supporters, Stripe inbox, campaigns, staff.

Money is an integer in minor units plus a lowercase ISO currency code, as Stripe has it.
Stripe ids are stored as Stripe gives them in `stripe_<object>_id` columns.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# "Supports indefinitely": the supported_until of an active monthly supporter.
FOREVER = datetime(9999, 12, 31, tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by value as a checked string, portable across backends."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
        length=max(len(m.value) for m in cls),
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


def _partial(condition: str) -> dict[str, Any]:
    """Make an index partial (only rows matching condition) on both backends."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


def _currency_check(column: str = "currency") -> CheckConstraint:
    return CheckConstraint(f"length({column}) = 3 AND {column} = lower({column})", name=column)


class Frequency(enum.StrEnum):
    ONE_OFF = "one_off"
    MONTHLY = "monthly"


class Placement(enum.StrEnum):
    TOP = "top"
    BOTTOM = "bottom"


class DonationStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    DISPUTED = "disputed"
    DISPUTE_LOST = "dispute_lost"


class MonthlyStatus(enum.StrEnum):
    """Stripe's subscription statuses; active and past_due count as supporting."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    PAUSED = "paused"
    CANCELED = "canceled"


SUPPORTING_MONTHLY_STATUSES = frozenset({MonthlyStatus.ACTIVE, MonthlyStatus.PAST_DUE})


class AttemptStatus(enum.StrEnum):
    CREATED = "created"
    SESSION_CREATED = "session_created"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"


class EventOutcome(enum.StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    IGNORED = "ignored"
    FAILED = "failed"


class GoalBehaviour(enum.StrEnum):
    HIDE = "hide"
    THANK_YOU = "thank_you"
    NEXT_GOAL = "next_goal"


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


class Supporter(Base):
    """A distinct person: one or more Stripe customers, joined by email."""

    __tablename__ = "supporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    # Maintained from the ledger on every relevant event, so counting supporters is an
    # indexed range count over this table and never a scan of donations.
    supported_until: Mapped[datetime | None] = mapped_column(index=True)
    # Indexed for the staff report of new supporters per week.
    first_supported_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customers: Mapped[list[StripeCustomer]] = relationship(back_populates="supporter")
    donations: Mapped[list[Donation]] = relationship(back_populates="supporter")
    monthly_donations: Mapped[list[MonthlyDonation]] = relationship(back_populates="supporter")


class StripeCustomer(Base):
    __tablename__ = "stripe_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    supporter_id: Mapped[int] = mapped_column(ForeignKey("supporters.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    supporter: Mapped[Supporter] = relationship(back_populates="customers")


class CheckoutAttempt(Base):
    """Our record of a reader starting checkout, written before Stripe is called."""

    __tablename__ = "checkout_attempts"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        _currency_check(),
        Index("ix_checkout_attempts_campaign_created", "campaign", "created_at"),
        # The staff funnel counts attributed checkouts by date: an index-only scan.
        Index(
            "ix_checkout_attempts_attributed_created",
            "created_at",
            postgresql_include=["campaign", "variant", "placement"],
            **_partial("campaign IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public, unguessable id; also the root of every Stripe idempotency key we send.
    public_id: Mapped[str] = mapped_column(
        String(36), unique=True, default=lambda: str(uuid.uuid4())
    )
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency, "frequency"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    email: Mapped[str | None] = mapped_column(String(320))
    campaign: Mapped[str | None] = mapped_column(String(80))
    variant: Mapped[str | None] = mapped_column(String(40))
    placement: Mapped[str | None] = mapped_column(String(20))
    return_url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[AttemptStatus] = mapped_column(
        _enum(AttemptStatus, "attempt_status"), default=AttemptStatus.CREATED
    )
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MonthlyDonation(Base):
    """A monthly gift: one Stripe subscription and its current state."""

    __tablename__ = "monthly_donations"
    __table_args__ = (
        CheckConstraint("amount_minor >= 0", name="amount_non_negative"),
        _currency_check(),
        Index("ix_monthly_donations_status_started", "status", "started_at"),
        Index(
            "ix_monthly_donations_attributed_started",
            "started_at",
            postgresql_include=["campaign", "variant", "placement"],
            **_partial("campaign IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), index=True)
    supporter_id: Mapped[int | None] = mapped_column(ForeignKey("supporters.id"), index=True)
    status: Mapped[MonthlyStatus] = mapped_column(_enum(MonthlyStatus, "monthly_status"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    current_period_end: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    canceled_at: Mapped[datetime | None] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    campaign: Mapped[str | None] = mapped_column(String(80))
    variant: Mapped[str | None] = mapped_column(String(40))
    placement: Mapped[str | None] = mapped_column(String(20))
    # Stripe's created time of the newest event applied; older snapshots are ignored.
    stripe_state_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    supporter: Mapped[Supporter | None] = relationship(back_populates="monthly_donations")
    donations: Mapped[list[Donation]] = relationship(back_populates="monthly_donation")


class Donation(Base):
    """One successful payment: a one-off gift, or one month of a monthly gift."""

    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "amount_refunded_minor >= 0 AND amount_refunded_minor <= amount_minor",
            name="refund_within_amount",
        ),
        _currency_check(),
        Index("ix_donations_paid_at_currency", "paid_at", "currency"),
        Index("ix_donations_supporter_paid_at", "supporter_id", "paid_at"),
        Index("ix_donations_campaign_paid_at", "campaign", "paid_at"),
        # Staff reports (service/reports.py): one-off revenue, the campaign funnel, refunds
        # and disputes each read one narrow index instead of the table (bench/reports_bench).
        # Not partial on frequency: the query binds it as a parameter, which a partial
        # index predicate cannot be proven against once a statement is prepared.
        Index(
            "ix_donations_paid_at_amounts",
            "paid_at",
            postgresql_include=[
                "frequency",
                "currency",
                "status",
                "amount_minor",
                "amount_refunded_minor",
            ],
        ),
        Index(
            "ix_donations_attributed_paid_at",
            "paid_at",
            postgresql_include=["campaign", "variant", "placement", "frequency"],
            **_partial("campaign IS NOT NULL"),
        ),
        Index("ix_donations_refunded_at", "refunded_at", **_partial("refunded_at IS NOT NULL")),
        Index("ix_donations_disputed_at", "disputed_at", **_partial("disputed_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency, "frequency"))
    status: Mapped[DonationStatus] = mapped_column(
        _enum(DonationStatus, "donation_status"), default=DonationStatus.SUCCEEDED, index=True
    )
    supporter_id: Mapped[int | None] = mapped_column(ForeignKey("supporters.id"))
    monthly_donation_id: Mapped[int | None] = mapped_column(
        ForeignKey("monthly_donations.id"), index=True
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    amount_refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    email: Mapped[str | None] = mapped_column(String(320))
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), index=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    campaign: Mapped[str | None] = mapped_column(String(80))
    variant: Mapped[str | None] = mapped_column(String(40))
    placement: Mapped[str | None] = mapped_column(String(20))
    paid_at: Mapped[datetime]
    refunded_at: Mapped[datetime | None]
    disputed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    supporter: Mapped[Supporter | None] = relationship(back_populates="donations")
    monthly_donation: Mapped[MonthlyDonation | None] = relationship(back_populates="donations")


class StripeEvent(Base):
    """The webhook inbox: each Stripe event stored once, with what became of it."""

    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_outcome_received", "outcome", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    stripe_created_at: Mapped[datetime] = mapped_column(index=True)
    livemode: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[EventOutcome] = mapped_column(
        _enum(EventOutcome, "event_outcome"), default=EventOutcome.PENDING
    )
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class Campaign(Base):
    """What staff run: dates, priority, goal, targeting; copy lives on its variants."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("goal_supporters IS NULL OR goal_supporters > 0", name="goal_positive"),
        CheckConstraint("min_articles_read >= 0", name="min_articles_non_negative"),
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
        _enum(GoalBehaviour, "goal_behaviour"), default=GoalBehaviour.THANK_YOU
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


class AppealCopy(Base):
    """Heading, body and call to action of one variant at one placement."""

    __tablename__ = "appeal_copies"
    __table_args__ = (
        UniqueConstraint("variant_id", "placement", name="uq_appeal_copies_variant_placement"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("campaign_variants.id", ondelete="CASCADE"))
    placement: Mapped[Placement] = mapped_column(_enum(Placement, "placement"))
    heading: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    cta: Mapped[str] = mapped_column(String(80))

    variant: Mapped[CampaignVariant] = relationship(back_populates="copies")


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


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"))
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
