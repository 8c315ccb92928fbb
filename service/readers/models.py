"""Readers' tables: page texts staff edit, the messages we send readers, and their
single-use sign-in links."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.core.models import Base, stored_enum, utcnow


class SiteText(Base):
    """One editable text of the reader pages; `language` "" is the default language."""

    __tablename__ = "site_texts"
    __table_args__ = (UniqueConstraint("key", "language", name="uq_site_texts_key_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(12), default="")
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MessageStatus(enum.StrEnum):
    # Waiting in the job outbox (SMTP may be down: the job retries with backoff).
    QUEUED = "queued"
    SENT = "sent"


class ReaderMessage(Base):
    """One email to a reader, rendered once and sent by a job; staff see its state."""

    __tablename__ = "reader_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One logical message, one key (its cause and template): a repeated cause adds none.
    key: Mapped[str] = mapped_column(String(255), unique=True)
    # The ledger deletes a supporter merged into another (same person, new email); the
    # message stays, detached from the deleted row.
    supporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("supporters.id", ondelete="SET NULL"), index=True
    )
    template: Mapped[str] = mapped_column(String(50))
    to_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[MessageStatus] = mapped_column(
        stored_enum(MessageStatus, "message_status"), default=MessageStatus.QUEUED
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class SignInLink(Base):
    """A single-use sign-in link: only a hash of its token is kept."""

    __tablename__ = "reader_sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # A link for a supporter the ledger merged away (and deleted) goes with them.
    supporter_id: Mapped[int] = mapped_column(
        ForeignKey("supporters.id", ondelete="CASCADE"), index=True
    )
    # Where the reader started (an allowed origin's page), to return there with the pass.
    return_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
