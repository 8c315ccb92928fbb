"""The support page in a zero-decimal currency: yen presets, yen limits, whole yen typed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.core.settings import _parse_currency_limits
from tests.donations.helpers import sandbox_sessions
from tests.stripe_fixtures import sandbox_overrides


@pytest.fixture
def app_overrides(sandbox: Any) -> dict[str, Any]:
    return sandbox_overrides(
        sandbox,
        default_currency="jpy",
        currency_limits=_parse_currency_limits("jpy:100:1000000,eur:100:1000000"),
    )


def test_support_page_offers_yen_presets_and_yen_limits(client: FlaskClient) -> None:
    html = client.get("/support").get_data(as_text=True)

    labels = re.findall(r'name="amount_one_off" value="(\d+)"[^>]*><span>([^<]+)<', html)
    assert labels == [("1000", "¥1,000"), ("2500", "¥2,500"), ("5000", "¥5,000")]
    assert re.search(r'name="amount_monthly" value="1000"\s+checked', html)
    assert 'data-minimum="¥100"' in html
    assert 'data-maximum="¥1,000,000"' in html
    assert 'data-digits="0"' in html
    assert '<span aria-hidden="true">¥</span>' in html


@pytest.mark.parametrize(("typed", "amount"), [("1000", 1000), ("¥1000", 1000), ("¥ 2500", 2500)])
def test_whole_yen_typed_are_whole_yen_charged(
    client: FlaskClient, sandbox: Any, typed: str, amount: int
) -> None:
    response = client.post(
        "/support/checkout",
        data={"frequency": "one_off", "amount_one_off": "other", "custom_amount": typed},
    )

    assert response.status_code == 303
    assert [(s["amount_total"], s["currency"]) for s in sandbox_sessions(sandbox)] == [
        (amount, "jpy")
    ]


@pytest.mark.parametrize(
    ("typed", "message"),
    [("10.50", "Enter an amount like 1000."), ("50", "The smallest gift is ¥100.")],
)
def test_yen_amounts_are_checked_in_yen(client: FlaskClient, typed: str, message: str) -> None:
    response = client.post(
        "/support/checkout",
        data={"frequency": "one_off", "amount_one_off": "other", "custom_amount": typed},
    )

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
