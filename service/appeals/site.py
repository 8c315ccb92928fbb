"""The site document: every running campaign, ready for the widget to decide from.

One document for the whole site, identical for every article and every reader, so a CDN
answers nearly every page view from one cached copy. The widget runs the same decision
as `decision.decide_appeal` on it with the reader's state, which never leaves the
browser. Everything that depends only on the campaigns and the count is worked out here,
with the Python decision's own functions, so the browser's half stays small: the copy
comes filled in (count and goal), the goal state is settled, and each campaign lists the
variant every reader bucket (0-99) gets.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from service.appeals.asks import default_asks
from service.appeals.decision import (
    PLACEMENTS,
    CampaignSpec,
    VariantSpec,
    choose_variant,
    current_goal,
    exact_count,
    goal_reached_hides,
    shown_appeal,
)
from service.appeals.social_proof import meter_visible
from service.core.money import decimal_digits
from service.core.settings import CurrencyLimits, FeeRule

# The widget keeps its reader bucket in 0-99 (coarse on purpose); the document says
# which variant each bucket sees, so the browser needs no hash function.
READER_BUCKETS: Final = 100
DOCUMENT_VERSION: Final = 1


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def in_language(variant: VariantSpec, language: str) -> VariantSpec:
    """The variant with its copy in `language` where staff wrote one (else as it is)."""
    translated = variant.translations.get(language)
    if not translated:
        return variant
    copies = {place: translated.get(place, copy) for place, copy in variant.copies.items()}
    return replace(variant, copies=copies)


def _campaign(
    campaign: CampaignSpec,
    supporter_count: int,
    shown_count: str,
    language: str,
    number: Callable[[int], str],
    offer: Offer,
) -> dict[str, Any]:
    goal = current_goal(campaign, supporter_count)
    variants = sorted(
        (in_language(v, language) for v in campaign.variants if v.weight > 0), key=lambda v: v.key
    )
    index = {v.key: i for i, v in enumerate(variants)}
    buckets = []
    for bucket in range(READER_BUCKETS):
        chosen = choose_variant(campaign.variants, str(bucket), campaign.slug)
        buckets.append(None if chosen is None else index[chosen.key])
    copies: list[dict[str, Any]] = []
    shown_goal: int | None = goal
    thank_you = False
    for variant in variants:
        filled: dict[str, dict[str, str]] = {}
        for placement in PLACEMENTS:
            if placement not in variant.copies:
                continue
            decision = shown_appeal(
                campaign, variant, placement, supporter_count, shown_count, number
            )
            assert decision.copy is not None
            filled[placement] = {
                "heading": decision.copy.heading,
                "body": decision.copy.body,
                "cta": decision.copy.cta,
            }
            shown_goal = decision.goal
            thank_you = decision.reason == "goal_thank_you"
        asks = {
            currency: asks.as_json(currency)
            for currency, asks in sorted(variant.asks.items())
            if currency in offer.limits
        }
        copies.append({"key": variant.key, "copy": filled, "asks": asks})
    if not copies and campaign.goal is not None and goal is None:
        shown_goal, thank_you = campaign.goal, True
    return {
        "slug": campaign.slug,
        "priority": campaign.priority,
        "starts": _ms(campaign.starts_at),
        "ends": _ms(campaign.ends_at),
        "include_sections": sorted(campaign.include_sections),
        "exclude_sections": sorted(campaign.exclude_sections),
        "include_tags": sorted(campaign.include_tags),
        "exclude_tags": sorted(campaign.exclude_tags),
        "min_articles_read": campaign.min_articles_read,
        "formats": sorted(campaign.formats),
        "max_views": campaign.max_views,
        "views_days": campaign.views_days,
        "max_dismissals": campaign.max_dismissals,
        "devices": sorted(campaign.devices),
        "referrers": sorted(campaign.referrers),
        "countries": sorted(campaign.countries),
        "donor_states": sorted(campaign.donor_states),
        "goal": shown_goal,
        "goal_meter": meter_visible(supporter_count, shown_goal, offer.meter_min_percent),
        "goal_reached_hides": goal_reached_hides(campaign, supporter_count),
        "thank_you": thank_you,
        "variants": copies,
        "buckets": buckets,
    }


@dataclass(frozen=True)
class Offer:
    """What readers may give in, the same for every reader: currencies with their
    limits, default asks and fee rules, and the country -> currency map."""

    limits: Mapping[str, CurrencyLimits] = field(default_factory=dict)
    country_currencies: Mapping[str, str] = field(default_factory=dict)
    fee_cover: Mapping[str, FeeRule] = field(default_factory=dict)
    # The operator set COUNTRY_HEADER: the widget may ask for the reader's country.
    geo: bool = False
    meter_min_percent: int = 0

    def currencies(self) -> dict[str, Any]:
        """Every offered currency's digits, default asks and fee rule."""
        result: dict[str, Any] = {}
        for code, limits in self.limits.items():
            fee = self.fee_cover.get(code)
            result[code] = {
                # Amounts scale by this: 0 for zero-decimal currencies such as jpy.
                "digits": decimal_digits(code),
                "asks": default_asks(limits).as_json(code),
                "maximum": limits.maximum,
                "fee": None if fee is None else {"bp": fee.basis_points, "fixed": fee.fixed_minor},
            }
        return result


def site_document(
    campaigns: Iterable[CampaignSpec],
    supporter_count: int,
    *,
    currency: str,
    dismiss_days: int,
    display: Callable[[int], str] = exact_count,
    language: str = "",
    number: Callable[[int], str] = exact_count,
    offer: Offer | None = None,
) -> dict[str, Any]:
    """The site-wide document the widget decides every placement of every view from.

    Copy comes in `language` where staff translated it, else in the default language.
    Every offered currency's asks are in it, with the country -> currency map, so it
    stays one document for every reader: the widget picks the reader's currency.
    """
    offer = offer or Offer()
    shown_count = display(supporter_count)
    ordered = sorted(campaigns, key=lambda c: (-c.priority, c.slug))
    return {
        "version": DOCUMENT_VERSION,
        "available": True,
        "currency": currency,
        # The widget scales amounts by this: 0 for zero-decimal currencies such as jpy.
        "currency_digits": decimal_digits(currency),
        "currencies": offer.currencies(),
        "countries": dict(offer.country_currencies),
        "geo": offer.geo,
        "dismiss_days": dismiss_days,
        "supporters": {"count": supporter_count, "display": shown_count},
        "campaigns": [
            _campaign(c, supporter_count, shown_count, language, number, offer) for c in ordered
        ],
    }


def unavailable_document(*, currency: str, dismiss_days: int) -> dict[str, Any]:
    """The document while the database is away: no appeal, and the page carries on."""
    return {
        "version": DOCUMENT_VERSION,
        "available": False,
        "currency": currency,
        # The widget scales amounts by this: 0 for zero-decimal currencies such as jpy.
        "currency_digits": decimal_digits(currency),
        "currencies": {},
        "countries": {},
        "geo": False,
        "dismiss_days": dismiss_days,
        "supporters": {"count": 0, "display": ""},
        "campaigns": [],
    }


@dataclass(frozen=True)
class EncodedDocument:
    """A document's bytes with its strong ETag (the same bytes give the same tag)."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, document: dict[str, Any]) -> EncodedDocument:
        body = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        return cls(body, hashlib.blake2b(body, digest_size=12).hexdigest())
