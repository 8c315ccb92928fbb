"""Money for people: parse what a reader typed, format minor units, all as Stripe counts.

Amounts are integer minor units plus a lower-case ISO currency code everywhere in the
service. How many minor units make a unit follows Stripe (its zero-decimal list), not
CLDR, because Stripe is what charges the reader: Babel's own digits differ for some
currencies (HUF, ISK, UGX...), so the digits are always passed to it explicitly.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern, get_currency_symbol, parse_pattern

# Stripe's zero-decimal currencies: amounts are whole units, not hundredths.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
DEFAULT_LOCALE = "en"
# Stripe's smallest charge per currency in minor units (its "minimum and maximum charge
# amounts"); other currencies: 50 minor units.
STRIPE_MINIMUM_CHARGES = {
    "eur": 50,
    "usd": 50,
    "gbp": 30,
    "chf": 50,
    "cad": 50,
    "aud": 50,
    "nzd": 50,
    "dkk": 250,
    "nok": 300,
    "sek": 300,
    "pln": 200,
    "czk": 1500,
    "huf": 17500,
    "jpy": 50,
}
# At most a trillion units: far above any gift, far below anything that loses precision.
MAX_WHOLE_DIGITS = 12


def minor_unit_factor(currency: str) -> int:
    """Return how many minor units make one unit of the currency (1 or 100)."""
    return 1 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 100


def stripe_minimum_charge(currency: str) -> int:
    """The smallest amount Stripe charges in a currency, in minor units."""
    return STRIPE_MINIMUM_CHARGES.get(currency.lower(), 50)


def decimal_digits(currency: str) -> int:
    """Return how many digits follow the decimal point in the currency (0 or 2)."""
    return 0 if minor_unit_factor(currency) == 1 else 2


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Return minor units as an exact decimal number of units (1050 eur -> 10.50)."""
    return Decimal(amount_minor).scaleb(-decimal_digits(currency))


def currency_symbol(currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """Return the symbol readers of a locale know the currency by ("€", "¥", "CHF")."""
    return str(get_currency_symbol(currency.upper(), locale=locale))


def parse_major_amount(text: str, currency: str, locale: str = DEFAULT_LOCALE) -> int | None:
    """Turn what a reader typed ("10", "12.50", "7,50", "€ 7,50") into minor units, or None.

    Thousands separators, signs, exponents and more decimals than the currency has are
    refused rather than guessed at: "1,000" could be a thousand or one.
    """
    cleaned = text.strip()
    for marker in (currency_symbol(currency, locale), currency.upper()):
        if cleaned.startswith(marker):
            cleaned = cleaned.removeprefix(marker).strip()
            break
        if cleaned.endswith(marker):
            cleaned = cleaned.removesuffix(marker).strip()
            break
    digits = decimal_digits(currency)
    fraction = rf"(?:[.,]\d{{1,{digits}}})?" if digits else ""
    if not re.fullmatch(rf"\d{{1,{MAX_WHOLE_DIGITS}}}{fraction}", cleaned, flags=re.ASCII):
        return None
    # "7,50": a decimal comma, as many European readers type it.
    return int(Decimal(cleaned.replace(",", ".")).scaleb(digits))


@lru_cache(maxsize=64)
def _currency_pattern(locale: str, digits: int) -> NumberPattern:
    """Return the locale's currency pattern with exactly `digits` decimals."""
    pattern = copy.copy(parse_pattern(Locale.parse(locale).currency_formats["standard"]))
    pattern.frac_prec = (digits, digits)
    return pattern


def format_money(
    amount_minor: int,
    currency: str,
    locale: str = DEFAULT_LOCALE,
    *,
    whole_units_bare: bool = False,
) -> str:
    """Show an amount as readers of a locale expect: "€12.50", "£5.00", "¥1,000".

    With `whole_units_bare`, a whole amount drops its zero decimals ("€10"), for labels.
    """
    digits = decimal_digits(currency)
    if whole_units_bare and amount_minor % minor_unit_factor(currency) == 0:
        digits = 0
    pattern = _currency_pattern(locale, digits)
    return str(
        pattern.apply(
            to_major(amount_minor, currency),
            locale,
            currency=currency.upper(),
            currency_digits=False,
        )
    )


def format_plain(amount_minor: int, currency: str) -> str:
    """Show an amount as a plain decimal for spreadsheets: "12.50", "-0.05", "1000" (jpy)."""
    return f"{to_major(amount_minor, currency):f}"


def fee_cover(amount_minor: int, basis_points: int, fixed_minor: int) -> int:
    """What to add to a gift so that, after a fee of basis_points/10000 + fixed, it arrives whole.

    The fee is charged on the total, so the total is (amount + fixed) / (1 - rate),
    rounded up to the next minor unit: €10 at 1.5% + €0.25 -> €0.41 more. The widget and
    /support compute the same (static/widget.js feeCover, static/support.js).
    """
    if amount_minor <= 0:
        return 0
    numerator = (amount_minor + fixed_minor) * 10_000
    total = -(-numerator // (10_000 - basis_points))
    return total - amount_minor
