"""Asks: the amounts, frequencies and minimum a reader is offered, per currency.

The one owner of the default asks (what a campaign that sets none offers) and of the
rules asks must follow: amounts are integers in the currency's minor units, within its
configured limits (at or above Stripe's minimum charge, at or below the checkout
maximum). Staff set asks per campaign, variant and currency; the widget, /support and
checkout all read them through this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from service.core.money import format_money, stripe_minimum_charge

if TYPE_CHECKING:
    from service.core.settings import CurrencyLimits

# The order readers see them in.
FREQUENCIES: Final = ("monthly", "one_off", "annual")
FREQUENCY_LABELS: Final[Mapping[str, str]] = {
    "monthly": "Monthly",
    "annual": "Yearly",
    "one_off": "Once-off",
}
MAX_PRESETS: Final = 6
# Default presets in minor units, for every currency: €5/€10/€20 a month, €50/€100/€200 a
# year, €10/€25/€50 once; in zero-decimal currencies ¥500/¥1,000/¥2,000 and so on.
DEFAULT_PRESETS: Final[Mapping[str, tuple[int, ...]]] = {
    "monthly": (500, 1000, 2000),
    "annual": (5000, 10000, 20000),
    "one_off": (1000, 2500, 5000),
}
DEFAULT_FREQUENCY: Final = "monthly"


@dataclass(frozen=True)
class Asks:
    """What a reader is offered in one currency (amounts in minor units)."""

    frequencies: tuple[str, ...]
    default_frequency: str
    amounts: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # The amount selected at first, per frequency (None: nothing preselected).
    default_amounts: Mapping[str, int | None] = field(default_factory=dict)
    minimum: int = 1

    def as_json(self, currency: str) -> dict[str, Any]:
        """The shape the site document, the appeal answer and /support carry."""
        return {
            "frequencies": list(self.frequencies),
            "default_frequency": self.default_frequency,
            "amounts": {f: list(self.amounts.get(f, ())) for f in self.frequencies},
            "default_amounts": {f: self.default_amounts.get(f) for f in self.frequencies},
            "minimum": self.minimum,
            "minimum_display": format_money(self.minimum, currency),
        }


def default_asks(limits: CurrencyLimits) -> Asks:
    """The asks of a campaign that sets none: the default presets within the limits."""
    amounts = {
        frequency: tuple(a for a in presets if limits.minimum <= a <= limits.maximum)
        for frequency, presets in DEFAULT_PRESETS.items()
    }
    defaults = {f: (a[1] if len(a) > 1 else (a[0] if a else None)) for f, a in amounts.items()}
    return Asks(FREQUENCIES, DEFAULT_FREQUENCY, amounts, defaults, limits.minimum)


def resolve_asks(
    custom: Mapping[str, Asks], currency: str, limits: Mapping[str, CurrencyLimits]
) -> Asks | None:
    """A variant's asks in a currency: its own, else the defaults (None: not offered)."""
    if currency not in limits:
        return None
    return custom.get(currency) or default_asks(limits[currency])


def asks_problems(asks: Asks, currency: str, limits: CurrencyLimits | None) -> list[str]:
    """Why these asks cannot be offered in this currency (empty when they can)."""
    if limits is None:
        return [f"{currency.upper()} is not a currency this service takes"]
    problems: list[str] = []
    if not asks.frequencies:
        problems.append("offer at least one frequency")
    if set(asks.frequencies) - set(FREQUENCIES):
        problems.append("frequencies are monthly, annual and one_off")
    if asks.default_frequency not in asks.frequencies:
        problems.append("the default frequency must be one of those offered")
    floor = max(limits.minimum, stripe_minimum_charge(currency))
    low, high = format_money(floor, currency), format_money(limits.maximum, currency)
    if not isinstance(asks.minimum, int) or asks.minimum < floor:
        problems.append(f"the minimum cannot be below {low} (the smallest charge we can take)")
    elif asks.minimum > limits.maximum:
        problems.append(f"the minimum cannot be above {high}")
    for frequency in asks.frequencies:
        amounts = asks.amounts.get(frequency, ())
        label = FREQUENCY_LABELS.get(frequency, frequency).lower()
        if len(amounts) > MAX_PRESETS:
            problems.append(f"{label}: at most {MAX_PRESETS} amounts")
        for amount in amounts:
            if not isinstance(amount, int) or isinstance(amount, bool):
                problems.append(f"{label}: amounts must be whole minor units")
            elif amount < max(floor, asks.minimum):
                problems.append(
                    f"{label}: {format_money(amount, currency)} is below the minimum "
                    f"{format_money(max(floor, asks.minimum), currency)}"
                )
            elif amount > limits.maximum:
                problems.append(
                    f"{label}: {format_money(amount, currency)} is above the largest gift "
                    f"we take online, {high}"
                )
        if len(set(amounts)) != len(amounts):
            problems.append(f"{label}: an amount is listed twice")
        chosen = asks.default_amounts.get(frequency)
        if chosen is not None and chosen not in amounts:
            problems.append(f"{label}: the amount selected at first must be one of the amounts")
    return problems


def asks_from_json(data: Mapping[str, Any]) -> Asks:
    """Asks from their stored form (the campaign_asks row's JSON columns)."""
    frequencies = tuple(str(f) for f in data.get("frequencies", ()))
    amounts = {str(f): tuple(int(a) for a in v) for f, v in data.get("amounts", {}).items()}
    defaults = {
        str(f): (None if v is None else int(v)) for f, v in data.get("default_amounts", {}).items()
    }
    return Asks(
        frequencies=frequencies,
        default_frequency=str(data.get("default_frequency", "")),
        amounts=amounts,
        default_amounts=defaults,
        minimum=int(data.get("minimum", 1)),
    )


def ordered_frequencies(frequencies: Sequence[str]) -> tuple[str, ...]:
    """Frequencies in the order readers see them, each once."""
    return tuple(f for f in FREQUENCIES if f in frequencies)
