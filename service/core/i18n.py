"""The reader's language: gettext catalogs, the language of each request, local formats.

Every reader-facing string goes through `gettext` (Flask-Babel) and the catalogs in
translations/ (English, German, French; `make translations` extracts and compiles them).
The language of a request is, in order: `?lang=` (the widget and our own links pass it
along), a `lang` field of a form our pages rendered (`language` in the widget's JSON
checkout), the `rc_lang` cookie an explicit
choice left, the browser's Accept-Language, then DEFAULT_LANGUAGE. An unknown language
is never an error: it is the default language. Work outside a request (emails) names its
language with `in_language`. Numbers, dates and money are formatted with Babel in the
language in force.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

import flask_babel
from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal
from flask import Flask, Response, current_app, has_app_context, has_request_context, request

from service.core.money import decimal_digits, format_money
from service.core.settings import LANGUAGES, PROJECT_ROOT, Settings

TRANSLATIONS_DIR: Final = PROJECT_ROOT / "translations"
LANGUAGE_COOKIE: Final = "rc_lang"
LANGUAGE_COOKIE_SECONDS: Final = 365 * 24 * 3600
# The language tag grammar we accept before looking a tag up ("de", "de-AT", "pt_BR").
MAX_TAG_LENGTH: Final = 35


def normalise_language(value: object) -> str | None:
    """The language we have for a tag ("de-AT", "DE", "fr_CA" -> "de", "fr"), or None."""
    if not isinstance(value, str) or not value or len(value) > MAX_TAG_LENGTH:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def default_language() -> str:
    """DEFAULT_LANGUAGE of the running app (English outside one)."""
    if has_app_context():
        settings: Settings = current_app.extensions["settings"]
        return settings.default_language
    return LANGUAGES[0]


def language_or_default(value: object) -> str:
    """A tag we have, else the default language: an unknown language is not an error."""
    return normalise_language(value) or default_language()


def explicit_language() -> str | None:
    """The language the request names itself, if we have it: `?lang=`, a form's `lang`, or
    a JSON body's `language` (the widget's checkout)."""
    if not has_request_context():
        return None
    named: object = request.args.get("lang")
    if not named and request.method == "POST":
        if request.is_json:
            body = request.get_json(silent=True)
            named = body.get("language") if isinstance(body, dict) else None
        else:
            named = request.form.get("lang")
    return normalise_language(named)


def request_language() -> str:
    """The language of this request (see the module docstring for the order); outside a
    request (jobs, commands), the default language."""
    if not has_request_context():
        return default_language()
    chosen = explicit_language() or normalise_language(request.cookies.get(LANGUAGE_COOKIE))
    if chosen:
        return chosen
    best = request.accept_languages.best_match(LANGUAGES)
    return best or default_language()


def current_language() -> str:
    """The language in force: the request's, the one `in_language` set, or the default."""
    if has_app_context():
        locale = flask_babel.get_locale()
        if locale is not None:
            return str(locale.language)
    return default_language()


@contextmanager
def in_language(language: str | None) -> Iterator[str]:
    """Translate and format in a language (emails, the widget's strings); needs an app."""
    chosen = language_or_default(language)
    with flask_babel.force_locale(chosen):
        yield chosen


def gettext(message: str, **variables: Any) -> str:
    """The message in the language in force, with %(name)s variables filled in."""
    return str(flask_babel.gettext(message, **variables))


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form the language's rules call for (num is %(num)s)."""
    return str(flask_babel.ngettext(singular, plural, num, **variables))


def lazy_gettext(message: str, **variables: Any) -> Any:
    """A message translated when it is shown (for module-level constants)."""
    return flask_babel.lazy_gettext(message, **variables)


def money(amount_minor: int, currency: str, *, whole_units_bare: bool = False) -> str:
    """An amount as readers of the language in force write it ("10,00 €", "£10.00")."""
    return format_money(
        amount_minor, currency, current_language(), whole_units_bare=whole_units_bare
    )


def number(value: int) -> str:
    """A whole number in the language in force ("1,000", "1.000", "1 000")."""
    return str(format_decimal(value, locale=current_language()))


def amount_example(currency: str) -> str:
    """How a reader may type an amount in the currency: "10 or 12.50", "10 oder 12,50"."""
    if decimal_digits(currency) == 0:
        return "1000"
    decimal = format_decimal(Decimal("12.50"), format="0.00", locale=current_language())
    return gettext("%(whole)s or %(decimal)s", whole="10", decimal=str(decimal))


def long_date(value: date | datetime) -> str:
    """A date spelled out ("3 March 2026", "3. März 2026", "3 mars 2026")."""
    day = value.date() if isinstance(value, datetime) else value
    language = current_language()
    return str(babel_format_date(day, format="long", locale=DATE_LOCALES.get(language, language)))


# English dates as the newsroom writes them: "3 March 2026", not "March 3, 2026".
DATE_LOCALES: Final = {"en": "en_IE"}


def _remember_choice(response: Response) -> Response:
    """Keep an explicit ?lang= for the reader's next pages (never on public answers)."""
    chosen = normalise_language(request.args.get("lang"))
    if (
        chosen
        and not request.path.startswith("/api/")
        and not response.cache_control.public
        and request.cookies.get(LANGUAGE_COOKIE) != chosen
    ):
        settings: Settings = current_app.extensions["settings"]
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=LANGUAGE_COOKIE_SECONDS,
            secure=settings.public_base_url.startswith("https://"),
            httponly=True,
            samesite="Lax",
        )
    return response


def init_app(app: Flask, settings: Settings) -> None:
    """Bind Flask-Babel with our catalogs and language choice; give templates formatters."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    app.config["BABEL_DEFAULT_LOCALE"] = settings.default_language
    flask_babel.Babel(app, locale_selector=request_language)
    # {% trans %} blocks collapse their whitespace, as extraction does (babel.cfg).
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.after_request(_remember_choice)

    def _formatters() -> dict[str, Any]:
        return {
            "current_language": current_language,
            "money": money,
            "number": number,
            "long_date": long_date,
        }

    app.context_processor(_formatters)
