"""The test Checkout page in the session's `locale`, as Stripe's hosted page is.

Only the words a payer reads on the Checkout page, in the languages the service asks
for (German and French); any other locale, or none, is English. Amounts are written as
readers of the locale write them ("10,00 £").
"""

from __future__ import annotations

from collections.abc import Callable

from .money import _SYMBOLS as SYMBOLS
from .money import format_amount

WORDS: dict[str, dict[str, str]] = {
    "de": {
        "Back": "Zurück",
        "per month": "pro Monat",
        "per year": "pro Jahr",
        "Charged every month until you cancel.": "Wird monatlich abgebucht, bis Sie kündigen.",
        "Charged every year until you cancel.": "Wird jährlich abgebucht, bis Sie kündigen.",
        "One-off payment.": "Einmalige Zahlung.",
        "Test cards": "Testkarten",
        "Pay with card": "Mit Karte bezahlen",
        "Email": "E-Mail",
        "Card number": "Kartennummer",
        "Expiry date": "Ablaufdatum",
        "Security code (CVC)": "Prüfnummer (CVC)",
        "Donate": "Spenden",
        "Subscribe": "Abonnieren",
        "Pay": "Bezahlen",
        "Thank you": "Vielen Dank",
    },
    "fr": {
        "Back": "Retour",
        "per month": "par mois",
        "per year": "par an",
        "Charged every month until you cancel.": "Prélevé chaque mois jusqu'à résiliation.",
        "Charged every year until you cancel.": "Prélevé chaque année jusqu'à résiliation.",
        "One-off payment.": "Paiement unique.",
        "Test cards": "Cartes de test",
        "Pay with card": "Payer par carte",
        "Email": "E-mail",
        "Card number": "Numéro de carte",
        "Expiry date": "Date d'expiration",
        "Security code (CVC)": "Code de sécurité (CVC)",
        "Donate": "Faire un don",
        "Subscribe": "S'abonner",
        "Pay": "Payer",
        "Thank you": "Merci",
    },
}


def language_of(locale: str | None) -> str:
    """ "de", "fr" or "en" for a Checkout `locale` ("de", "fr-CA", "auto", None)."""
    primary = (locale or "").split("-", 1)[0].lower()
    return primary if primary in WORDS else "en"


def translator(locale: str | None) -> Callable[[str], str]:
    """The page's words in the locale (English where it has none)."""
    words = WORDS.get(language_of(locale), {})
    return lambda text: words.get(text, text)


def localized_amount(amount: int, currency: str, locale: str | None) -> str:
    """ "£10.00" in English, "10,00 £" in German and French."""
    text = format_amount(amount, currency)
    symbol = SYMBOLS.get(currency)
    language = language_of(locale)
    if language == "en" or not symbol:
        return text
    sign = "-" if text.startswith("-") else ""
    number = text.removeprefix("-").removeprefix(symbol)
    thousands = "." if language == "de" else "\u202f"
    number = number.replace(",", "\x00").replace(".", ",").replace("\x00", thousands)
    return f"{sign}{number}\u00a0{symbol}"
