"""Shapes of the checkout API and of the no-JavaScript support form."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from service.appeals import Placement, offered_asks
from service.core.i18n import (
    amount_example,
    current_language,
    gettext,
    language_or_default,
    lazy_gettext,
    money,
)
from service.core.input_guard import LINE_PATTERN, clean_line
from service.core.money import parse_major_amount
from service.core.settings import Settings
from service.donations.checkout import (
    DonationRequest,
    amount_problem,
    fee_cover_amount,
    is_allowed_return_url,
)
from service.ledger import Frequency

FREQUENCY_MESSAGE = lazy_gettext("Choose one_off, monthly or annual.")
FORM_FREQUENCY_MESSAGE = lazy_gettext("Choose once-off, monthly or yearly.")
FREQUENCY_NAMES = {
    "monthly": lazy_gettext("monthly"),
    "annual": lazy_gettext("yearly"),
    "one_off": lazy_gettext("once-off"),
}


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def _optional_text(maximum: int) -> fields.String:
    return fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=maximum), clean_line],
        allow_none=True,
        metadata={"pattern": LINE_PATTERN},
    )


class CheckoutRequestSchema(Schema):
    """POST /api/v1/checkout: what the reader wants to give."""

    class Meta:
        unknown = RAISE

    frequency = fields.String(
        required=True,
        validate=validate.OneOf([f.value for f in Frequency], error=FREQUENCY_MESSAGE),
        metadata={"description": "one_off, monthly or annual"},
    )
    amount = fields.Integer(
        required=True,
        strict=True,
        metadata={"description": "Minor units (cents), within the currency's limits"},
    )
    currency = fields.String(
        load_default=None,
        metadata={"description": "Lowercase ISO code; the default currency when left out"},
    )
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=320))
    campaign = _optional_text(80)
    variant = _optional_text(40)
    placement = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(
            [p.value for p in Placement], error=lazy_gettext("Choose top or bottom.")
        ),
    )
    return_url = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=2048),
        metadata={"description": "Where to return after paying; on an allowed origin"},
    )
    language = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=35),
        metadata={
            "description": "The reader's language (en, de, fr); any other is the default "
            "language. Left out: the browser's Accept-Language."
        },
    )
    cover_fees = fields.Boolean(
        load_default=False,
        metadata={"description": "Add the processing fee (FEE_COVER) to the amount"},
    )

    @pre_load
    def _trim_email(self, data: Any, **_kwargs: Any) -> Any:
        # Pasted addresses often carry a space; that is not worth a refusal.
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            data = {**data, "email": data["email"].strip()}
        return data

    # Run even when some fields failed, so every bad field gets its message at once.
    @validates_schema(skip_on_field_errors=False)
    def _check_against_settings(self, data: dict[str, Any], **_kwargs: Any) -> None:
        settings = _settings()
        errors: dict[str, list[str]] = {}
        currency = (data.get("currency") or settings.default_currency).lower()
        if currency not in settings.currency_limits:
            errors["currency"] = [
                gettext("Choose one of %(codes)s.", codes=", ".join(settings.supported_currencies))
            ]
        else:
            errors.update(_asks_problems(settings, data, currency))
        return_url = data.get("return_url")
        if isinstance(return_url, str) and not is_allowed_return_url(settings, return_url):
            errors["return_url"] = [
                gettext("Must be a page on this site or an allowed publisher site.")
            ]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _to_request(self, data: dict[str, Any], **_kwargs: Any) -> DonationRequest:
        currency = (data["currency"] or _settings().default_currency).lower()
        fee = fee_cover_amount(_settings(), data["amount"], currency) if data["cover_fees"] else 0
        return DonationRequest(
            frequency=Frequency(data["frequency"]),
            amount_minor=data["amount"] + fee,
            currency=currency,
            email=data["email"].strip().lower() if data["email"] else None,
            campaign=data["campaign"],
            variant=data["variant"],
            placement=data["placement"],
            return_url=data["return_url"],
            language=language_or_default(data["language"] or current_language()),
            fee_cover_minor=fee,
        )


def _asks_problems(settings: Settings, data: dict[str, Any], currency: str) -> dict[str, list[str]]:
    """The amount and frequency against the limits and the asks of the reader's appeal."""
    errors: dict[str, list[str]] = {}
    asks = offered_asks(settings, data.get("campaign"), data.get("variant"), currency)
    frequency = data.get("frequency")
    if asks is not None and frequency is not None and frequency not in asks.frequencies:
        offered = " / ".join(str(FREQUENCY_NAMES[f]) for f in asks.frequencies)
        errors["frequency"] = [gettext("This appeal takes %(offered)s gifts.", offered=offered)]
    amount = data.get("amount")
    if not isinstance(amount, int):
        return errors
    problem = amount_problem(settings, amount, currency)
    if problem is None and asks is not None and amount < asks.minimum:
        problem = gettext(
            "The smallest gift here is %(minimum)s.", minimum=money(asks.minimum, currency)
        )
    if problem:
        errors["amount"] = [problem]
    return errors


class CheckoutCreatedSchema(Schema):
    session_id = fields.String(required=True)
    checkout_url = fields.String(required=True)


class CheckoutSessionStatusSchema(Schema):
    """GET /api/v1/checkout/sessions/<id>: a returning donor's session, read from Stripe."""

    paid = fields.Boolean(required=True)
    status = fields.String(required=True, metadata={"description": "complete, open or expired"})
    frequency = fields.String(required=True, metadata={"description": "one_off, monthly or annual"})
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    display_amount = fields.String(required=True)


class NotFoundSchema(Schema):
    # The shape of every JSON error from service/errors.py.
    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String(required=True)


class SupportFormSchema(Schema):
    """POST /support/checkout: the no-JavaScript form on the support page."""

    class Meta:
        unknown = RAISE

    frequency = fields.String(
        required=True,
        validate=validate.OneOf([f.value for f in Frequency], error=FORM_FREQUENCY_MESSAGE),
        error_messages={"required": FORM_FREQUENCY_MESSAGE},
    )
    amount_monthly = fields.String(load_default="", validate=[validate.Length(max=20), clean_line])
    amount_annual = fields.String(load_default="", validate=[validate.Length(max=20), clean_line])
    amount_one_off = fields.String(load_default="", validate=[validate.Length(max=20), clean_line])
    custom_amount = fields.String(load_default="", validate=[validate.Length(max=20), clean_line])
    attempt = fields.String(load_default=None, validate=[validate.Length(max=36), clean_line])
    currency = fields.String(load_default="", validate=validate.Length(max=3))
    cover_fees = fields.Boolean(load_default=False)
    # The honeypot: hidden from people, filled in by naive bots.
    website = fields.String(load_default="", validate=validate.Length(max=200))
    # The page's language, so the answer and Stripe's page stay in it.
    lang = fields.String(load_default=None, validate=validate.Length(max=35))
    campaign = _optional_text(80)
    variant = _optional_text(40)
    placement = fields.String(
        load_default=None, validate=validate.OneOf([p.value for p in Placement])
    )
    # The publisher's page the reader came from (/support?return_url=…): the way back.
    return_url = fields.String(load_default=None, validate=[validate.Length(max=2048), clean_line])

    @pre_load
    def _drop_empty_optionals(self, data: Any, **_kwargs: Any) -> Any:
        # Hidden attribution inputs arrive as "" when the page had none.
        return {
            key: value
            for key, value in data.items()
            if not (
                key in {"campaign", "variant", "placement", "attempt", "return_url", "currency"}
                and value == ""
            )
        }

    @validates_schema
    def _check_amount(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("website"):
            raise ValidationError(
                gettext(
                    "Something in the form looked automated. Check your choice and press the "
                    "button again."
                ),
                "website",
            )
        settings = _settings()
        return_url = data.get("return_url")
        if isinstance(return_url, str) and not is_allowed_return_url(settings, return_url):
            raise ValidationError(
                "The page to return to is not on this site or an allowed publisher site.",
                "return_url",
            )
        currency = (data.get("currency") or settings.default_currency).lower()
        if currency not in settings.currency_limits:
            raise ValidationError(
                gettext("Choose one of %(codes)s.", codes=", ".join(settings.supported_currencies)),
                "currency",
            )
        frequency = data.get("frequency")
        if frequency not in {f.value for f in Frequency}:
            return
        custom = data.get("custom_amount", "").strip()
        preset = data.get(f"amount_{frequency}", "").strip()
        if custom:
            amount = parse_major_amount(custom, currency)
            if amount is None:
                raise ValidationError(
                    gettext("Enter an amount like %(example)s.", example=amount_example(currency)),
                    "amount",
                )
        elif preset and preset != "other":
            amount = int(preset) if preset.isdigit() else None
            if amount is None:
                raise ValidationError(gettext("Choose one of the amounts."), "amount")
        else:
            raise ValidationError(gettext("Choose an amount or enter your own."), "amount")
        checked = {**data, "amount": amount, "cover_fees": bool(data.get("cover_fees"))}
        for name, messages in _asks_problems(settings, checked, currency).items():
            raise ValidationError(messages[0], name)
        data["amount"] = amount
        data["currency"] = currency

    @post_load
    def _to_request(self, data: dict[str, Any], **_kwargs: Any) -> DonationRequest:
        currency = data["currency"]
        fee = fee_cover_amount(_settings(), data["amount"], currency) if data["cover_fees"] else 0
        return DonationRequest(
            frequency=Frequency(data["frequency"]),
            amount_minor=data["amount"] + fee,
            currency=currency,
            campaign=data["campaign"],
            variant=data["variant"],
            placement=data["placement"],
            return_url=data.get("return_url"),
            from_page=True,
            language=current_language(),
            fee_cover_minor=fee,
        )
