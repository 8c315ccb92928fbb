"""Blueprints, registered on the app in one place.

JSON API blueprints are flask-smorest Blueprints registered through `api_of(app)` so
they appear in /api/openapi.json; HTML pages are plain Flask blueprints.
"""

from __future__ import annotations

from flask import Flask

from service.extensions import api_of


def register_views(app: Flask) -> None:
    from service.views import checkout, health, support

    api = api_of(app)
    api.register_blueprint(checkout.blp)
    app.register_blueprint(health.bp)
    app.register_blueprint(support.bp)
    from service.views import supporters_api, webhooks

    api.register_blueprint(supporters_api.blp)
    app.register_blueprint(webhooks.bp)
    from service import demo
    from service.views import appeals_api, widget

    api.register_blueprint(appeals_api.blp)
    app.register_blueprint(widget.bp)
    app.register_blueprint(demo.bp)
    from service.views import staff

    app.register_blueprint(staff.bp)
