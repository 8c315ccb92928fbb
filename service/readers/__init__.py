"""Readers: /support, the thank-you, sign-in links, self-service and the email we send them.

Other features import only what this package exports below.
"""

from __future__ import annotations

from flask import Flask

from service.readers import mail, pages
from service.readers.models import MessageStatus, ReaderMessage, SignInLink, SiteText
from service.readers.texts import (
    HEADING_MAX,
    INTRO_MAX,
    SiteTextError,
    SupportTexts,
    save_support_texts,
    support_texts,
)

__all__ = [
    "HEADING_MAX",
    "INTRO_MAX",
    "MessageStatus",
    "ReaderMessage",
    "SignInLink",
    "SiteText",
    "SiteTextError",
    "SupportTexts",
    "init_app",
    "save_support_texts",
    "support_texts",
]


def init_app(app: Flask) -> None:
    """Register the reader-facing pages and the jobs that write to readers."""
    app.register_blueprint(pages.bp)
    mail.register_jobs()
