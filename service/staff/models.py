"""The staff's tables: accounts with roles, and their signed-in sessions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.core.models import Base, stored_enum, utcnow


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


class StaffUser(Base):
    __tablename__ = "staff_users"
    # Ids are never given again: SQLite would otherwise hand a deleted top id to the next
    # account (PostgreSQL's sequence never does).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(stored_enum(StaffRole, "staff_role"))
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DailySnapshot(Base):
    """The supporter count and recurring revenue at the end of one UTC day (trends).

    Written by the daily job for yesterday, or back-filled from the ledger's dates.
    """

    __tablename__ = "daily_snapshots"

    day: Mapped[date] = mapped_column(primary_key=True)
    # Distinct supporters by the definition, from the ledger alone.
    supporters: Mapped[int]
    # What the widget showed: the count plus the configured offset.
    displayed_supporters: Mapped[int]
    active_recurring: Mapped[int]
    # Recurring revenue per month per currency, minor units (annual gifts count 1/12).
    recurring_monthly_minor: Mapped[dict[str, Any]]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffSession(Base):
    """One signed-in browser: the cookie holds a random identifier, this row its hash.

    Deleting the row ends that session wherever the cookie is (sign-out, a password
    change, a removed account), which a signed cookie alone could not do.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
