"""Liveness and readiness for load balancers."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from service.core.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers, 503 when it does not."""
    if db.ping():
        return jsonify(status="ok")
    return jsonify(status="unavailable", message="the database does not answer"), 503
