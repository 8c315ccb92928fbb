"""The reader's currency: a country -> currency map staff can change, and the country.

The country comes only from a header the operator's CDN sets (COUNTRY_HEADER; empty:
no geolocation), from the publisher's page (data-country) or from the reader's own
choice. The map's defaults: GB pays in gbp, the US in usd, the euro area in eur;
every other country in DEFAULT_CURRENCY. Currencies the service does not take are
never the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.appeals.models import CountryCurrency

# The euro area in 2026 (Bulgaria joined on 1 January) and the states that use the euro
# by agreement.
EURO_AREA: Final = frozenset(
    {"AT", "BE", "BG", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR", "IE", "IT", "LT"}
    | {"LU", "LV", "MT", "NL", "PT", "SI", "SK", "AD", "MC", "SM", "VA", "ME", "XK"}
)
DEFAULT_COUNTRY_CURRENCIES: Final[Mapping[str, str]] = {
    "GB": "gbp",
    "US": "usd",
    **{country: "eur" for country in sorted(EURO_AREA)},
}
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_LINE = re.compile(r"^([A-Za-z]{2})\s*[:=\s]\s*([A-Za-z]{3})$")


class CountryMapError(ValueError):
    """Lines of a country map that cannot be saved, with a message each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def clean_country(value: str | None) -> str:
    """A two-letter country code in capitals, or '' for anything else (XX, T1: unknown)."""
    code = (value or "").strip().upper()
    return code if _COUNTRY.match(code) and code not in {"XX", "T1", "ZZ"} else ""


def country_map(session: Session) -> dict[str, str]:
    """The map staff set, or the defaults while they have set none."""
    rows = session.execute(select(CountryCurrency.country, CountryCurrency.currency)).all()
    return {c: cur for c, cur in rows} if rows else dict(DEFAULT_COUNTRY_CURRENCIES)


def offered_map(mapping: Mapping[str, str], supported: tuple[str, ...]) -> dict[str, str]:
    """The map restricted to currencies the service takes (what readers' pages get)."""
    return {c: cur for c, cur in sorted(mapping.items()) if cur in supported}


def currency_for(
    country: str, mapping: Mapping[str, str], supported: tuple[str, ...], default: str
) -> str:
    """The currency a reader in `country` is offered first."""
    currency = mapping.get(clean_country(country), default)
    return currency if currency in supported else default


def parse_country_map(text: str, supported: tuple[str, ...]) -> dict[str, str]:
    """Read "GB gbp" lines (or "GB=gbp", "GB: gbp"); raise CountryMapError naming bad ones."""
    mapping: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _LINE.match(line)
        if not match:
            problems.append(f"line {number} ({line[:40]}): write a country code and a currency")
            continue
        country, currency = match.group(1).upper(), match.group(2).lower()
        if currency not in supported:
            problems.append(
                f"line {number}: {currency.upper()} is not taken here "
                f"(choose {', '.join(c.upper() for c in supported)})"
            )
        mapping[country] = currency
    if problems:
        raise CountryMapError(problems)
    return mapping


def format_country_map(mapping: Mapping[str, str]) -> str:
    """The map as the lines staff edit."""
    return "\n".join(f"{country} {currency}" for country, currency in sorted(mapping.items()))


def save_country_map(session: Session, mapping: Mapping[str, str]) -> None:
    """Replace the map (an empty map brings the defaults back); flush, never commit."""
    session.execute(delete(CountryCurrency))
    session.add_all(CountryCurrency(country=c, currency=cur) for c, cur in mapping.items())
    session.flush()
