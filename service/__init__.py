"""Reader contributions service: appeals, Stripe donations, supporter counts, reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from service import appeals, core, donations, ledger, outbound, readers, staff
from service.core.settings import INSTANCE_DIR, PROJECT_ROOT, Settings


def import_all_models() -> None:
    """Load every feature's tables onto the shared metadata (Alembic and tests need all).

    Nothing is left to do: this module imports every feature, and each feature package
    imports its models. Kept so Alembic and tests say what they rely on.
    """


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

    import_all_models()
    core.init_app(app, settings)
    # Each feature registers its own routes, CLI commands and hooks.
    for feature in (ledger, appeals, donations, readers, staff, outbound):
        feature.init_app(app)
    return app
