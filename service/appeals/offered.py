"""What a reader is offered right now: a campaign variant's asks in a currency.

Checkout and /support read the same asks the widget shows, from the cached campaigns
(service.appeals.cache); while the database is away, the currency's defaults.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from service.appeals.asks import Asks, default_asks, resolve_asks
from service.appeals.cache import get_appeal_snapshot
from service.appeals.currency import currency_for
from service.core.settings import Settings

log = logging.getLogger(__name__)


def offered_asks(
    settings: Settings, campaign: str | None, variant: str | None, currency: str
) -> Asks | None:
    """The asks of this campaign's variant in `currency` (the defaults when the campaign
    is unknown or has ended, or sets none); None when the currency is not offered."""
    limits = settings.currency_limits.get(currency)
    if limits is None:
        return None
    if not campaign:
        return default_asks(limits)
    try:
        snapshot = get_appeal_snapshot(current_app._get_current_object())  # type: ignore[attr-defined]
    except SQLAlchemyError:
        log.warning("asks looked up while the database is away; using the defaults")
        return default_asks(limits)
    for spec in snapshot.campaigns:
        if spec.slug != campaign:
            continue
        for candidate in spec.variants:
            if candidate.key == variant:
                return resolve_asks(candidate.asks, currency, settings.currency_limits)
    return default_asks(limits)


def reader_currency(settings: Settings, country: str) -> str:
    """The currency offered first to a reader in `country` (staff's map, else default)."""
    try:
        mapping = get_appeal_snapshot(current_app._get_current_object()).country_currencies  # type: ignore[attr-defined]
    except SQLAlchemyError:
        mapping = {}
    return currency_for(country, mapping, settings.supported_currencies, settings.default_currency)
