"""The small core every feature stands on: settings, database, extensions, errors, headers,
logging, money, CORS, the brand, health and the CLI group. It imports no feature."""

from __future__ import annotations

import os
import sys

from flask import Flask

from service.core import (
    brand,
    cli,
    cors,
    errors,
    health,
    i18n,
    input_guard,
    logging_setup,
    proxies,
    security_headers,
)
from service.core.extensions import init_extensions
from service.core.settings import Settings


def init_app(app: Flask, settings: Settings) -> None:
    """Bind the core's extensions, error handlers, headers, health check and CLI."""
    logging_setup.configure(app, settings)
    proxies.warn_on_mismatch(settings.trusted_proxy_count, os.environ, sys.argv)
    init_extensions(app, settings)
    i18n.init_app(app, settings)
    errors.init_app(app)
    input_guard.init_app(app)
    cors.init_app(app, settings)
    security_headers.init_app(app, settings)
    brand.init_app(app, settings)
    app.register_blueprint(health.bp)
    cli.init_app(app)
