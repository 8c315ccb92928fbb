"""Security headers on every response; a Content-Security-Policy on every page."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, g

from service.core.settings import Settings

# Where Stripe's hosted pages live; our forms redirect there (CSP form-action covers
# redirects after a form post in Chromium, so they must be listed).
STRIPE_HOSTED_ORIGINS = ("https://checkout.stripe.com", "https://billing.stripe.com")


def content_security_policy(settings: Settings) -> str:
    """Build the CSP for our HTML pages from the settings."""
    hosted = list(STRIPE_HOSTED_ORIGINS)
    if settings.stripe_api_base:
        parts = urlsplit(settings.stripe_api_base)
        hosted.append(f"{parts.scheme}://{parts.netloc}")
    images = ["'self'", "data:"]
    if settings.brand_logo_url.startswith("https://"):
        # The publication's logo may live on its own site or CDN.
        parts = urlsplit(settings.brand_logo_url)
        images.append(f"{parts.scheme}://{parts.netloc}")
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Stylesheets only: no <style> elements or style attributes (the widget adopts a
        # constructed stylesheet, which CSP does not govern); no inline scripts either.
        "style-src": ["'self'"],
        "img-src": images,
        "connect-src": ["'self'"],
        # The publishers' sites too: a sign-in link's form sends the reader back there.
        "form-action": ["'self'", *hosted, *settings.allowed_embed_origins],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def csp_nonce() -> str:
    """This response's nonce for a <style> element that must apply before any script runs.

    (The demo article stands in for a publisher's page: its styles must be in place
    when the async widget measures the page, which an external stylesheet does not
    promise.)
    """
    if "_csp_nonce" not in g:
        g._csp_nonce = secrets.token_urlsafe(16)
    nonce: str = g._csp_nonce
    return nonce


def init_app(app: Flask, settings: Settings) -> None:
    csp = content_security_policy(settings)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    https = settings.public_base_url.startswith("https://")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "text/html":
            nonce = g.get("_csp_nonce")
            headers.setdefault(
                "Content-Security-Policy",
                csp.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")
                if nonce
                else csp,
            )
            headers.setdefault("X-Frame-Options", "DENY")
            headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
            headers.setdefault(
                "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(self)"
            )
        return response
