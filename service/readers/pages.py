"""The reader-facing "support us" pages: the form, the thank-you, the manage link."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from service import stripe_gateway
from service.appeals import FREQUENCY_LABELS, Asks, offered_asks, reader_currency
from service.core.brand import brand_of
from service.core.extensions import db
from service.core.i18n import amount_example, current_language, gettext, money
from service.core.input_guard import checks_own_fields
from service.core.money import currency_symbol, decimal_digits
from service.core.settings import CurrencyLimits, FeeRule, Settings
from service.donations import (
    DATABASE_AWAY,
    STRIPE_DOWN_MESSAGE,
    UNAVAILABLE_MESSAGE,
    UNAVAILABLE_RETRY_AFTER,
    CheckoutFailed,
    DonationsUnavailable,
    SupportFormSchema,
    begin_checkout,
    checkout_rate_limits,
    describe_session,
    fetch_our_session,
    is_allowed_return_url,
    valid_attempt_id,
)
from service.ledger import CheckoutAttempt, Frequency, count_supporters, display_count
from service.readers.passes import pass_for_checkout, with_pass
from service.readers.texts import support_texts

bp = Blueprint("support", __name__)

ATTRIBUTION_LIMITS = {"campaign": 80, "variant": 40, "placement": 20}


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def presets(asks: Asks, currency: str) -> dict[str, list[dict[str, Any]]]:
    """Preset amounts per offered frequency, labelled in the currency."""
    return {
        frequency: [
            {"value": amount, "label": money(amount, currency, whole_units_bare=True)}
            for amount in asks.amounts.get(frequency, ())
        ]
        for frequency in asks.frequencies
    }


def fee_text(rule: FeeRule, currency: str) -> str:
    """A fee rule as readers read it: "1.5% + €0.25"."""
    percent = f"{rule.basis_points / 100:g}%"
    if not rule.fixed_minor:
        return percent
    return f"{percent} + {money(rule.fixed_minor, currency)}"


def page_currency(settings: Settings, values: Mapping[str, str]) -> str:
    """The currency the page offers: the reader's choice, else their country's."""
    chosen = (values.get("currency") or "").lower()
    if chosen in settings.currency_limits:
        return chosen
    header = settings.country_header
    return reader_currency(settings, request.headers.get(header, "") if header else "")


def _attribution(source: Mapping[str, str]) -> dict[str, str]:
    """Campaign, variant and placement passed along from an appeal, if they look sane."""
    return {
        key: value
        for key, limit in ATTRIBUTION_LIMITS.items()
        if (value := source.get(key, "")) and len(value) <= limit
    }


def render_support_page(
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The support page with the form, keeping what the reader chose and any errors."""
    settings = _settings()
    count = count_supporters(db.session, settings)
    values = dict(values or {})
    currency = page_currency(settings, values)
    values["currency"] = currency
    attribution = _attribution(values)
    asks = offered_asks(settings, attribution.get("campaign"), attribution.get("variant"), currency)
    assert asks is not None  # page_currency answers an offered currency
    if values.get("frequency") not in asks.frequencies:
        values["frequency"] = asks.default_frequency
    choices = presets(asks, currency)
    for frequency in asks.frequencies:
        default = asks.default_amounts.get(frequency)
        values.setdefault(f"amount_{frequency}", "" if default is None else str(default))
    limits = settings.currency_limits[currency]
    minimum = max(asks.minimum, limits.minimum)
    fee = settings.fee_cover.get(currency)
    shown = display_count(count) if count >= settings.social_proof_min_count else ""
    html = render_template(
        "support.html",
        texts=support_texts(db.session, current_language()),
        supporters=shown,
        count=count,
        values=values,
        errors=dict(errors or {}),
        presets=choices,
        frequencies=[(f, gettext(FREQUENCY_LABELS[f])) for f in asks.frequencies],
        currency=currency,
        currencies=settings.supported_currencies,
        currency_symbol=currency_symbol(currency, current_language()),
        currency_digits=decimal_digits(currency),
        limits=CurrencyLimits(minimum, limits.maximum),
        minimum=money(minimum, currency),
        maximum=money(limits.maximum, currency),
        amount_example=amount_example(currency),
        fee_rule=fee,
        fee_text=fee_text(fee, currency) if fee else "",
        attribution=attribution
        | ({"return_url": values["return_url"]} if values.get("return_url") else {}),
        # A fresh id per rendering: a double-click sends it twice and opens one session.
        attempt=str(uuid.uuid4()),
    )
    return html, status


@bp.get("/support")
def support_page() -> ResponseReturnValue:
    """The full appeal with the live supporter count and the donation form.

    `?return_url=` names the publisher's page the reader came from (an allowed origin's,
    as the API takes): the thank-you page's way back goes there, carrying the pass.
    """
    values: dict[str, str] = _attribution(request.args)
    if request.args.get("frequency") in {f.value for f in Frequency}:
        values["frequency"] = request.args["frequency"]
    return_url = request.args.get("return_url", "")
    if return_url:
        if len(return_url) > 2048 or not is_allowed_return_url(_settings(), return_url):
            problem = {
                "form": gettext("The link back to the site you came from isn't one we know.")
            }
            return render_support_page(values, problem, 422)
        values["return_url"] = return_url
    if request.args.get("currency"):
        values["currency"] = request.args["currency"][:3]
    return render_support_page(values)


# Fields whose messages the page shows under another name.
_SHOWN_AS = {"amount_monthly": "amount", "amount_one_off": "amount", "custom_amount": "amount"}
_SHOWN_FIELDS = {"frequency", "amount", "website"}


def _first_messages(messages: Mapping[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for field, value in messages.items():
        while isinstance(value, list | tuple) and value:
            value = value[0]
        shown = _SHOWN_AS.get(field, field)
        if shown not in _SHOWN_FIELDS:
            # Hidden inputs (campaign, attempt, ...) have no place of their own on the page.
            value, shown = f"{field}: {value}", "form"
        flat.setdefault(shown, str(value))
    return flat


@bp.post("/support/checkout")
@checks_own_fields
@checkout_rate_limits
def support_checkout() -> ResponseReturnValue:
    """The no-JavaScript form: validate, open Stripe Checkout and send the reader there."""
    form = request.form.to_dict()
    try:
        donation = SupportFormSchema().load(form)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_": error.messages}
        errors = _first_messages(messages)
        # Never echo back what could not be taken.
        form = {key: value for key, value in form.items() if key not in messages}
        if "website" in errors:
            # A filled honeypot: say so plainly and clear it, in case it was autofill.
            errors["form"] = errors.pop("website")
            form.pop("website", None)
        return render_support_page(form, errors, 422)
    try:
        created = begin_checkout(
            db.session, _settings(), donation, valid_attempt_id(form.get("attempt"))
        )
    except CheckoutFailed:
        return render_support_page(form, {"form": STRIPE_DOWN_MESSAGE}, 502)
    except DonationsUnavailable:
        try:
            page = render_support_page(form, {"form": UNAVAILABLE_MESSAGE}, 503)
        except DATABASE_AWAY:
            # The form shows the live count; without the database, the error page alone.
            abort(503, UNAVAILABLE_MESSAGE)
        response = current_app.make_response(page)
        response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
        return response
    return redirect(created.url, 303)


def _private(response: Response) -> Response:
    """Pages with session ids or manage links: never cached, never in a Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _attempt_of(session_id: str) -> CheckoutAttempt | None:
    return db.session.scalar(
        select(CheckoutAttempt).where(CheckoutAttempt.stripe_checkout_session_id == session_id)
    )


@bp.get("/support/thank-you")
def thank_you() -> ResponseReturnValue:
    """Confirm a completed checkout with Stripe and thank the reader for what they gave.

    A paid checkout hands the supporter pass back to the publisher's page it began on
    (or the publication's home page) in the URL fragment; from the widget (`back=1`)
    the reader goes straight there.
    """
    settings = _settings()
    session_id = request.args.get("session_id", "")
    try:
        info = fetch_our_session(session_id) if session_id else None
    except stripe_gateway.GatewayError:
        html = render_template("thank_you.html", state="unconfirmed")
        return _private(current_app.make_response((html, 502)))
    if info is None:
        html = render_template("thank_you.html", state="unknown")
        return _private(current_app.make_response((html, 404)))
    gift = describe_session(settings, info)
    attempt = _attempt_of(info.id)
    way_back = (attempt.return_url if attempt else None) or settings.publication_url or None
    supporter_pass = None
    if gift["paid"]:
        state = "paid"
        supporter_pass = pass_for_checkout(
            db.session,
            settings,
            session_id=info.id,
            subscription_id=info.subscription_id,
            customer_id=info.customer_id,
            frequency=Frequency(gift["frequency"]),
            started_at=attempt.created_at if attempt else None,
        )
        if way_back:
            way_back = with_pass(way_back, supporter_pass, rc_thanks=gift["frequency"])
        if way_back and request.args.get("back") == "1" and supporter_pass:
            return _private(redirect(way_back, 303))
    elif info.status == "complete":
        # Completed but not yet paid: a delayed method (a bank debit) is still clearing.
        state = "processing"
    else:
        state = "unpaid"
    html = render_template(
        "thank_you.html",
        state=state,
        gift=gift,
        way_back=way_back,
        supporter_pass=supporter_pass,
        publication=brand_of(settings).name,
    )
    return _private(current_app.make_response(html))


@bp.get("/support/manage/<token>")
def old_manage_link(token: str) -> ResponseReturnValue:
    """Old 30-day manage links open nothing now: they were bearer links to the portal."""
    del token
    html = render_template("manage_sign_in.html", state="old_link", values={})
    return _private(current_app.make_response((html, 410)))
