"""Extensions, created unbound here and bound to an app in create_app."""

from __future__ import annotations

from flask import Flask, Response
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from service.core.db import Database
from service.core.settings import Settings

db = Database()
# The client IP comes from ProxyFix (only as many X-Forwarded-For hops as we trust).
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
# Staff sign-in; the user loader and the sign-in view are set in init_extensions.
login_manager = LoginManager()


class PublicResponseSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without `Vary: Cookie` on public responses.

    Flask-Login reads the session after every request, so Flask would add `Vary: Cookie`
    to every response; on answers marked `Cache-Control: public` (the widget, the appeal
    API) that tells CDNs to keep a copy per cookie, or none, though they ignore cookies.
    """

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        super().save_session(app, session, response)
        if response.cache_control.public and not session.modified:
            # (HeaderSet.discard misses an item that is not the last one.)
            kept = [value for value in response.vary if value.lower() != "cookie"]
            if kept:
                response.headers["Vary"] = ", ".join(kept)
            else:
                response.headers.pop("Vary", None)


def init_extensions(app: Flask, settings: Settings) -> None:
    """Bind every extension to the app, configured from the settings."""
    app.session_interface = PublicResponseSessionInterface()
    if settings.trusted_proxy_count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxy_count,
            x_proto=settings.trusted_proxy_count,
            x_host=settings.trusted_proxy_count,
        )
    db.init_app(app)
    app.config.update(
        API_TITLE="Reader contributions API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        RATELIMIT_STORAGE_URI=(settings.redis_url or "memory://"),
        RATELIMIT_ENABLED=True,
        # A rate-limit store outage must not take donations down with it.
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    # One Api per app: flask-smorest keeps the OpenAPI spec on the Api object.
    app.extensions["smorest_api"] = Api(app)
    limiter.init_app(app)
    app.config.update(
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
    )
    # The staff feature sets the user loader and the sign-in view.
    login_manager.init_app(app)


def api_of(app: Flask) -> Api:
    """The app's flask-smorest Api, for registering JSON API blueprints."""
    api: Api = app.extensions["smorest_api"]
    return api
