"""The campaign editor's asks: per variant and currency, amounts typed as readers see them.

Staff type amounts in units ("5, 10*, 20"; the starred one is selected at first) and the
minimum ("3" or "2.50"); this turns them into Asks in minor units, or says what is
wrong. Whether they fit the currency's limits is checked by service.appeals when saving.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wtforms import (  # type: ignore[import-untyped]
    BooleanField,
    Form,
    HiddenField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[import-untyped]
from wtforms.validators import Length  # type: ignore[import-untyped]

from service.appeals import FREQUENCIES, FREQUENCY_LABELS, Asks, default_asks
from service.core.money import format_plain, parse_major_amount
from service.core.settings import Settings
from service.staff.checkboxes import CheckboxesField

FREQUENCY_CHOICES = [SelectChoice(f, FREQUENCY_LABELS[f]) for f in FREQUENCIES]


class AsksForm(Form):  # type: ignore[misc]
    """One currency's asks of one variant (nested; the campaign form has the CSRF token)."""

    currency = HiddenField()
    custom = BooleanField("Set this variant's own asks (unticked: the defaults shown)")
    frequencies = CheckboxesField("Frequencies offered", choices=FREQUENCY_CHOICES)
    # Checked with the rest of the asks when saving (an unticked currency sends none).
    default_frequency = SelectField(
        "Selected at first", choices=FREQUENCY_CHOICES, validate_choice=False
    )
    monthly = StringField("Monthly amounts", validators=[Length(max=120)])
    annual = StringField("Yearly amounts", validators=[Length(max=120)])
    one_off = StringField("Once-off amounts", validators=[Length(max=120)])
    minimum = StringField("Smallest gift", validators=[Length(max=20)])


def asks_entry(currency: str, asks: Asks, custom: bool) -> dict[str, Any]:
    """The form data showing `asks` (in units, the preselected amount starred)."""
    data: dict[str, Any] = {
        "currency": currency,
        "custom": custom,
        "frequencies": list(asks.frequencies),
        "default_frequency": asks.default_frequency,
        "minimum": format_plain(asks.minimum, currency),
    }
    for frequency in FREQUENCIES:
        chosen = asks.default_amounts.get(frequency)
        data[frequency] = ", ".join(
            format_plain(a, currency) + ("*" if a == chosen else "")
            for a in asks.amounts.get(frequency, ())
        )
    return data


def asks_entries(settings: Settings, stored: Mapping[str, Asks]) -> list[dict[str, Any]]:
    """One entry per offered currency: the variant's own asks, else the defaults."""
    return [
        asks_entry(code, stored.get(code) or default_asks(limits), code in stored)
        for code, limits in settings.currency_limits.items()
    ]


def _amounts(text: str, currency: str) -> tuple[tuple[int, ...], int | None, str | None]:
    amounts: list[int] = []
    chosen: int | None = None
    for part in text.replace(";", ",").split(","):
        item = part.strip()
        if not item:
            continue
        starred = item.endswith("*")
        minor = parse_major_amount(item.rstrip("*").strip(), currency)
        if minor is None:
            whole = (
                "whole amounts" if format_plain(1, currency) == "1" else "amounts like 5 or 2.50"
            )
            return (), None, f"{item!r} is not an amount in {currency.upper()}: write {whole}"
        amounts.append(minor)
        if starred:
            chosen = minor
    return tuple(amounts), chosen, None


def asks_from_entry(entry: Any) -> tuple[str, Asks | None, str | None]:
    """(currency, asks, None) from a ticked entry, (currency, None, None) when unticked,
    or (currency, None, message) when what was typed is not amounts."""
    currency = (entry.currency.data or "").lower()
    if not entry.custom.data:
        return currency, None, None
    amounts: dict[str, tuple[int, ...]] = {}
    defaults: dict[str, int | None] = {}
    frequencies = tuple(f for f in FREQUENCIES if f in (entry.frequencies.data or ()))
    for frequency in frequencies:
        parsed, chosen, problem = _amounts(getattr(entry, frequency).data or "", currency)
        if problem:
            return currency, None, f"{FREQUENCY_LABELS[frequency].lower()}: {problem}"
        amounts[frequency] = parsed
        defaults[frequency] = chosen
    minimum = parse_major_amount((entry.minimum.data or "").strip(), currency)
    if minimum is None:
        return currency, None, f"the smallest gift is not an amount in {currency.upper()}"
    return (
        currency,
        Asks(frequencies, entry.default_frequency.data or "", amounts, defaults, minimum),
        None,
    )
