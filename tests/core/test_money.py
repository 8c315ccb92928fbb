"""Money on Babel: parsing what readers type and formatting minor units, as Stripe counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.money import (
    ZERO_DECIMAL_CURRENCIES,
    currency_symbol,
    decimal_digits,
    format_money,
    format_plain,
    minor_unit_factor,
    parse_major_amount,
)

TWO_DECIMAL = ["eur", "gbp", "usd", "chf"]
ZERO_DECIMAL = sorted(ZERO_DECIMAL_CURRENCIES)
# A reader may type at most twelve whole digits.
amounts = st.integers(min_value=0, max_value=10**12 - 1)


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        ("10", "eur", 1000),
        ("12.50", "eur", 1250),
        ("7,50", "eur", 750),
        ("€ 5", "eur", 500),
        (" 3.1 ", "eur", 310),
        ("€7,50", "eur", 750),
        ("7.50 EUR", "eur", 750),
        ("¥1000", "jpy", 1000),
        ("1000", "jpy", 1000),
        ("¥ 1,000", "jpy", None),
        ("1000.0", "jpy", None),
        ("£5", "eur", None),
        ("1000000000000", "jpy", None),
        ("500", "jpy", 500),
        ("12.345", "eur", None),
        ("5.5", "jpy", None),
        ("ten", "eur", None),
        ("", "eur", None),
        ("1e3", "eur", None),
        ("-5", "eur", None),
        ("1,000", "eur", None),
        ("0", "eur", 0),
        ("NaN", "eur", None),
        ("Infinity", "eur", None),
    ],
)
def test_parse_major_amount(typed: str, currency: str, minor: int | None) -> None:
    assert parse_major_amount(typed, currency) == minor


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (1000, "eur", "€10.00"),
        (1250, "gbp", "£12.50"),
        (123456789, "usd", "$1,234,567.89"),
        (500, "jpy", "¥500"),
        (999, "chf", "CHF9.99"),
    ],
)
def test_format_money(minor: int, currency: str, shown: str) -> None:
    assert format_money(minor, currency) == shown


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (100000, "jpy", "¥100,000"),
        (1000, "jpy", "¥1,000"),
        (1250, "eur", "€12.50"),
        (-5, "eur", "-€0.05"),
        (0, "usd", "$0.00"),
        (5000, "krw", "₩5,000"),
    ],
)
def test_zero_decimal_currencies_show_whole_units(minor: int, currency: str, shown: str) -> None:
    assert format_money(minor, currency) == shown


def test_other_locales_use_their_own_separators_and_placement() -> None:
    assert format_money(123456, "eur", "de") == "1.234,56\xa0€"
    assert format_money(1000, "jpy", "de") == "1.000\xa0¥"
    assert format_money(1000, "eur", "fr") == "10,00\xa0€"


def test_labels_can_drop_zero_decimals_of_whole_amounts() -> None:
    assert format_money(1000, "eur", whole_units_bare=True) == "€10"
    assert format_money(1050, "eur", whole_units_bare=True) == "€10.50"
    assert format_money(2500, "jpy", whole_units_bare=True) == "¥2,500"


@pytest.mark.parametrize(
    ("minor", "currency", "plain"),
    [
        (0, "eur", "0.00"),
        (5, "eur", "0.05"),
        (1050, "eur", "10.50"),
        (123456, "gbp", "1234.56"),
        (-5, "eur", "-0.05"),
        (1000, "jpy", "1000"),
        (0, "jpy", "0"),
    ],
)
def test_plain_amounts_for_spreadsheets(minor: int, currency: str, plain: str) -> None:
    assert format_plain(minor, currency) == plain


def test_digits_follow_stripe_not_cldr() -> None:
    # CLDR gives HUF and ISK no decimals in cash; Stripe counts hundredths for both.
    assert [decimal_digits(c) for c in ("huf", "isk", "eur", "jpy", "UGX")] == [2, 2, 2, 0, 0]
    assert format_money(150000, "huf") == "HUF1,500.00"
    assert minor_unit_factor("JPY") == 1


@settings(max_examples=200)
@given(amounts, st.sampled_from(TWO_DECIMAL + ZERO_DECIMAL))
def test_plain_text_parses_back_to_the_same_minor_units(minor: int, currency: str) -> None:
    assert parse_major_amount(format_plain(minor, currency), currency) == minor


@settings(max_examples=200)
@given(amounts, st.sampled_from(TWO_DECIMAL + ZERO_DECIMAL))
def test_formatted_text_is_the_exact_amount(minor: int, currency: str) -> None:
    shown = format_money(minor, currency)
    digits = "".join(ch for ch in shown if ch.isdigit())
    # Only grouping and the symbol are added: the digits are the minor units, padded.
    assert int(digits) == minor
    assert shown.startswith(currency_symbol(currency))


@settings(max_examples=200)
@given(amounts, st.sampled_from(TWO_DECIMAL + ZERO_DECIMAL))
def test_symbol_and_plain_amount_parse_back(minor: int, currency: str) -> None:
    typed = f"{currency_symbol(currency)} {format_plain(minor, currency)}"
    assert parse_major_amount(typed, currency) == minor


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(TWO_DECIMAL))
def test_plain_amount_is_the_exact_decimal(minor: int, currency: str) -> None:
    assert Decimal(format_plain(minor, currency)) * 100 == minor
