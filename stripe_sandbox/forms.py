"""Decode Stripe's form encoding (``a[b][0][c]=x``, ``expand[]=y``) into nested values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

#: Hash parameters whose keys are the caller's own, so ``metadata[0]`` stays a key, not an index.
FREE_FORM_KEYS = frozenset({"metadata"})

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class FormDecodeError(ValueError):
    """A parameter name or structure that cannot be decoded."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


class _Append:
    """Marks the ``[]`` segment: push onto a list instead of naming a slot."""


_APPEND = _Append()


def _segments(name: str) -> list[str | _Append]:
    match = _KEY.match(name)
    if match is None:
        raise FormDecodeError(f"Invalid parameter name: {name}", name)
    parts: list[str | _Append] = [match.group(1)]
    for segment in _SEGMENT.findall(match.group(2)):
        parts.append(segment if segment else _APPEND)
    return parts


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``(name, value)`` pairs into nested dicts and lists of strings.

    Indexed keys (``items[0][price]``) become lists in index order; ``[]`` appends.
    A later value for the same scalar slot wins, as it does for Stripe.
    """
    root: dict[str, Any] = {}
    for name, value in pairs:
        parts = _segments(name)
        node: Any = root
        for position, part in enumerate(parts):
            last = position == len(parts) - 1
            if isinstance(part, _Append):
                if not isinstance(node, list):
                    raise FormDecodeError(f"Invalid array: {name}", name)
                if last:
                    node.append(value)
                    break
                node.append({})
                node = node[-1]
                continue
            if not isinstance(node, dict):
                raise FormDecodeError(f"Invalid hash: {name}", name)
            if last:
                if isinstance(node.get(part), dict | list):
                    raise FormDecodeError(f"Invalid value for {name}: expected a hash", name)
                node[part] = value
                break
            following = parts[position + 1]
            child = node.get(part)
            if child is None or isinstance(child, str):
                if isinstance(child, str) and child != "":
                    raise FormDecodeError(f"Invalid value for {name}", name)
                child = [] if isinstance(following, _Append) else {}
                node[part] = child
            node = child
    decoded: dict[str, Any] = _listify(root, parent=None)
    return decoded


def _listify(value: Any, parent: str | None) -> Any:
    """Turn dicts keyed ``0..n`` into lists, except under caller-keyed hashes."""
    if isinstance(value, list):
        return [_listify(item, parent=None) for item in value]
    if not isinstance(value, dict):
        return value
    converted = {key: _listify(item, parent=key) for key, item in value.items()}
    if parent in FREE_FORM_KEYS or not converted:
        return converted
    if all(key.isdigit() for key in converted):
        indices = sorted(converted, key=int)
        if [int(key) for key in indices] != list(range(len(indices))):
            first_gap = next(str(i) for i, key in enumerate(indices) if int(key) != i)
            name = f"{parent}[{first_gap}]" if parent else first_gap
            raise FormDecodeError(f"Invalid array: indices must start at 0 ({name})", name)
        return [converted[key] for key in indices]
    return converted
