"""Appeals: which box a page view shows, the campaigns behind it, the widget and the demo.

Other features import only what this package exports below.
"""

from __future__ import annotations

from flask import Flask

from service.appeals import api, beacons, demo, public, site_api, widget
from service.appeals.asks import FREQUENCIES, FREQUENCY_LABELS, Asks, default_asks
from service.appeals.cache import invalidate_campaign_cache
from service.appeals.campaigns import known_attribution, stored_asks
from service.appeals.copy_translations import (
    CopyToTranslate,
    copies_to_translate,
    save_copy_translations,
)
from service.appeals.currency import (
    CountryMapError,
    country_map,
    format_country_map,
    parse_country_map,
    save_country_map,
)
from service.appeals.demo import seed_demo
from service.appeals.editing import (
    SLUG_HINT,
    SLUG_PATTERN,
    VARIANT_KEY_HINT,
    VARIANT_KEY_PATTERN,
    CampaignError,
    CampaignInput,
    CopyInput,
    VariantInput,
    sanitise_copy,
    save_campaign,
)
from service.appeals.models import AppealCounter, Campaign, GoalBehaviour, Placement
from service.appeals.offered import offered_asks, reader_currency
from service.appeals.public import offer_of
from service.appeals.social_proof import fill, plural_form
from service.appeals.widget import versioned_widget_url
from service.core.extensions import api_of

__all__ = [
    "FREQUENCIES",
    "FREQUENCY_LABELS",
    "SLUG_HINT",
    "SLUG_PATTERN",
    "VARIANT_KEY_HINT",
    "VARIANT_KEY_PATTERN",
    "AppealCounter",
    "Asks",
    "Campaign",
    "CampaignError",
    "CampaignInput",
    "CopyInput",
    "CopyToTranslate",
    "CountryMapError",
    "GoalBehaviour",
    "Placement",
    "VariantInput",
    "copies_to_translate",
    "country_map",
    "default_asks",
    "fill",
    "format_country_map",
    "init_app",
    "invalidate_campaign_cache",
    "known_attribution",
    "offer_of",
    "offered_asks",
    "parse_country_map",
    "plural_form",
    "reader_currency",
    "sanitise_copy",
    "save_campaign",
    "save_copy_translations",
    "save_country_map",
    "seed_demo",
    "stored_asks",
    "versioned_widget_url",
]


def init_app(app: Flask) -> None:
    """Register the appeal API, the site document, the widget script and the demo article."""
    api_of(app).register_blueprint(api.blp)
    api_of(app).register_blueprint(site_api.blp)
    api_of(app).register_blueprint(beacons.blp)
    app.register_blueprint(widget.bp)
    # The demo article and its seed are for development; production has no such pages.
    if not app.extensions["settings"].is_production:
        app.register_blueprint(demo.bp)
    # Outermost, so the site document and the widget skip Flask's per-request work.
    public.install(app)
