"""Stripe's ``expand[]``: replace ids with the objects they name, following dotted paths."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from .errors import invalid

Obj = dict[str, Any]
#: Looks an id up; ``None`` when the sandbox does not hold it.
Lookup = Callable[[str], Obj | None]
#: Builds an includable field (``line_items``, ``payments``) that objects omit by default.
Include = Callable[[Obj, str], Obj | None]

MAX_DEPTH = 4


def expand(obj: Obj, paths: Sequence[str], lookup: Lookup, include: Include) -> Obj:
    """Expand ``paths`` of ``obj`` in place and return it.

    A path's segments name fields; ``data`` steps into every element of a list object,
    as in Stripe's ``expand[]=data.customer`` or ``payments.data.payment.payment_intent``.
    """
    for path in paths:
        segments = path.split(".")
        # Stepping into a list's ``data`` is not a level of expansion.
        if len([segment for segment in segments if segment != "data"]) > MAX_DEPTH:
            raise invalid(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
        _walk(obj, segments, path, lookup, include)
    return obj


def _walk(node: Any, segments: list[str], path: str, lookup: Lookup, include: Include) -> None:
    if not isinstance(node, dict):
        return
    head, rest = segments[0], segments[1:]
    if node.get("object") == "list" and head == "data":
        for item in node.get("data", []):
            if rest:
                _walk(item, rest, path, lookup, include)
        return
    if head not in node:
        included = include(node, head)
        if included is None:
            raise _cannot(path, head)
        node[head] = included
    value = node[head]
    if isinstance(value, str):
        found = lookup(value) if head not in ("id", "object") else None
        if found is None:
            raise _cannot(path, head)
        value = node[head] = copy.deepcopy(found)
    if rest and value is not None:
        _walk(value, rest, path, lookup, include)


def _cannot(path: str, segment: str) -> Exception:
    return invalid(f"This property cannot be expanded ({segment}).", param="expand")
