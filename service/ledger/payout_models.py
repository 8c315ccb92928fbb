"""The ledger's payouts: each Stripe payout, and the balance transactions it paid out.

A payout's row follows its events (status, amount, arrival); its contents come from
Stripe's list of the payout's balance transactions, each tied to the payment it moved
money for when that payment is ours. The summary columns on the payout are the sums of
its contents, kept so the payout list and the month-end view read one row per payout.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.core.models import Base, currency_check, partial_index, utcnow


class PayoutStatus(enum.StrEnum):
    """Stripe's payout statuses."""

    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"


class ItemKind(enum.StrEnum):
    """What a balance transaction in a payout is, for staff (from its reporting category)."""

    GIFT = "gift"
    REFUND = "refund"
    DISPUTE = "dispute"
    PAYOUT = "payout"  # the payout's own transaction: not part of its contents
    OTHER = "other"


class Payout(Base):
    """One Stripe payout and the sums of what it paid out (minor units, its currency)."""

    __tablename__ = "payouts"
    __table_args__ = (
        currency_check(),
        Index("ix_payouts_stripe_created_at", "stripe_created_at"),
        Index("ix_payouts_arrival_at", "arrival_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_payout_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # Stripe's arrival_date: the day the money is expected in the bank (00:00 UTC).
    arrival_at: Mapped[datetime]
    stripe_created_at: Mapped[datetime]
    automatic: Mapped[bool] = mapped_column(default=True)
    failure_code: Mapped[str | None] = mapped_column(String(60))
    failure_message: Mapped[str | None] = mapped_column(Text)
    # When the state above was Stripe's (an event's time, or when we fetched it): an
    # older snapshot arriving later never overwrites a newer one.
    stripe_state_at: Mapped[datetime]
    # When its contents were last read from Stripe; None until then.
    contents_at: Mapped[datetime | None]
    gifts: Mapped[int] = mapped_column(Integer, default=0)
    gifts_ours: Mapped[int] = mapped_column(Integer, default=0)
    gross_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunds_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    disputes_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    fees_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    other_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    net_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list[PayoutItem]] = relationship(
        back_populates="payout", cascade="all, delete-orphan", order_by="PayoutItem.id"
    )


class PayoutItem(Base):
    """One balance transaction a payout paid out, as Stripe reported it."""

    __tablename__ = "payout_items"
    __table_args__ = (
        currency_check(),
        CheckConstraint("net_minor = amount_minor - fee_minor", name="net_is_amount_less_fee"),
        # The month end finds a failed payout's money paid out again by its source.
        Index(
            "ix_payout_items_payout_failures",
            "stripe_source_id",
            **partial_index("type = 'payout_failure'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(ForeignKey("payouts.id", ondelete="CASCADE"), index=True)
    stripe_balance_transaction_id: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(60))
    reporting_category: Mapped[str] = mapped_column(String(60))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stripe_source_id: Mapped[str | None] = mapped_column(String(255))
    stripe_charge_id: Mapped[str | None] = mapped_column(String(255))
    donation_id: Mapped[int | None] = mapped_column(
        ForeignKey("donations.id", ondelete="SET NULL"), index=True
    )
    stripe_created_at: Mapped[datetime]

    payout: Mapped[Payout] = relationship(back_populates="items")
