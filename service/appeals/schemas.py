"""Shapes of the appeal API: the query a widget sends, the answer, and beacons."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, validate

from service.appeals.counters import EVENT_TYPES, VIEW_ID_PATTERN
from service.appeals.decision import DEVICES, DONOR_STATES, PLACEMENTS, REFERRERS

PLACEMENT_MESSAGE = "Choose top, bottom, banner or header."
VIEW_ID_MESSAGE = "Send the page view's random id: 16 to 64 letters, digits, - or _."
# What GET /api/v1/appeals accepts as `placements`, as the document states it.
PLACEMENTS_PATTERN = r"^(top|bottom|banner|header)(,(top|bottom|banner|header))*$"
# Readers' article counts above this change no decision; capping keeps URLs cacheable.
ARTICLES_READ_CAP = 1000


def _split_labels(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


class _ReaderQuerySchema(Schema):
    """What the page and the reader's browser say, shared by both appeal endpoints."""

    class Meta:
        # Query strings pick up cache-busters and tracking parameters; ignore those.
        unknown = EXCLUDE

    article_id = fields.String(load_default="", validate=validate.Length(max=200))
    section = fields.String(load_default="", validate=validate.Length(max=100))
    tags = fields.String(
        load_default="",
        validate=validate.Length(max=1000),
        metadata={"description": "Comma-separated tags of the article"},
    )
    articles_read = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "Articles this browser read in the last 30 days"},
    )
    supporter = fields.Boolean(load_default=False, metadata={"description": "0 or 1"})
    dismissed_until = fields.AwareDateTime(
        load_default=None,
        default_timezone=UTC,
        metadata={"description": "ISO 8601 time until which the reader closed the appeal"},
    )
    reader = fields.String(
        load_default="",
        validate=validate.Regexp(r"^[A-Za-z0-9_-]{0,64}$", error="Use up to 64 letters or digits."),
        metadata={"description": "The random reader id kept in the browser (A/B bucketing)"},
    )
    device = fields.String(
        load_default="",
        validate=validate.OneOf(("", *DEVICES)),
        metadata={"description": "phone or desktop, for device targeting"},
    )
    referrer = fields.String(
        load_default="",
        validate=validate.OneOf(("", *REFERRERS)),
        metadata={"description": "How the reader came: search, social, newsletter, direct, other"},
    )
    country = fields.String(
        load_default="",
        validate=validate.Regexp(r"^([A-Za-z]{2})?$", error="Use a two-letter country code."),
        metadata={"description": "ISO 3166 country code, for country targeting"},
    )
    donor_state = fields.String(
        load_default="",
        validate=validate.OneOf(("", *DONOR_STATES)),
        metadata={"description": "never, current or lapsed (empty: unknown, counts as never)"},
    )

    @post_load
    def _normalise(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["tags"] = _split_labels(data["tags"])
        data["articles_read"] = min(data["articles_read"], ARTICLES_READ_CAP)
        return data


class AppealQuerySchema(_ReaderQuerySchema):
    """GET /api/v1/appeal: one placement."""

    placement = fields.String(
        required=True, validate=validate.OneOf(PLACEMENTS, error=PLACEMENT_MESSAGE)
    )


class AppealsQuerySchema(_ReaderQuerySchema):
    """GET /api/v1/appeals: several placements in one request (what the widget uses)."""

    placements = fields.String(
        load_default="top,bottom",
        metadata={
            "description": "Comma-separated placements: top, bottom, banner, header",
            "pattern": PLACEMENTS_PATTERN,
        },
    )

    @post_load
    def _placements(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        wanted = _split_labels(data["placements"])
        if not wanted or any(p not in PLACEMENTS for p in wanted):
            raise ValidationError(
                "Use top, bottom, banner or header, comma-separated.", "placements"
            )
        data["placements"] = [p for p in PLACEMENTS if p in wanted]
        return data


class AppealSupportersSchema(Schema):
    count = fields.Integer(required=True)
    display = fields.String(required=True, metadata={"description": "As shown in copy"})


class AsksSchema(Schema):
    """What a reader is offered in one currency: amounts in minor units."""

    frequencies = fields.List(
        fields.String(), required=True, metadata={"description": "monthly, annual, one_off"}
    )
    default_frequency = fields.String(required=True)
    amounts = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()), required=True)
    default_amounts = fields.Dict(
        keys=fields.String(), values=fields.Integer(allow_none=True), required=True
    )
    minimum = fields.Integer(required=True)
    minimum_display = fields.String(required=True)


class AppealSchema(Schema):
    """The decision for one placement, with the copy ready to show."""

    show = fields.Boolean(required=True)
    reason = fields.String(
        required=True,
        metadata={
            "description": "shown, goal_thank_you, supporter, dismissed, no_campaign, "
            "outside_dates, excluded, not_targeted, below_article_threshold, frequency_capped, "
            "goal_reached, format_not_chosen, no_variant, no_copy or unavailable"
        },
    )
    placement = fields.String(required=True)
    campaign = fields.String(allow_none=True)
    variant = fields.String(allow_none=True)
    heading = fields.String(allow_none=True)
    body = fields.String(allow_none=True)
    cta = fields.String(allow_none=True)
    supporters = fields.Nested(AppealSupportersSchema, required=True)
    goal = fields.Integer(allow_none=True)
    goal_meter = fields.Boolean(
        required=True, metadata={"description": "Show the goal meter (enough of the goal reached)"}
    )
    currency = fields.String(
        required=True, metadata={"description": "For the amount picker: the country's currency"}
    )
    currency_digits = fields.Integer(
        required=True,
        metadata={"description": "Decimals in the currency as Stripe counts them (0 for jpy)"},
    )
    asks = fields.Nested(AsksSchema, allow_none=True, metadata={"description": "In `currency`"})
    dismiss_days = fields.Integer(
        required=True, metadata={"description": "Days a closed appeal stays hidden"}
    )


class AppealsSchema(Schema):
    """The decisions for the placements asked for, keyed by placement."""

    top = fields.Nested(AppealSchema)
    bottom = fields.Nested(AppealSchema)
    banner = fields.Nested(AppealSchema)
    header = fields.Nested(AppealSchema)


class AppealEventSchema(Schema):
    """POST /api/v1/appeal-events: one beacon from the widget.

    Counted once per page view (`view_id`), placement and type; a click or dismiss only
    after that page view's impression; beacons for a campaign or variant that is not
    running, or beyond a client's daily cap, are accepted (204) and not counted.
    """

    class Meta:
        unknown = RAISE

    type = fields.String(
        required=True,
        validate=validate.OneOf(EVENT_TYPES, error="Choose impression, click or dismiss."),
    )
    campaign = fields.String(required=True, validate=validate.Length(min=1, max=80))
    variant = fields.String(required=True, validate=validate.Length(min=1, max=40))
    placement = fields.String(
        required=True, validate=validate.OneOf(PLACEMENTS, error=PLACEMENT_MESSAGE)
    )
    view_id = fields.String(
        required=True,
        validate=validate.Regexp(VIEW_ID_PATTERN, error=VIEW_ID_MESSAGE),
        metadata={
            "description": "A random id the widget makes for each page view (16-64 letters, "
            "digits, - or _)",
            "pattern": VIEW_ID_PATTERN,
        },
    )


class SiteCampaignSchema(Schema):
    """One running campaign as the widget decides from it."""

    slug = fields.String(required=True)
    priority = fields.Integer(required=True)
    starts = fields.Integer(allow_none=True, metadata={"description": "ms since 1970"})
    ends = fields.Integer(allow_none=True, metadata={"description": "ms since 1970"})
    include_sections = fields.List(fields.String(), required=True)
    exclude_sections = fields.List(fields.String(), required=True)
    include_tags = fields.List(fields.String(), required=True)
    exclude_tags = fields.List(fields.String(), required=True)
    min_articles_read = fields.Integer(required=True)
    formats = fields.List(
        fields.String(), required=True, metadata={"description": "inline, banner, header"}
    )
    max_views = fields.Integer(allow_none=True, metadata={"description": "Views per views_days"})
    views_days = fields.Integer(required=True)
    max_dismissals = fields.Integer(allow_none=True)
    devices = fields.List(
        fields.String(), required=True, metadata={"description": "phone, desktop"}
    )
    referrers = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "search, social, newsletter, direct, other"},
    )
    countries = fields.List(fields.String(), required=True, metadata={"description": "ISO codes"})
    donor_states = fields.List(
        fields.String(), required=True, metadata={"description": "never, current, lapsed"}
    )
    goal = fields.Integer(allow_none=True, metadata={"description": "The goal to show"})
    goal_meter = fields.Boolean(required=True, metadata={"description": "Show the goal meter"})
    goal_reached_hides = fields.Boolean(required=True)
    thank_you = fields.Boolean(required=True, metadata={"description": "Goal reached: thanks"})
    variants = fields.List(
        fields.Dict(),
        required=True,
        metadata={
            "description": "{key, copy: {placement: {heading, body, cta}}, asks: {currency: "
            "Asks}}, copy filled; a currency not in asks offers `currencies[c].asks`"
        },
    )
    buckets = fields.List(
        fields.Integer(allow_none=True),
        required=True,
        metadata={"description": "Index into variants for each reader bucket 0-99"},
    )


class SiteDocumentSchema(Schema):
    """GET /api/v1/appeals/site: the same document for every article and reader."""

    version = fields.Integer(required=True)
    available = fields.Boolean(required=True, metadata={"description": "False: database away"})
    currency = fields.String(required=True)
    currency_digits = fields.Integer(
        required=True,
        metadata={"description": "Decimals in the currency as Stripe counts them (0 for jpy)"},
    )
    currencies = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        required=True,
        metadata={"description": "Per offered currency: digits, default asks, maximum, fee"},
    )
    countries = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "Country -> currency (others: `currency`)"},
    )
    geo = fields.Boolean(
        required=True, metadata={"description": "/api/v1/reader-country knows the country"}
    )
    dismiss_days = fields.Integer(required=True)
    language = fields.String(
        required=True,
        metadata={"description": "The language of the words and copy (?lang=; else default)"},
    )
    strings = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "The widget's English sentences and their translations"},
    )
    supporters = fields.Nested(AppealSupportersSchema, required=True)
    campaigns = fields.List(fields.Nested(SiteCampaignSchema), required=True)
    pass_key = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": "The ECDSA P-256 public key (JWK) supporter passes are verified with"
        },
    )
