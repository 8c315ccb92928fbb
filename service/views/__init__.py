"""Blueprints, registered on the app in one place.

JSON API blueprints are flask-smorest Blueprints registered through `api_of(app)` so
they appear in /api/openapi.json; HTML pages are plain Flask blueprints.
"""

from __future__ import annotations

from flask import Flask

from service.extensions import api_of


def register_views(app: Flask) -> None:
    # Imported here, not at module level: views import the app's extensions.
    from service import demo
    from service.views import (
        appeals_api,
        checkout,
        health,
        staff,
        support,
        supporters_api,
        webhooks,
        widget,
    )

    api = api_of(app)
    for api_blueprint in (checkout.blp, supporters_api.blp, appeals_api.blp):
        api.register_blueprint(api_blueprint)
    for blueprint in (health.bp, support.bp, webhooks.bp, widget.bp, demo.bp, staff.bp):
        app.register_blueprint(blueprint)
