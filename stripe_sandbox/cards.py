"""Stripe's test cards and the checks a card form makes before anything is charged."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

Behaviour = Literal["succeed", "authenticate", "decline"]


@dataclass(frozen=True)
class SandboxCard:
    """One of Stripe's documented test card numbers and what paying with it does."""

    number: str
    brand: str
    behaviour: Behaviour
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None
    funding: str = "credit"
    country: str = "US"


_DECLINED = "Your card was declined."

TEST_CARDS: dict[str, SandboxCard] = {
    card.number: card
    for card in (
        SandboxCard("4242424242424242", "visa", "succeed"),
        SandboxCard("5555555555554444", "mastercard", "succeed"),
        SandboxCard("4000002500003155", "visa", "authenticate"),
        SandboxCard("4000002760003184", "visa", "authenticate"),
        SandboxCard(
            "4000000000000002", "visa", "decline", "card_declined", "generic_decline", _DECLINED
        ),
        SandboxCard(
            "4000000000009995",
            "visa",
            "decline",
            "card_declined",
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
        SandboxCard(
            "4000000000000069", "visa", "decline", "expired_card", None, "Your card has expired."
        ),
        SandboxCard(
            "4000000000000127",
            "visa",
            "decline",
            "incorrect_cvc",
            None,
            "Your card's security code is incorrect.",
        ),
    )
}

AUTHENTICATION_FAILED = (
    "We are unable to authenticate your payment method. "
    "Please choose a different payment method and try again."
)


class CardProblem(Exception):
    """A card the form rejects, with Stripe's wording and the field to point at."""

    def __init__(
        self, code: str, message: str, field: str, decline_code: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.decline_code = decline_code


@dataclass(frozen=True)
class Card:
    """A test card as entered, once it has passed the form's checks."""

    test_card: SandboxCard
    exp_month: int
    exp_year: int

    def details(self) -> dict[str, Any]:
        """What the payment method and charge say about this card."""
        number = self.test_card.number
        return {
            "brand": self.test_card.brand,
            "last4": number[-4:],
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "fingerprint": hashlib.sha256(number.encode()).hexdigest()[:16],
            "funding": self.test_card.funding,
            "country": self.test_card.country,
        }


def _digits(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and ch != "-")


def read_card(
    number: str, exp: str | None = None, cvc: str | None = None, *, today: dt.date | None = None
) -> Card:
    """Check what a person typed the way Checkout does; raise ``CardProblem`` if it fails.

    ``exp`` ("MM / YY") and ``cvc`` may be left out by API-driven tests; a valid future
    expiry and CVC are assumed then.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    digits = _digits(number)
    test_card = TEST_CARDS.get(digits)
    if test_card is None:
        raise CardProblem("incorrect_number", "Your card number is invalid.", "number")
    exp_month, exp_year = 12, today.year + 5
    if exp is not None:
        exp_month, exp_year = _read_expiry(exp, today)
    if cvc is not None:
        cvc = cvc.strip()
        if not (cvc.isdigit() and len(cvc) in (3, 4)):
            raise CardProblem("incomplete_cvc", "Your card's security code is incomplete.", "cvc")
    return Card(test_card, exp_month, exp_year)


def _read_expiry(text: str, today: dt.date) -> tuple[int, int]:
    compact = text.replace(" ", "")
    month_text, _, year_text = compact.partition("/")
    if not year_text and len(compact) == 4:
        month_text, year_text = compact[:2], compact[2:]
    if not (month_text.isdigit() and year_text.isdigit() and len(year_text) in (2, 4)):
        raise CardProblem("incomplete_expiry", "Your card's expiration date is incomplete.", "exp")
    month, year = int(month_text), int(year_text)
    if len(year_text) == 2:
        year += 2000
    if not 1 <= month <= 12:
        raise CardProblem("invalid_expiry_month", "Your card's expiration month is invalid.", "exp")
    if (year, month) < (today.year, today.month):
        raise CardProblem(
            "invalid_expiry_year_past", "Your card's expiration date is in the past.", "exp"
        )
    return month, year
