"""Appeals: which box a page view shows, the campaigns behind it, the widget and the demo."""

from __future__ import annotations

from flask import Flask

from service.core.extensions import api_of


def init_app(app: Flask) -> None:
    """Register the appeal API, the widget script and the demo article."""
    from service.appeals import api, demo, widget

    api_of(app).register_blueprint(api.blp)
    app.register_blueprint(widget.bp)
    app.register_blueprint(demo.bp)
