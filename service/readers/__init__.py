"""Readers: /support, the thank-you, sign-in links, self-service and the email we send them.

Other features import only what this package exports below.
"""

from __future__ import annotations

from flask import Flask

from service.core.extensions import api_of
from service.readers import api, mail, pages, self_service, sign_in
from service.readers.models import MessageStatus, ReaderMessage, SignInLink, SiteText
from service.readers.sign_in import issue_link
from service.readers.texts import (
    HEADING_MAX,
    INTRO_MAX,
    SiteTextError,
    SupportTexts,
    save_support_texts,
    stored_support_texts,
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
    "issue_link",
    "save_support_texts",
    "stored_support_texts",
    "support_texts",
]


def init_app(app: Flask) -> None:
    """Register the reader-facing pages, their API and the jobs that write to readers."""
    app.register_blueprint(pages.bp)
    app.register_blueprint(self_service.bp)
    api_of(app).register_blueprint(api.blp)
    mail.register_jobs()
    sign_in.register_jobs()
