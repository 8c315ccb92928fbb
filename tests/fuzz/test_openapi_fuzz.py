"""Schemathesis against /api/openapi.json: no 5xx, and every answer matches its documentation.

Checkout talks to the Stripe sandbox, so fuzzed donations really open Checkout Sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
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
# NUL characters in every generated string (PostgreSQL refuses them in text columns).
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
    case.call_and_validate(checks=CHECKS, app=app)


def _without_text_rules(document: dict[str, Any]) -> dict[str, Any]:
    """The document minus its text rule, so generated strings carry NULs and controls."""
    rules = {TEXT_PATTERN, LINE_PATTERN}

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: strip(value)
                for key, value in node.items()
                if not (key == "pattern" and value in rules)
            }
        if isinstance(node, list):
            return [strip(value) for value in node]
        return node

    stripped: dict[str, Any] = strip(document)
    return stripped


_document_app = make_test_app("sqlite://", stripe_api_base="http://127.0.0.1:9")
loose_schema = schemathesis.openapi.from_dict(
    _without_text_rules(_document_app.test_client().get("/api/openapi.json").get_json())
)
loose_schema.config.update(base_url="http://localhost")
loose_schema.config.generation.update(allow_x00=True, modes=[GenerationMode.POSITIVE])


@loose_schema.include(method="POST").parametrize()
@settings(
    # Documented amounts and currencies get every example past the amount check, so
    # the odd text reaches the database (on PostgreSQL a NUL in text used to be a 500).
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_control_characters_never_give_a_server_error(case: Any, app: Flask) -> None:
    case.call_and_validate(checks=[not_a_server_error], app=app)
