"""Validate decoded request parameters the way Stripe does, with Stripe's error wording."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union
from urllib.parse import urlsplit

from .errors import StripeError, invalid, missing, unknown


@dataclass(frozen=True)
class ListOf:
    """A schema for an array parameter whose elements follow ``item``."""

    item: Schema | None


#: Allowed parameter names; a nested schema, ``ListOf`` for arrays, ``None`` for any value.
Schema = Mapping[str, Union["Schema", ListOf, None]]

#: Parameters every endpoint takes.
COMMON: Schema = {"expand": None}


def check(params: Mapping[str, Any], schema: Schema, prefix: str = "") -> None:
    """Reject parameters the schema does not name, as ``parameter_unknown``."""
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if key not in schema and not (not prefix and key in COMMON):
            raise unknown(name)
        sub = schema.get(key)
        if sub is None or value == "":
            continue
        if isinstance(sub, ListOf):
            if not isinstance(value, list):
                raise invalid(f"Invalid array: {name}", param=name)
            for index, element in enumerate(value):
                if sub.item is not None:
                    if not isinstance(element, dict):
                        raise invalid(f"Invalid object: {name}[{index}]", param=f"{name}[{index}]")
                    check(element, sub.item, f"{name}[{index}]")
        elif not isinstance(value, dict):
            raise invalid(f"Invalid object: {name}", param=name)
        else:
            check(value, sub, name)


def not_emulated(params: Mapping[str, Any], names: set[str], prefix: str = "") -> None:
    """Refuse parameters Stripe takes but the sandbox does not act on, rather than ignore them."""
    for key in params:
        if key in names:
            name = f"{prefix}[{key}]" if prefix else key
            raise StripeError(
                400,
                f"The Stripe sandbox (a test double) does not emulate the parameter {name}.",
                param=name,
                code="parameter_unknown",
                replayable=False,
            )


def _empty(param: str) -> StripeError:
    return invalid(
        f"You passed an empty string for '{param}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
        "from your request or supply a non-empty value.",
        param=param,
        code="parameter_invalid_empty",
    )


def string(value: Any, param: str, *, required: bool = False, max_length: int = 5000) -> str | None:
    """A string parameter; ``None`` when absent."""
    if value is None:
        if required:
            raise missing(param)
        return None
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {param}", param=param, code="parameter_invalid_string")
    if value == "" and required:
        raise _empty(param)
    if len(value) > max_length:
        raise invalid(
            f"Invalid string: {value[:20]}...; must be at most {max_length} characters",
            param=param,
            code="parameter_invalid_string",
        )
    return value


def integer(
    value: Any,
    param: str,
    *,
    required: bool = False,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """An integer parameter; ``None`` when absent."""
    text = string(value, param, required=required)
    if text is None or text == "":
        if required:
            raise _empty(param)
        return None
    stripped = text.strip()
    if not (stripped.lstrip("-").isdigit()):
        raise invalid(f"Invalid integer: {text}", param=param, code="parameter_invalid_integer")
    number = int(stripped)
    if minimum is not None and number < minimum:
        raise invalid(
            f"This value must be greater than or equal to {minimum}.",
            param=param,
            code="parameter_invalid_integer",
        )
    if maximum is not None and number > maximum:
        raise invalid(
            f"This value must be less than or equal to {maximum}.",
            param=param,
            code="parameter_invalid_integer",
        )
    return number


def boolean(value: Any, param: str) -> bool | None:
    """A ``true``/``false`` parameter; ``None`` when absent."""
    text = string(value, param)
    if text is None or text == "":
        return None
    if text not in ("true", "false"):
        raise invalid(f"Invalid boolean: {text}", param=param)
    return text == "true"


def choice(
    value: Any, param: str, choices: tuple[str, ...], *, required: bool = False
) -> str | None:
    """A string that must be one of ``choices``."""
    text = string(value, param, required=required)
    if text is None:
        return None
    if text not in choices:
        listed = ", ".join(choices[:-1]) + f", or {choices[-1]}" if len(choices) > 1 else choices[0]
        raise invalid(
            f"Invalid {param.split('[')[-1].rstrip(']')}: must be one of {listed}", param=param
        )
    return text


def hash_value(value: Any, param: str) -> dict[str, Any] | None:
    """A nested object parameter; ``None`` when absent or sent empty."""
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise invalid(f"Invalid object: {param}", param=param)
    return value


def metadata(value: Any, param: str = "metadata") -> dict[str, str] | None:
    """Metadata: at most 50 keys of up to 40 characters, values up to 500 characters."""
    if value == "":
        return {}
    data = hash_value(value, param)
    if data is None:
        return None
    if len(data) > 50:
        raise invalid("Metadata can have up to 50 keys.", param=param)
    for key, item in data.items():
        if len(key) > 40:
            raise invalid(
                f"Metadata keys can have up to 40 characters (key '{key}').",
                param=f"{param}[{key}]",
            )
        if not isinstance(item, str):
            raise invalid(f"Invalid metadata value for key '{key}'.", param=f"{param}[{key}]")
        if len(item) > 500:
            raise invalid(
                f"Metadata values can have up to 500 characters, but you passed in a value that "
                f"is {len(item)} characters. Invalid value: {item[:20]}...",
                param=f"{param}[{key}]",
            )
    return {key: str(item) for key, item in data.items()}


def url(value: Any, param: str, *, required: bool = False) -> str | None:
    """An absolute http(s) URL (Checkout also allows ``{CHECKOUT_SESSION_ID}`` in it)."""
    text = string(value, param, required=required, max_length=5000)
    if not text:
        return None
    parts = urlsplit(text.replace("{CHECKOUT_SESSION_ID}", "x"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("Not a valid URL", param=param, code="url_invalid")
    return text


def expand_paths(params: Mapping[str, Any]) -> list[str]:
    """The ``expand[]`` paths of a request."""
    value = params.get("expand")
    if value is None or value == "":
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid("Invalid array: expand", param="expand")
    return list(value)
