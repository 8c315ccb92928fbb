"""The ledger's tables: checkout attempts, payments, recurring gifts, supporters, inbox."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.core.models import Base, currency_check, partial_index, stored_enum, utcnow

FOREVER = datetime(9999, 12, 31, tzinfo=UTC)


class Frequency(enum.StrEnum):
    ONE_OFF = "one_off"
    MONTHLY = "monthly"
    ANNUAL = "annual"


class Interval(enum.StrEnum):
    """How often a recurring gift renews: Stripe's `recurring.interval`."""

    MONTH = "month"
    YEAR = "year"


# The recurring frequencies and the Stripe interval each one bills on.
INTERVAL_OF = {Frequency.MONTHLY: Interval.MONTH, Frequency.ANNUAL: Interval.YEAR}
FREQUENCY_OF = {interval: frequency for frequency, interval in INTERVAL_OF.items()}


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
    # The language the reader last gave or signed in in: the language of our emails.
    language: Mapped[str | None] = mapped_column(String(12))
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
        CheckConstraint(
            "fee_cover_minor >= 0 AND fee_cover_minor < amount_minor", name="fee_cover_in_amount"
        ),
        currency_check(),
        Index("ix_checkout_attempts_campaign_created", "campaign", "created_at"),
        # The staff funnel counts attributed checkouts by date: an index-only scan.
        Index(
            "ix_checkout_attempts_attributed_created",
            "created_at",
            postgresql_include=["campaign", "variant", "placement"],
            **partial_index("campaign IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public, unguessable id; also the root of every Stripe idempotency key we send.
    public_id: Mapped[str] = mapped_column(
        String(36), unique=True, default=lambda: str(uuid.uuid4())
    )
    frequency: Mapped[Frequency] = mapped_column(stored_enum(Frequency, "frequency"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # Of amount_minor, what the reader added to cover the processing fee (0: none).
    fee_cover_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    email: Mapped[str | None] = mapped_column(String(320))
    campaign: Mapped[str | None] = mapped_column(String(80))
    variant: Mapped[str | None] = mapped_column(String(40))
    placement: Mapped[str | None] = mapped_column(String(20))
    return_url: Mapped[str | None] = mapped_column(String(2048))
    # The reader's language: Stripe's page, our product name, and later our emails.
    language: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[AttemptStatus] = mapped_column(
        stored_enum(AttemptStatus, "attempt_status"), default=AttemptStatus.CREATED
    )
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MonthlyDonation(Base):
    """A recurring gift (monthly or annual): one Stripe subscription and its current state.

    The name is historical: `interval` says whether it renews every month or every year.
    """

    __tablename__ = "monthly_donations"
    __table_args__ = (
        CheckConstraint("amount_minor >= 0", name="amount_non_negative"),
        currency_check(),
        Index("ix_monthly_donations_status_started", "status", "started_at"),
        Index(
            "ix_monthly_donations_attributed_started",
            "started_at",
            postgresql_include=["campaign", "variant", "placement"],
            **partial_index("campaign IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), index=True)
    supporter_id: Mapped[int | None] = mapped_column(ForeignKey("supporters.id"), index=True)
    status: Mapped[MonthlyStatus] = mapped_column(stored_enum(MonthlyStatus, "monthly_status"))
    interval: Mapped[Interval] = mapped_column(
        stored_enum(Interval, "interval"), default=Interval.MONTH, server_default="month"
    )
    # What one renewal charges, per `interval` (a year's amount for an annual gift).
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

    @property
    def frequency(self) -> Frequency:
        """The reader's choice this gift came from: monthly or annual."""
        return FREQUENCY_OF[self.interval]


class Donation(Base):
    """One successful payment: a one-off gift, or one renewal of a monthly or annual gift."""

    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "amount_refunded_minor >= 0 AND amount_refunded_minor <= amount_minor",
            name="refund_within_amount",
        ),
        currency_check(),
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
        # Also the campaign revenue report: the amounts it sums are in the index.
        Index(
            "ix_donations_attributed_paid_at",
            "paid_at",
            postgresql_include=[
                "campaign",
                "variant",
                "placement",
                "frequency",
                "currency",
                "status",
                "amount_minor",
                "amount_refunded_minor",
            ],
            **partial_index("campaign IS NOT NULL"),
        ),
        # The money report: gross, fees and net per currency and period, index-only; and
        # the month end's "not in a payout yet" (payout_id).
        Index(
            "ix_donations_paid_at_fees",
            "paid_at",
            postgresql_include=["currency", "amount_minor", "fee_minor", "net_minor", "payout_id"],
        ),
        # The money report for one currency: its payments only, not every currency's.
        Index(
            "ix_donations_currency_paid_at",
            "currency",
            "paid_at",
            postgresql_include=["amount_minor", "fee_minor", "net_minor"],
        ),
        Index(
            "ix_donations_refunded_at", "refunded_at", **partial_index("refunded_at IS NOT NULL")
        ),
        Index(
            "ix_donations_disputed_at", "disputed_at", **partial_index("disputed_at IS NOT NULL")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    frequency: Mapped[Frequency] = mapped_column(stored_enum(Frequency, "frequency"))
    status: Mapped[DonationStatus] = mapped_column(
        stored_enum(DonationStatus, "donation_status"), default=DonationStatus.SUCCEEDED, index=True
    )
    supporter_id: Mapped[int | None] = mapped_column(ForeignKey("supporters.id"))
    monthly_donation_id: Mapped[int | None] = mapped_column(
        ForeignKey("monthly_donations.id"), index=True
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    amount_refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    # Stripe's fee and the net it credited, from the charge's balance transaction; None
    # until Stripe has told us (never estimated).
    fee_minor: Mapped[int | None] = mapped_column(BigInteger)
    net_minor: Mapped[int | None] = mapped_column(BigInteger)
    # The payout (payouts.id) that paid this payment out, once its contents are read. No
    # foreign key: payout_items already refers to donations, and the cycle would leave
    # the tables without an order to create and drop them in.
    payout_id: Mapped[int | None] = mapped_column(Integer)
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
        stored_enum(EventOutcome, "event_outcome"), default=EventOutcome.PENDING
    )
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
