# flask-smorest ships no type information, so its decorators are untyped.
# mypy: disallow-untyped-decorators=False
"""POST /api/v1/appeal-events/batch: a page view's beacons, sent once as the page hides.

The widget queues its impressions, clicks and closes and sends them together with
`navigator.sendBeacon`, which posts `text/plain` (a simple request: no CORS preflight),
so the body is read as JSON whatever its content type says.
"""

from __future__ import annotations

import json
from typing import Any, Final

from flask import request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint, abort
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from service.appeals.api import APPEAL_EVENT_RATE_LIMIT, count_page_beacons
from service.appeals.schemas import AppealEventSchema
from service.core.extensions import limiter

# A page view has a handful of events (an impression, click and close per placement).
MAX_EVENTS: Final = 50
MAX_BODY_BYTES: Final = 16 * 1024

blp = Blueprint(
    "appeal_beacons",
    __name__,
    url_prefix="/api/v1",
    description="A page view's appeal beacons in one request.",
)


class AppealEventBatchSchema(Schema):
    """{"events": [AppealEvent, ...]}: what the widget sends when the page hides."""

    class Meta:
        unknown = RAISE

    events = fields.List(
        fields.Nested(AppealEventSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_EVENTS),
    )


@blp.route("/appeal-events/batch", methods=["POST"])
@limiter.limit(APPEAL_EVENT_RATE_LIMIT, methods=["POST"])
# Documented as JSON, read here whatever the content type (sendBeacon sends text/plain).
@blp.doc(
    requestBody={
        "required": True,
        "content": {"application/json": {"schema": AppealEventBatchSchema}},
    }
)
@blp.response(204)
@blp.alt_response(400, schema="Error", description="The body is not JSON")
@blp.alt_response(413, schema="Error", description="The body is too large")
@blp.alt_response(422, schema="Error", description="The events are not valid")
@blp.alt_response(429, schema="Error", description="Too many beacons from this client")
@blp.alt_response(503, schema="Error", description="The database is away; nothing counted")
def post_appeal_events() -> ResponseReturnValue:
    """Count a page view's impressions, clicks and dismissals (JSON, any content type).

    Each event is counted at most once per page view (`view_id`), placement and type; a
    click or dismissal only after that page view's impression. Events for campaigns or
    variants that no longer run (a beacon may arrive after staff changed the campaign),
    repeats, and events beyond the client's daily cap are skipped, not refused.
    """
    if (request.content_length or 0) > MAX_BODY_BYTES:
        abort(413, message="Send at most 16 KB of events.")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY_BYTES:
        abort(413, message="Send at most 16 KB of events.")
    try:
        data: Any = json.loads(raw)
    except ValueError:
        abort(400, message="Send the events as JSON.")
    try:
        batch = AppealEventBatchSchema().load(data if isinstance(data, dict) else {})
    except ValidationError as error:
        abort(422, message="The events are not valid.", errors={"json": error.messages})
    count_page_beacons(batch["events"])
    return ""
