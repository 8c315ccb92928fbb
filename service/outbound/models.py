"""Outbound events' tables: the endpoints staff register, each delivery and each try."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.core.models import Base, stored_enum, utcnow


class OutboundEndpoint(Base):
    """A URL of the newsroom's own system (CRM, email tool, warehouse) that takes events."""

    __tablename__ = "outbound_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(200), default="")
    # Standard Webhooks signing secret (`whsec_` + base64); shown once, when made.
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret signs too, until it expires (receivers switch over).
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None]

    deliveries: Mapped[list[OutboundDelivery]] = relationship(back_populates="endpoint")


class DeliveryStatus(enum.StrEnum):
    # Waiting for its first try, or for its next one after a failed try.
    PENDING = "pending"
    FAILING = "failing"
    DELIVERED = "delivered"
    # Every try failed: kept, visible, until staff redeliver it.
    DEAD = "dead"


class OutboundDelivery(Base):
    """One event to one endpoint: the exact body sent, where it stands, its last answer."""

    __tablename__ = "outbound_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "message_id"),
        Index("ix_outbound_deliveries_endpoint_created", "endpoint_id", "created_at"),
        Index("ix_outbound_deliveries_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("outbound_endpoints.id"))
    # The Standard Webhooks `webhook-id`: one per event, the same on every try.
    message_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(60))
    # The JSON body exactly as signed and sent (it holds the supporter's email: never log it).
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        stored_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    # Tries in all, and tries since it was last (re)delivered (the budget before dead).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    round_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_response: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    endpoint: Mapped[OutboundEndpoint] = relationship(back_populates="deliveries")
