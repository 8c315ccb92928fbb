"""The embeddable widget script's routes (served by the public path, see public.py)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from service.appeals.public import public_path
from service.core.urls import public_url

bp = Blueprint("widget", __name__)


@bp.get("/widget.js")
def widget_js() -> ResponseReturnValue:
    """Serve static/widget.js under the URL publishers paste (briefly cacheable)."""
    return Response.from_app(public_path(current_app).widget, request.environ)


@bp.get("/widget.<version>.js")
def versioned_widget_js(version: str) -> ResponseReturnValue:
    """Serve static/widget.js under its versioned, immutable URL."""
    del version  # the public path compares it with the current version
    return Response.from_app(public_path(current_app).widget, request.environ)


def versioned_widget_url() -> str:
    """The absolute immutable URL of the current widget (for our own pages)."""
    version = public_path(current_app).widget_version()
    return public_url("widget.versioned_widget_js", version=version)
