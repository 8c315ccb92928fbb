"""Readers' own pages: /support with its no-JavaScript form, the thank-you, managing a gift."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the reader-facing pages."""
    from service.readers import pages

    app.register_blueprint(pages.bp)
