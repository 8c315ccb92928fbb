# flask-smorest ships no type information, so its decorators are untyped.
# mypy: disallow-untyped-decorators=False
"""The appeal API: which appeal a page view shows, and beacons about what readers did.

Everything the answer depends on is in the URL (the reader's state travels in the query
string), so browsers and CDNs may cache it by URL for APPEAL_CACHE_SECONDS.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint, abort
from sqlalchemy.exc import SQLAlchemyError

from service.appeal_counters import record_appeal_event
from service.appeals import AppealDecision, ArticleContext, ReaderState, decide_appeal
from service.campaigns import get_appeal_snapshot
from service.extensions import db, limiter
from service.models import utcnow
from service.schemas.appeals import (
    AppealEventSchema,
    AppealQuerySchema,
    AppealSchema,
    AppealsQuerySchema,
    AppealsSchema,
)
from service.settings import Settings
from service.supporters import display_count

log = logging.getLogger("service.appeals")

blp = Blueprint(
    "appeals_api",
    __name__,
    url_prefix="/api/v1",
    description="Appeals on article pages and what readers do with them.",
)

APPEAL_EVENT_RATE_LIMIT = "60 per minute"
# While the database is away, answer "no appeal" but let caches retry soon.
UNAVAILABLE_MAX_AGE = 5
_appeal_schema = AppealSchema()
_appeals_schema = AppealsSchema()


@blp.route("/appeal", methods=["GET"])
@blp.arguments(AppealQuerySchema, location="query", as_kwargs=False)
@blp.response(200, AppealSchema)
def get_appeal(args: dict[str, Any]) -> ResponseReturnValue:
    """Decide the appeal for one placement of an article page view."""
    answers, max_age = _decide(args, [args["placement"]])
    return _cacheable(_appeal_schema.dump(answers[args["placement"]]), max_age)


@blp.route("/appeals", methods=["GET"])
@blp.arguments(AppealsQuerySchema, location="query", as_kwargs=False)
@blp.response(200, AppealsSchema)
def get_appeals(args: dict[str, Any]) -> ResponseReturnValue:
    """Decide the appeals for several placements at once: one request per page view."""
    answers, max_age = _decide(args, args["placements"])
    return _cacheable(_appeals_schema.dump(answers), max_age)


@blp.route("/appeal-events", methods=["POST"])
@limiter.limit(APPEAL_EVENT_RATE_LIMIT, methods=["POST"])
@blp.arguments(AppealEventSchema)
@blp.response(204)
def post_appeal_event(beacon: dict[str, str]) -> ResponseReturnValue:
    """Count an impression, click or dismissal in today's counters."""
    snapshot = get_appeal_snapshot()
    if not snapshot.has_variant(beacon["campaign"], beacon["variant"]):
        abort(422, message="No running campaign has this variant.")
    record_appeal_event(
        db.session, beacon["type"], beacon["campaign"], beacon["variant"], beacon["placement"]
    )
    return ""


@blp.after_request
def _cors(response: Response) -> Response:
    """Let allowed publisher origins read our answers and send beacons."""
    settings: Settings = current_app.extensions["settings"]
    origin = request.headers.get("Origin")
    response.vary.add("Origin")
    if origin and (origin in settings.allowed_embed_origins or origin == settings.public_origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _decide(args: dict[str, Any], placements: list[str]) -> tuple[dict[str, dict[str, Any]], int]:
    settings: Settings = current_app.extensions["settings"]
    try:
        snapshot = get_appeal_snapshot()
    except SQLAlchemyError:
        log.warning("appeal asked for while the database is away", exc_info=True)
        return {p: _unavailable(p, settings) for p in placements}, UNAVAILABLE_MAX_AGE
    article = ArticleContext.of(args["article_id"], args["section"], args["tags"])
    reader = ReaderState(
        reader_id=args["reader"],
        supporter=args["supporter"],
        dismissed_until=args["dismissed_until"],
        articles_read=args["articles_read"],
    )
    now = utcnow()
    answers = {
        placement: _as_json(
            decide_appeal(
                snapshot.campaigns,
                snapshot.supporter_count,
                article,
                reader,
                now,
                placement=placement,
                display=display_count,
            ),
            settings,
        )
        for placement in placements
    }
    return answers, settings.appeal_cache_seconds


def _as_json(decision: AppealDecision, settings: Settings) -> dict[str, Any]:
    copy = decision.copy
    return {
        "show": decision.show,
        "reason": decision.reason,
        "placement": decision.placement,
        "campaign": decision.campaign,
        "variant": decision.variant,
        "heading": copy.heading if copy else None,
        "body": copy.body if copy else None,
        "cta": copy.cta if copy else None,
        "supporters": {"count": decision.supporters, "display": decision.supporters_display},
        "goal": decision.goal,
        "currency": settings.default_currency,
        "dismiss_days": settings.dismiss_days,
    }


def _unavailable(placement: str, settings: Settings) -> dict[str, Any]:
    return {
        "show": False,
        "reason": "unavailable",
        "placement": placement,
        "campaign": None,
        "variant": None,
        "heading": None,
        "body": None,
        "cta": None,
        "supporters": {"count": 0, "display": "0"},
        "goal": None,
        "currency": settings.default_currency,
        "dismiss_days": settings.dismiss_days,
    }


def _cacheable(data: dict[str, Any], max_age: int) -> Response:
    """A JSON response a CDN may cache by URL, with an ETag for cheap revalidation."""
    body = json.dumps(data, separators=(",", ":"), sort_keys=True)
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.set_etag(hashlib.blake2b(body.encode(), digest_size=12).hexdigest())
    response.make_conditional(request)
    return response
