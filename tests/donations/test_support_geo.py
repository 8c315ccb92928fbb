"""With COUNTRY_HEADER named, /support and the widget's country answer follow the CDN's header."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.stripe_fixtures import sandbox_overrides


@pytest.fixture
def app_overrides(sandbox: Any) -> dict[str, Any]:
    return {**sandbox_overrides(sandbox), "country_header": "CF-IPCountry"}


def _currency(client: FlaskClient, path: str, country: str) -> bool | str:
    html = client.get(path, headers={"CF-IPCountry": country}).get_data(as_text=True)
    marker = '<input type="hidden" name="currency" value="'
    return html.split(marker, 1)[1][:3] if marker in html else False


def test_the_named_cdn_header_picks_the_countrys_currency(client: FlaskClient) -> None:
    assert _currency(client, "/support", "GB") == "gbp"
    assert _currency(client, "/support", "us") == "usd"
    assert _currency(client, "/support", "DE") == "eur"
    assert _currency(client, "/support", "JP") == "eur"  # not mapped: the default
    assert _currency(client, "/support?currency=eur", "GB") == "eur"  # the reader's choice


def test_the_widget_learns_the_country_privately_and_the_document_says_so(
    client: FlaskClient,
) -> None:
    answer = client.get("/api/v1/reader-country", headers={"CF-IPCountry": "GB"})
    assert answer.get_json() == {"country": "GB"}
    assert answer.headers["Cache-Control"].startswith("private")
    assert answer.headers["Vary"] == "CF-IPCountry"
    assert client.get("/api/v1/reader-country", headers={"CF-IPCountry": "XX"}).get_json() == {
        "country": ""
    }
    document = client.get("/api/v1/appeals/site").get_json()
    assert document["geo"] is True
