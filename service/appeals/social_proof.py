"""Social proof that never embarrasses: counts in copy, plurals, the goal meter.

Below SOCIAL_PROOF_MIN_COUNT supporters no number is shown: the count's display is
empty and every sentence of copy that holds {supporters} is left out (its no-number
version), so launch day never says "0 readers". Copy may name the counted thing with
its plural forms, `{supporters|reader|readers}`, which becomes "1 reader" or "2
readers" by the language's plural rules (Babel's CLDR data). The goal meter shows only
from GOAL_METER_MIN_PERCENT of the goal up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Final

from babel import Locale

DEFAULT_LOCALE: Final = "en"
# CLDR plural categories in the order forms are written in copy.
_CATEGORIES: Final = ("zero", "one", "two", "few", "many", "other")
_PLACEHOLDER = re.compile(r"(^|[.!?]\s+)?\{(supporters|goal)(?:\|([^{}]*))?\}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@lru_cache(maxsize=32)
def _categories(locale: str) -> tuple[str, ...]:
    tags = Locale.parse(locale).plural_form.tags
    return tuple(c for c in _CATEGORIES if c in tags or c == "other")


def plural_form(count: int, forms: list[str], locale: str = DEFAULT_LOCALE) -> str:
    """The form of `forms` for `count`: one per plural category of the locale, in CLDR
    order (zero, one, two, few, many, other); with two forms, singular and plural."""
    if not forms:
        return ""
    category = Locale.parse(locale).plural_form(count)
    categories = _categories(locale)
    if len(forms) == len(categories):
        return forms[categories.index(category)]
    return forms[0] if category == "one" else forms[-1]


def shown_count(display: Callable[[int], str], minimum: int) -> Callable[[int], str]:
    """A count display that shows nothing below `minimum` (copy then drops the count)."""

    def shown(count: int) -> str:
        return display(count) if count >= minimum and count > 0 else ""

    return shown


def meter_visible(count: int, goal: int | None, minimum_percent: int) -> bool:
    """Whether a goal meter is worth showing: a goal, and at least minimum_percent of it."""
    return goal is not None and goal > 0 and count * 100 >= goal * minimum_percent


def _without_count(text: str) -> str:
    """Copy's no-number version: every sentence naming {supporters} left out."""
    kept = [s for s in _SENTENCE_END.split(text) if "{supporters" not in s]
    result = " ".join(kept).strip()
    if result:
        return result
    # A single sentence around the count (a heading): keep it, without the number.
    return re.sub(r"\s{2,}", " ", _PLACEHOLDER.sub(r"\1", text)).strip()


def fill(
    text: str, supporters: str, goal: str, *, count: int | None = None, locale: str = DEFAULT_LOCALE
) -> str:
    """Replace the {supporters} and {goal} placeholders (and nothing else) in copy.

    A value that starts a sentence is capitalised ("over 5,400" -> "Over 5,400"); an
    empty `supporters` (below the minimum) leaves out the sentences that name it;
    `{supporters|reader|readers}` adds the noun in the count's plural form.
    """
    if not supporters and "{supporters" in text:
        text = _without_count(text)
    values = {"supporters": supporters, "goal": goal}

    def replace(match: re.Match[str]) -> str:
        value = values[match.group(2)]
        if match.group(3) is not None:
            number = count if match.group(2) == "supporters" else _as_int(goal)
            noun = plural_form(number or 0, match.group(3).split("|"), locale)
            value = f"{value} {noun}".strip()
        if match.group(1) is not None:
            return match.group(1) + value[:1].upper() + value[1:]
        return value

    return _PLACEHOLDER.sub(replace, text)


def _as_int(text: str) -> int:
    digits = re.sub(r"\D", "", text)
    return int(digits) if digits else 0
