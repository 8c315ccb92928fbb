"""Shapes of the readers' JSON API."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates

from service.core.i18n import gettext
from service.core.settings import Settings
from service.donations import is_allowed_return_url


class SignInLinkRequestSchema(Schema):
    """POST /api/v1/readers/sign-in-link: who asks, and where to bring them back."""

    class Meta:
        unknown = RAISE

    email = fields.Email(
        required=True,
        validate=validate.Length(max=320),
        metadata={"description": "The email the reader gave with their gift"},
    )
    return_url = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=2048),
        metadata={"description": "A page on an allowed publisher origin to return to, signed in"},
    )

    @pre_load
    def _trim_email(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            return data | {"email": data["email"].strip()}
        return data

    @validates("return_url")
    def _allowed_origin(self, value: str | None, **_kwargs: Any) -> None:
        settings: Settings = current_app.extensions["settings"]
        if value is not None and not is_allowed_return_url(settings, value):
            raise ValidationError(
                gettext("Must be a page on this site or an allowed publisher site.")
            )


class AcceptedSchema(Schema):
    """The same answer for every well-formed request."""

    message = fields.String(required=True)


class PassRefreshSchema(Schema):
    """POST /api/v1/readers/pass: the pass the widget holds."""

    class Meta:
        unknown = RAISE

    # "pass" is a Python keyword: the field keeps the JSON name through data_key.
    pass_ = fields.String(
        required=True,
        data_key="pass",
        attribute="pass",
        validate=validate.Length(min=1, max=1024),
        metadata={"description": "The supporter pass, as the service issued it"},
    )


class PassStateSchema(Schema):
    """Whether the reader supports us now, with a fresh pass when they do."""

    state = fields.String(
        required=True,
        validate=validate.OneOf(["current", "lapsed", "never"]),
        metadata={"description": "current, lapsed (gave before) or never"},
    )
    pass_ = fields.String(
        data_key="pass",
        attribute="pass",
        metadata={"description": "A fresh pass (only when current)"},
    )
