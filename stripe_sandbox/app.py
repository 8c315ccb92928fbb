"""The Flask app factory of the Stripe sandbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from . import (
    api,
    controls,
    objects,
    pages,
    payout_routes,  # noqa: F401  (adds the balance and payout routes to api and controls)
    webhook_endpoints,  # noqa: F401  (adds the webhook endpoint routes to api)
)
from .config import SandboxConfig
from .errors import StripeError
from .money import format_amount
from .runtime import EXTENSION, Sandbox
from .simulator import Simulator
from .state import SandboxState
from .webhooks import WebhookDeliverer


def create_app(config: SandboxConfig | Mapping[str, Any] | None = None) -> Flask:
    """Build a sandbox app; its webhook worker starts when delivery is configured."""
    if config is None:
        config = SandboxConfig()
    elif not isinstance(config, SandboxConfig):
        config = SandboxConfig.from_mapping(config)
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    state = SandboxState()
    webhooks = WebhookDeliverer(
        state,
        url=config.webhook_url,
        secret=config.webhook_secret,
        max_attempts=config.webhook_max_attempts,
        backoff=config.webhook_backoff,
        backoff_max=config.webhook_backoff_max,
        timeout=config.webhook_timeout,
    )
    if config.webhook_url and config.webhook_secret:
        # The endpoint given at start, as if created through the API: every event type.
        configured = objects.webhook_endpoint(
            url=config.webhook_url,
            enabled_events=["*"],
            api_version=state.api_version,
            now=state.now(),
        )
        configured["description"] = "configured at start"
        state.add_webhook_endpoint(configured, config.webhook_secret)
    sandbox = Sandbox(config=config, state=state, sim=Simulator(state, config), webhooks=webhooks)
    app.extensions[EXTENSION] = sandbox
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(controls.bp)
    app.jinja_env.filters["money"] = format_amount
    app.jinja_env.globals["account_name"] = config.account_name

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | tuple[str, int]:
        if request.path.startswith("/v1/"):
            message = (
                f"Unrecognized request URL ({request.method}: {request.path})."
                if error.code in (404, 405)
                else str(error.description)
            )
            return api.error_response(StripeError(error.code or 500, message))
        return render_template("error.html", title=error.name, message=error.description), (
            error.code or 500
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response | tuple[str, int]:
        app.logger.exception("sandbox error")
        if request.path.startswith("/v1/"):
            return api.error_response(
                StripeError(500, f"Stripe sandbox internal error: {error}", error_type="api_error")
            )
        return render_template("error.html", title="Sandbox error", message=str(error)), 500

    if config.deliver_webhooks:
        webhooks.start()
    return app
