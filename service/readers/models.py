"""Reader-page texts staff edit: the /support heading and introduction, per language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.core.models import Base, utcnow


class SiteText(Base):
    """One editable text of the reader pages; `language` "" is the default language."""

    __tablename__ = "site_texts"
    __table_args__ = (UniqueConstraint("key", "language", name="uq_site_texts_key_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(12), default="")
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
