"""JSON errors under /api/ and /webhooks/, HTML error pages elsewhere, one message for both."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

from service.core.i18n import lazy_gettext

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """Tell whether this request's errors are answered in JSON."""
    return request.path.startswith(("/api/", "/webhooks/"))


def _data(error: HTTPException) -> dict[str, Any]:
    """The extra data flask-smorest and webargs attach to an aborted request."""
    data = getattr(error, "data", None)
    return data if isinstance(data, dict) else {}


def error_message(error: HTTPException) -> str:
    """The message a client sees: flask-smorest's `message`, else the description."""
    message = _data(error).get("message")
    if message:
        return str(message)
    return str(error.description or error.name)


def field_errors(error: HTTPException) -> Any:
    """Per-field messages from validation (webargs' `messages`) or `abort(errors=...)`."""
    data = _data(error)
    return data.get("errors") or data.get("messages")


# What the error page's heading says, in the reader's language (Werkzeug's name otherwise).
TITLES = {
    400: lazy_gettext("Bad request"),
    401: lazy_gettext("Please sign in"),
    403: lazy_gettext("Not allowed"),
    404: lazy_gettext("Page not found"),
    405: lazy_gettext("Not allowed"),
    409: lazy_gettext("That cannot be done now"),
    410: lazy_gettext("No longer available"),
    413: lazy_gettext("Too much data"),
    422: lazy_gettext("Please check what you sent"),
    429: lazy_gettext("Too many requests"),
    500: lazy_gettext("Something went wrong"),
    502: lazy_gettext("Our payment provider did not answer"),
    503: lazy_gettext("Briefly unavailable"),
}


def is_default_message(error: HTTPException) -> bool:
    """Tell whether the message is Werkzeug's generic text for the status code."""
    return error_message(error) == type(error).description


def init_app(app: Flask) -> None:
    """Answer every HTTP error in the documented shape: code, status, message, errors."""

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        message = error_message(error)
        if wants_json():
            body: dict[str, object] = {"code": code, "status": error.name, "message": message}
            errors = field_errors(error)
            if errors:
                body["errors"] = errors
            response = jsonify(body)
            response.status_code = code
            # Keep headers such as Allow (405) and Retry-After (429), and any an abort set.
            for name, value in error.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value
            for name, value in (_data(error).get("headers") or {}).items():
                response.headers[name] = value
            return response
        page = render_template(
            "error.html",
            code=code,
            name=str(TITLES.get(code, error.name)),
            message=message,
            generic=is_default_message(error),
        )
        return page, code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _http_error(InternalServerError())
