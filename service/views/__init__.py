"""Blueprints, registered on the app in one place."""

from __future__ import annotations

from flask import Flask


def register_views(app: Flask) -> None:
    from service.views import health, support

    app.register_blueprint(health.bp)
    app.register_blueprint(support.bp)
