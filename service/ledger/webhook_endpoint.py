"""Stripe's callbacks: POST /webhooks/stripe."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from service.core.db import commit_early
from service.core.extensions import db, limiter
from service.core.settings import Settings
from service.ledger.inbox import SignatureError, receive_event

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/stripe")
@limiter.exempt
def stripe_webhook() -> ResponseReturnValue:
    """Verify and store one event, queue its application, answer at once.

    400 on a bad signature or a signed body we cannot read (kept in the inbox with why);
    a 5xx only when the database is away, so Stripe retries. A worker applies the event.
    """
    settings: Settings = current_app.extensions["settings"]
    # The signature covers the exact bytes Stripe sent, so read them before any parsing.
    payload = request.get_data(cache=False)
    try:
        result = receive_event(
            db.session, payload, request.headers.get("Stripe-Signature"), settings
        )
    except SignatureError as error:
        body = {"code": 400, "status": "Bad Request", "message": f"Invalid webhook: {error}"}
        return jsonify(body), 400
    if result.malformed:
        # Kept in the inbox with the reason (the hook rolls back non-2xx answers).
        commit_early(db.session)
        body = {"code": 400, "status": "Bad Request", "message": f"Invalid webhook: {result.error}"}
        return jsonify(body), 400
    return jsonify(
        received=True,
        event=result.stripe_event_id,
        outcome=result.outcome.value,
        duplicate=result.duplicate,
    )
