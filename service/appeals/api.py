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
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint, abort
from sqlalchemy.exc import SQLAlchemyError

from service.appeals.asks import resolve_asks
from service.appeals.cache import get_appeal_snapshot
from service.appeals.counters import client_key, count_beacons, sweep_beacon_marks
from service.appeals.currency import currency_for
from service.appeals.decision import (
    AppealDecision,
    ArticleContext,
    CampaignSpec,
    ReaderState,
    decide_appeal,
)
from service.appeals.schemas import (
    AppealEventSchema,
    AppealQuerySchema,
    AppealSchema,
    AppealsQuerySchema,
    AppealsSchema,
)
from service.appeals.social_proof import meter_visible, shown_count
from service.core.extensions import db, limiter
from service.core.models import utcnow
from service.core.money import decimal_digits
from service.core.settings import Settings
from service.ledger import display_count

log = logging.getLogger(__name__)

blp = Blueprint(
    "appeals_api",
    __name__,
    url_prefix="/api/v1",
    description="Appeals on article pages and what readers do with them.",
)

APPEAL_EVENT_RATE_LIMIT = "60 per minute"
# How often a process deletes beacon marks and client counts that no longer matter.
BEACON_SWEEP_SECONDS = 3600.0
# Answers remembered per URL until the cached campaigns are next reloaded; bounded so
# a flood of distinct URLs cannot grow memory (the widget keeps its URLs coarse).
MEMO_MAX_ENTRIES = 20_000
_APPEAL_ENDPOINTS = frozenset({"appeals_api.get_appeal", "appeals_api.get_appeals"})
# While the database is away, answer "no appeal" but let caches retry soon.
UNAVAILABLE_MAX_AGE = 5


@dataclass(frozen=True)
class _Answer:
    """A finished JSON answer with the headers that make it cacheable."""

    body: bytes
    etag: str
    cache_control: str

    @classmethod
    def of(cls, data: dict[str, Any], max_age: int) -> _Answer:
        body = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        # The same body always has the same ETag, on every instance.
        etag = hashlib.blake2b(body, digest_size=12).hexdigest()
        return cls(body, etag, f"public, max-age={max_age}")

    def response(self) -> Response:
        # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
        if request.if_none_match.contains_weak(self.etag):
            response = Response(status=304)
        else:
            response = Response(self.body, mimetype="application/json")
        response.headers["Cache-Control"] = self.cache_control
        response.set_etag(self.etag)
        return response


@dataclass
class _Memo:
    """Finished answers by URL for one snapshot generation of campaigns and count."""

    generation: int = -1
    answers: dict[bytes, tuple[int, _Answer]] = field(default_factory=dict)


def _memo() -> _Memo:
    memo: _Memo | None = current_app.extensions.get("appeal_memo")
    if memo is None:
        memo = current_app.extensions.setdefault("appeal_memo", _Memo())
    return memo


@limiter.request_filter
def _appeal_reads_skip_the_limiter() -> bool:
    """No rate limit applies to the cacheable appeal reads; skip the limiter's work there.

    They are on every article page view and a CDN absorbs floods of them; the beacons
    (POST) stay limited.
    """
    return request.method == "GET" and request.endpoint in _APPEAL_ENDPOINTS


@blp.before_request
def _answer_from_memo() -> ResponseReturnValue | None:
    """Answer a URL seen since the campaigns were loaded without parsing it again.

    The URL fully determines the answer, so this is what a CDN would do too; it keeps
    the endpoint close to a trivial one when no CDN sits in front.
    """
    if request.method != "GET" or request.endpoint not in _APPEAL_ENDPOINTS:
        return None
    try:
        generation = get_appeal_snapshot().generation
    except SQLAlchemyError:
        return None  # the view answers "unavailable"
    memo = _memo()
    if memo.generation != generation:
        memo.generation, memo.answers = generation, {}
        return None
    hit = memo.answers.get(_memo_key())
    # The generation check also covers a store that raced with a reset.
    return hit[1].response() if hit is not None and hit[0] == generation else None


def _memo_key() -> bytes:
    return request.path.encode() + b"?" + request.query_string


def _remember(answer: _Answer, generation: int) -> None:
    memo = _memo()
    if memo.generation == generation:
        if len(memo.answers) >= MEMO_MAX_ENTRIES:
            memo.answers.clear()
        memo.answers[_memo_key()] = (generation, answer)


@blp.route("/appeal", methods=["GET"])
@blp.arguments(AppealQuerySchema(), location="query", as_kwargs=False)
@blp.response(200, AppealSchema)
def get_appeal(args: dict[str, Any]) -> ResponseReturnValue:
    """Decide the appeal for one placement of an article page view."""
    answers, max_age, generation = _decide(args, [args["placement"]])
    return _cacheable(answers[args["placement"]], max_age, generation)


@blp.route("/appeals", methods=["GET"])
@blp.arguments(AppealsQuerySchema(), location="query", as_kwargs=False)
@blp.response(200, AppealsSchema)
def get_appeals(args: dict[str, Any]) -> ResponseReturnValue:
    """Decide the appeals for several placements at once: one request per page view."""
    answers, max_age, generation = _decide(args, args["placements"])
    return _cacheable(answers, max_age, generation)


@blp.route("/appeal-events", methods=["POST"])
@limiter.limit(APPEAL_EVENT_RATE_LIMIT, methods=["POST"])
@blp.arguments(AppealEventSchema())
@blp.response(204)
@blp.alt_response(429, schema="Error", description="Too many beacons from this client")
@blp.alt_response(503, schema="Error", description="The database is away; nothing counted")
def post_appeal_event(beacon: dict[str, str]) -> ResponseReturnValue:
    """Count an impression, click or dismissal in today's counters (at most once).

    Accepted but not counted: a repeat within the page view, a click or dismissal
    without the page view's impression, a campaign or variant that is not running (a
    beacon may arrive after staff changed the campaign), a client past its daily cap.
    """
    count_page_beacons([beacon])
    return ""


def count_page_beacons(beacons: list[dict[str, str]]) -> int:
    """Count the client's beacons as `count_beacons` allows; 503 if the database is away."""
    settings: Settings = current_app.extensions["settings"]
    try:
        snapshot = get_appeal_snapshot()
        _sweep_when_due()
        return count_beacons(
            db.session,
            beacons,
            client=client_key(settings.secret_key, get_remote_address(), utcnow().date()),
            daily_cap=settings.appeal_beacon_daily_cap,
            is_running=snapshot.has_variant,
        )
    except SQLAlchemyError:
        abort(503, message="Appeal events cannot be counted right now.")
        raise AssertionError("abort returned") from None  # flask-smorest's abort is untyped


def _sweep_when_due() -> None:
    """Forget old page views and clients' counts, at most once an hour per process."""
    now = time.monotonic()
    if current_app.extensions.get("appeal_beacon_sweep_due", 0.0) <= now:
        current_app.extensions["appeal_beacon_sweep_due"] = now + BEACON_SWEEP_SECONDS
        sweep_beacon_marks(db.session)


def _decide(
    args: dict[str, Any], placements: list[str]
) -> tuple[dict[str, dict[str, Any]], int, int | None]:
    """The answers per placement, their max-age, and the snapshot generation used."""
    settings: Settings = current_app.extensions["settings"]
    try:
        snapshot = get_appeal_snapshot()
    except SQLAlchemyError:
        log.warning("appeal asked for while the database is away", exc_info=True)
        unavailable = {p: _unavailable(p, settings) for p in placements}
        return unavailable, UNAVAILABLE_MAX_AGE, None
    article = ArticleContext.of(args["article_id"], args["section"], args["tags"])
    reader = ReaderState(
        reader_id=args["reader"],
        supporter=args["supporter"],
        dismissed_until=args["dismissed_until"],
        articles_read=args["articles_read"],
        device=args["device"],
        referrer=args["referrer"],
        country=args["country"],
        donor_state=args["donor_state"],
    )
    now = utcnow()
    display = shown_count(display_count, settings.social_proof_min_count)
    currency = currency_for(
        args["country"],
        snapshot.country_currencies,
        settings.supported_currencies,
        settings.default_currency,
    )
    answers = {}
    for placement in placements:
        decision = decide_appeal(
            snapshot.campaigns,
            snapshot.supporter_count,
            article,
            reader,
            now,
            placement=placement,
            display=display,
        )
        answers[placement] = _as_json(decision, settings, currency, snapshot.campaigns)
    return answers, settings.appeal_cache_seconds, snapshot.generation


def _as_json(
    decision: AppealDecision,
    settings: Settings,
    currency: str,
    campaigns: tuple[CampaignSpec, ...],
) -> dict[str, Any]:
    """The documented Appeal shape, built directly (the fuzz tests check it matches).

    The currency follows the reader's country (a query parameter, so the URL still
    names the whole answer); the asks are the shown variant's in that currency.
    """
    copy = decision.copy
    custom = next(
        (
            v.asks
            for c in campaigns
            if c.slug == decision.campaign
            for v in c.variants
            if v.key == decision.variant
        ),
        {},
    )
    asks = resolve_asks(custom, currency, settings.currency_limits)
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
        "goal_meter": meter_visible(
            decision.supporters, decision.goal, settings.goal_meter_min_percent
        ),
        "currency": currency,
        "currency_digits": decimal_digits(currency),
        "asks": asks.as_json(currency) if asks is not None else None,
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
        "supporters": {"count": 0, "display": ""},
        "goal": None,
        "goal_meter": False,
        "currency": settings.default_currency,
        "currency_digits": decimal_digits(settings.default_currency),
        "asks": None,
        "dismiss_days": settings.dismiss_days,
    }


def _cacheable(data: dict[str, Any], max_age: int, generation: int | None) -> Response:
    """A JSON response a CDN may cache by URL, remembered here for the same URL."""
    answer = _Answer.of(data, max_age)
    if generation is not None:
        _remember(answer, generation)
    return answer.response()
