"""Refuse hostile input at the edge, before any view, schema or database sees it.

Control characters (NUL above all: PostgreSQL refuses it in text), lone surrogates (no
UTF-8 encoding exists for them), JSON nested thousands deep (the parser recurses),
number literals thousands of digits long and overlong values all end here with 422
and a message a person can read, instead of a 500 and a failed insert in the log.

JSON bodies and JSON-answering paths get a JSON 422. HTML pages read with GET are
shown again without the offending parameter and with the message (status 422);
HTML form posts get the error page with the message, unless the view checks its own
fields (`checks_own_fields`) and shows the form again with a message per field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from marshmallow import ValidationError, fields
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import UnprocessableEntity
from werkzeug.wrappers import Response

from service.core.errors import wants_json
from service.core.extensions import api_of

# C0 controls but tab, line feed and carriage return; DEL; C1 controls; UTF-16 surrogates.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Single-line fields (names, slugs, search boxes) refuse line breaks and tabs too.
_FORBIDDEN_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

# The same rules as JSON Schema patterns, for the OpenAPI document.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
LINE_CHARACTER = r"[^\x00-\x1f\x7f-\x9f]"
LINE_PATTERN = f"^{LINE_CHARACTER}*$"

MAX_JSON_DEPTH = 16
# Enough for any amount in minor units (int64 has 19 digits); longer is never a number of ours.
MAX_NUMBER_DIGITS = 18
MAX_JSON_STRING = 10_000
MAX_QUERY_VALUE = 1_000
MAX_FORM_VALUE = 100_000
MAX_KEY = 100

TEXT_MESSAGE = "cannot contain control characters or invalid Unicode"
_SKIPPED_PATHS = ("/webhooks/", "/static/")

F = TypeVar("F", bound=Callable[..., Any])


class InputRefused(ValueError):
    """A request value we will not process, with where it was and why."""

    def __init__(self, where: str, message: str, location: str = "json") -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message
        # As webargs names them: json, query, form.
        self.location = location


class _LongNumber(str):
    """A number literal too long to convert; refused with its field's name."""


def text_problem(value: str, *, one_line: bool = False) -> str | None:
    """Why this text cannot be taken, or None when it can."""
    pattern = _FORBIDDEN_ONE_LINE if one_line else _FORBIDDEN
    if pattern.search(value):
        return f"This {TEXT_MESSAGE}." if not one_line else f"This {TEXT_MESSAGE} or line breaks."
    return None


def clean_text(value: str) -> None:
    """A marshmallow validator: refuse control characters and lone surrogates."""
    problem = text_problem(value)
    if problem:
        raise ValidationError(problem)


def clean_line(value: str) -> None:
    """A marshmallow validator for single-line text: also refuse line breaks and tabs."""
    problem = text_problem(value, one_line=True)
    if problem:
        raise ValidationError(problem)


def checks_own_fields(view: F) -> F:
    """Let this form view refuse bad fields itself, one message per field."""
    view._checks_own_fields = True  # type: ignore[attr-defined]
    return view


def refuse_parameter(name: str, message: str) -> None:
    """Record that a query parameter was ignored; the page says so and answers 422."""
    refusals: dict[str, str] = g.setdefault("input_refusals", {})
    refusals.setdefault(name, message)


def input_refusals() -> dict[str, str]:
    """The parameters this request ignored, with why (for the page to show)."""
    refusals: dict[str, str] = g.get("input_refusals", {})
    return refusals


def _parse_number(literal: str, convert: Callable[[str], Any]) -> Any:
    # Checked before converting: int() of thousands of digits is slow, then refused.
    if len(literal) > MAX_NUMBER_DIGITS + 6 or sum(c.isdigit() for c in literal) > (
        MAX_NUMBER_DIGITS
    ):
        return _LongNumber(literal)
    return convert(literal)


def _refuse_constant(name: str) -> Any:
    raise InputRefused("_schema", f"{name} is not a number we accept.")


def load_bounded_json(raw: bytes | str) -> Any:
    """Parse JSON with bounded numbers and nesting and clean strings; raise InputRefused."""
    try:
        data = json.loads(
            raw,
            parse_int=lambda s: _parse_number(s, int),
            parse_float=lambda s: _parse_number(s, float),
            parse_constant=_refuse_constant,
        )
    except RecursionError:
        raise InputRefused(
            "_schema", f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)."
        ) from None
    _check_json_value(data)
    return data


def _check_json_value(data: Any) -> None:
    # Iterative, so a deep document cannot exhaust the stack here either.
    stack: list[tuple[Any, str, int]] = [(data, "_schema", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InputRefused(
                where, f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)."
            )
        if isinstance(value, _LongNumber):
            raise InputRefused(where, f"Numbers may have at most {MAX_NUMBER_DIGITS} digits.")
        if isinstance(value, str):
            _check_string(where, value, MAX_JSON_STRING)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_string(where, key, MAX_KEY)
                stack.append((item, key if depth == 0 else f"{where}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, where, depth + 1) for item in value)


def _check_string(where: str, value: str, limit: int) -> None:
    problem = text_problem(value)
    if problem:
        raise InputRefused(where, problem)
    if len(value) > limit:
        raise InputRefused(where, f"This is too long (at most {limit} characters).")


def _first_problem(
    items: Iterable[tuple[str, str]], limit: int, location: str
) -> InputRefused | None:
    for key, value in items:
        try:
            _check_string("_schema", key, MAX_KEY)
            _check_string(key, value, limit)
        except InputRefused as refused:
            refused.location = location
            return refused
    return None


def _refuse(refused: InputRefused) -> UnprocessableEntity:
    error = UnprocessableEntity(f"{refused.where}: {refused.message}")
    # errors.py lists per-field messages from here, shaped as webargs shapes its own.
    error.data = {  # type: ignore[attr-defined]
        "messages": {refused.location: {refused.where: [refused.message]}}
    }
    return error


def _guard() -> None:
    if request.path.startswith(_SKIPPED_PATHS):
        return
    refused_args = {
        key: refused
        for key, value in request.args.items(multi=True)
        if (refused := _first_problem([(key, value)], MAX_QUERY_VALUE, "query"))
    }
    if refused_args:
        if wants_json() or request.method not in {"GET", "HEAD"}:
            raise _refuse(next(iter(refused_args.values())))
        # A page read: show it without the parameter, and say so.
        for key in refused_args:
            refuse_parameter(
                key if not text_problem(key) else "?",
                "A search or filter value could not be used: it was too long or had "
                "control characters or invalid Unicode, so it was ignored.",
            )
        request.args = ImmutableMultiDict(
            [(k, v) for k, v in request.args.items(multi=True) if k not in refused_args]
        )
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    if request.is_json and request.content_length != 0:
        try:
            load_bounded_json(request.get_data(cache=True))
        except InputRefused as refused:
            raise _refuse(refused) from None
        except ValueError:
            return  # Malformed JSON: the view's parser answers that with its own 400.
    elif request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        view = current_app.view_functions.get(request.endpoint or "")
        if getattr(view, "_checks_own_fields", False):
            return
        problem = _first_problem(request.form.items(multi=True), MAX_FORM_VALUE, "form")
        if problem:
            raise _refuse(problem)


def _documented_text_rule(
    self: Any, field: fields.Field[Any], ret: dict[str, Any], **_kwargs: Any
) -> dict[str, Any]:
    """Give every free-text field of the OpenAPI document the characters the guard takes."""
    free_text = isinstance(field, fields.String) and not isinstance(
        field, fields.Email | fields.URL | fields.UUID
    )
    if free_text and not {"enum", "pattern", "format"} & ret.keys():
        return {"pattern": TEXT_PATTERN}
    return {}


def init_app(app: Flask) -> None:
    """Check every request's input before its view; answer refused parameters with 422."""
    # Before any feature registers a schema, so every field of the document gets it.
    api_of(app).ma_plugin.converter.add_attribute_function(_documented_text_rule)
    app.before_request(_guard)
    app.context_processor(lambda: {"input_refusals": input_refusals()})

    @app.after_request
    def _refused_parameters_status(response: Response) -> Response:
        if input_refusals() and response.status_code == 200:
            response.status_code = 422
        return response
