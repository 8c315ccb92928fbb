"""The form decoder reads exactly what the ``stripe`` package encodes."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from stripe._encode import _api_encode

from stripe_sandbox.forms import FormDecodeError, decode

from .conftest import monthly_params


def _roundtrip(params: dict[str, Any]) -> dict[str, Any]:
    """Encode as the stripe package does on the wire, then decode as the sandbox does."""
    wire = urlencode(list(_api_encode(params)))
    return decode(parse_qsl(wire, keep_blank_values=True))


def test_nested_hashes_and_arrays_survive_the_stripe_encoding() -> None:
    params = monthly_params(expand=["subscription", "payment_intent.latest_charge"])
    decoded = _roundtrip(params)
    item = decoded["line_items"][0]
    assert item["price_data"]["recurring"] == {"interval": "month"}
    assert item["quantity"] == "1"
    assert decoded["subscription_data"]["metadata"]["attempt"] == "m1"
    assert decoded["expand"] == ["subscription", "payment_intent.latest_charge"]


def test_bracket_append_and_indexes() -> None:
    assert decode([("expand[]", "a"), ("expand[]", "b")]) == {"expand": ["a", "b"]}
    pairs = [("items[1][price]", "p2"), ("items[0][price]", "p1")]
    assert decode(pairs) == {"items": [{"price": "p1"}, {"price": "p2"}]}


def test_metadata_keys_that_look_like_indexes_stay_keys() -> None:
    assert decode([("metadata[0]", "zero")]) == {"metadata": {"0": "zero"}}


def test_booleans_and_empty_values_stay_strings() -> None:
    decoded = _roundtrip({"cancel_at_period_end": True, "metadata": {"gone": ""}})
    assert decoded == {"cancel_at_period_end": "true", "metadata": {"gone": ""}}


@pytest.mark.parametrize(
    "pairs",
    [
        [("a[", "x")],
        [("a", "x"), ("a[b]", "y")],
        [("a[b]", "y"), ("a", "x")],
        [("items[1][price]", "p")],
    ],
)
def test_malformed_names_are_rejected(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(FormDecodeError):
        decode(pairs)
