"""CORS for the public JSON API the widget calls from publishers' pages, and nothing else."""

from __future__ import annotations

import re

from flask import Flask, Response, request
from flask_cors import CORS

from service.core.settings import Settings

# What the widget calls through Flask: the appeal(s), its beacons (one or a batch),
# checkout, the session status, the supporter count, a reader's sign-in link and pass. Staff
# pages, the webhook and the OpenAPI document are never shared. (The site document,
# /api/v1/appeals/site, is answered before Flask and open to every origin: see
# service/appeals/public.py.)
WIDGET_API_PATHS = re.compile(
    r"^/api/v1/(appeals?|appeal-events(/batch)?|checkout|checkout/sessions/[^/]+|supporters/count|readers/sign-in-link|readers/pass)$"
)
# Preflight answers may be reused this long (browsers cap it lower anyway).
PREFLIGHT_MAX_AGE_SECONDS = 600


def allowed_origins(settings: Settings) -> list[str]:
    """The publishers' origins plus our own public origin (the /support page's widget)."""
    return sorted({*settings.allowed_embed_origins, settings.public_origin})


def init_app(app: Flask, settings: Settings) -> None:
    """Let allowed origins read the widget's API; never with credentials, never a wildcard."""

    @app.after_request
    def _vary_on_origin(response: Response) -> Response:
        # Every answer on these paths depends on Origin, also one without the header:
        # the appeal answers are cached by CDNs, which must keep a copy per origin.
        if WIDGET_API_PATHS.match(request.path):
            response.vary.add("Origin")
        return response

    CORS(
        app,
        resources={WIDGET_API_PATHS: {}},
        # Literal origins, compared whole (flask-cors treats only compiled patterns as regexes).
        origins=allowed_origins(settings),
        methods=["GET", "POST"],
        allow_headers=["Content-Type", "Idempotency-Key"],
        expose_headers=["Retry-After"],
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
        supports_credentials=False,
        send_wildcard=False,
        # Without an Origin header, say nothing (flask-cors would list every allowed origin).
        always_send=False,
        # Vary: Origin is added above on every answer, not only on allowed ones.
        vary_header=False,
    )
