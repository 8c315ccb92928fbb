"""Schemathesis against /api/openapi.json: no 5xx, and the document and the API agree.

Every answer matches its documentation, and every request the document allows is
accepted (positive_data_acceptance: no 4xx but 401/403/404/409/429 for schema-valid
data), so a valid request is never refused for a reason the document does not state.
A second document, the same with its text rule turned round, sends a NUL in every free
text field: always a 422, never a 5xx. Checkout talks to the Stripe sandbox, so fuzzed
donations really open Checkout Sessions.

Size: 60 examples for each of the document's operations (9 today) checked as
documented, 60 per POST operation with NULs, 60 checkouts with NULs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from service.core.input_guard import LINE_PATTERN, TEXT_PATTERN
from stripe_sandbox.server import SandboxServer
from tests.conftest import make_test_app
from tests.stripe_fixtures import checked_sandbox

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance,
]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with checked_sandbox(deliver_webhooks=False) as server:
        yield server


@pytest.fixture
def app_overrides(sandbox: SandboxServer) -> dict[str, Any]:
    return {
        "stripe_api_base": sandbox.url,
        # Fuzzing sends hundreds of requests from one address; 429 would hide the rest.
        "checkout_rate_limit": "100000 per minute",
    }


# The document comes from an app built at import; each case is then sent to the test's own
# app (database transaction rolled back, sandbox as Stripe). schemathesis's from_fixture
# does not work with pytest 9, hence the two apps.
schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json", make_test_app("sqlite://", stripe_api_base="http://127.0.0.1:9")
)
# NUL characters wherever the document allows them (the text rule does not).
schema.config.generation.update(allow_x00=True)


@schema.parametrize()
@settings(
    # Enough that documented amounts get past the amount check with odd campaign text.
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_api_answers_as_documented(case: Any, app: Flask) -> None:
    # The WSGI client does not unzip: ask for plain bytes (the site document, with every
    # currency's asks, is big enough to be gzipped for clients that accept it).
    case.call_and_validate(checks=CHECKS, app=app, headers={"Accept-Encoding": "identity"})


# Text that breaks the text rule: a NUL, sometimes followed by another control character
# (hypothesis rarely picks NUL out of a range, so it is spelled out).
CONTROL_PATTERN = "\x00[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]?"
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _with_control_characters(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its text rule turned round: every free text carries a control."""
    rules = {TEXT_PATTERN, LINE_PATTERN}

    def turn(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: CONTROL_PATTERN if key == "pattern" and value in rules else turn(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [turn(value) for value in node]
        return node

    turned: dict[str, Any] = turn(document)
    return turned


_document_app = make_test_app("sqlite://", stripe_api_base="http://127.0.0.1:9")
loose_schema = schemathesis.openapi.from_dict(
    _with_control_characters(_document_app.test_client().get("/api/openapi.json").get_json())
)
loose_schema.config.update(base_url="http://localhost")
loose_schema.config.generation.update(allow_x00=True, modes=[GenerationMode.POSITIVE])


@loose_schema.include(method="POST").exclude(path="/api/v1/checkout").parametrize()
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_control_characters_never_give_a_server_error(case: Any, app: Flask) -> None:
    case.call_and_validate(checks=[not_a_server_error, _controls_are_refused], app=app)


def _strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(field, text) for every string in a JSON body, the field being its top-level key."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, where or str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, where)


def _fields_with_controls(case: Any) -> set[str]:
    body = case.body if isinstance(case.body, dict | list) else {}
    return {where for where, text in _strings(body) if _CONTROL.search(text)}


def _controls_are_refused(_ctx: Any, response: Any, case: Any) -> bool | None:
    """A NUL or other control character in a JSON body: 422, never 2xx or 5xx."""
    if _fields_with_controls(case):
        assert response.status_code == 422, (response.status_code, case.body)
    return None


CHECKOUT_EXAMPLES = 60


def test_fuzzed_checkouts_get_past_the_amount_check_and_nuls_are_refused(app: Flask) -> None:
    """Generated checkouts carry NULs and controls with valid amounts: 422 naming the field.

    The amount rules stay in the document, so every example gets past the amount check:
    a NUL or control character is refused by its field's name, and an example without one
    (its text fields left out) opens a Checkout Session in the sandbox. On PostgreSQL a
    NUL in campaign text once reached the INSERT and gave a 500.
    """
    operation = loose_schema["/api/v1/checkout"]["POST"]
    outcomes: Counter[tuple[str, int]] = Counter()

    @given(case=operation.as_strategy())
    @settings(
        max_examples=CHECKOUT_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    def call(case: Any) -> None:
        response = case.call(app=app)
        fields = _fields_with_controls(case)
        assert response.status_code < 500, (response.status_code, case.body)
        texts = [text for _, text in _strings(case.body)]
        kind = "nul" if any("\x00" in t for t in texts) else "other" if fields else "clean"
        if fields:
            assert response.status_code == 422, (response.status_code, case.body)
            named = set(response.json()["errors"]["json"])
            assert named and named <= fields, (named, case.body)
        outcomes[kind, response.status_code] += 1

    call()
    print(f"\ncheckout fuzzing, {CHECKOUT_EXAMPLES} examples: {sorted(outcomes.items())}")
    assert outcomes["nul", 422] >= 10, outcomes
    assert outcomes["clean", 201] >= 5, outcomes
