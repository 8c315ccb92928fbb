"""Readers' own pages: /support with its no-JavaScript form, the thank-you, managing a gift."""

from __future__ import annotations

from flask import Flask

from service.readers import pages


def init_app(app: Flask) -> None:
    """Register the reader-facing pages."""
    app.register_blueprint(pages.bp)
