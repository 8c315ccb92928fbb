"""JSON errors under /api/ and /webhooks/, HTML error pages elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/webhooks/"))


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        if wants_json():
            body: dict[str, object] = {
                "code": code,
                "status": error.name,
                "message": error.description,
            }
            # flask-smorest / webargs put per-field validation messages here.
            messages = getattr(error, "data", {}).get("messages")
            if messages:
                body["errors"] = messages
            response = jsonify(body)
            response.status_code = code
            # Keep headers such as Allow (405) and Retry-After (429).
            for name, value in error.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value
            return response
        return render_template("error.html", code=code, name=error.name, error=error), code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _http_error(InternalServerError())
