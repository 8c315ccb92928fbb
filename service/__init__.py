"""Reader contributions service: appeals, Stripe donations, supporter counts, reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from service.settings import INSTANCE_DIR, PROJECT_ROOT, Settings


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app from the environment, with optional setting overrides."""
    settings = Settings.from_env()
    if overrides:
        settings = settings.with_overrides(overrides)

    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.extensions["settings"] = settings
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.is_testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        MAX_CONTENT_LENGTH=256 * 1024,
    )

    from service import cli, errors, logging_setup, security_headers
    from service.extensions import init_extensions
    from service.views import register_views

    logging_setup.configure(app, settings)
    init_extensions(app, settings)
    errors.init_app(app)
    security_headers.init_app(app, settings)
    register_views(app)
    cli.init_app(app)
    return app
