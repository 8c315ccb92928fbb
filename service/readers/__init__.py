"""Readers' own pages: /support with its no-JavaScript form, the thank-you, managing a gift.

Other features import only what this package exports below.
"""

from __future__ import annotations

from flask import Flask

from service.readers import pages
from service.readers.models import SiteText
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
    "SiteText",
    "SiteTextError",
    "SupportTexts",
    "init_app",
    "save_support_texts",
    "support_texts",
]


def init_app(app: Flask) -> None:
    """Register the reader-facing pages."""
    app.register_blueprint(pages.bp)
