"""The publication's brand from settings: name, home page, logo, colour, contact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.core.pass_key import new_private_key_pem
from service.core.settings import PROJECT_ROOT, Settings, SettingsError

BRAND = {
    "publication_name": "The Valley Ledger",
    "publication_url": "https://valley.example",
    "brand_logo_url": "https://cdn.valley.example/logo.svg",
    "brand_color": "#aa3300",
    "contact_email": "members@valley.example",
}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return dict(BRAND)


@pytest.mark.parametrize("path", ["/support", "/support/thank-you?session_id=cs_unknown"])
def test_reader_pages_carry_the_publication_brand(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    html = response.get_data(as_text=True)

    assert "The Valley Ledger" in html
    assert "Harbour Courier" not in html
    assert 'href="https://valley.example" data-brand-home' in html
    assert (
        '<img class="logo" src="https://cdn.valley.example/logo.svg" alt="The Valley Ledger">'
        in html
    )
    assert 'href="mailto:members@valley.example"' in html
    assert "https://cdn.valley.example" in response.headers["Content-Security-Policy"]


def test_the_brand_colour_is_a_stylesheet_not_an_inline_style(client: FlaskClient) -> None:
    css = client.get("/brand.css")

    assert css.status_code == 200
    assert css.mimetype == "text/css"
    assert "--accent: #aa3300;" in css.get_data(as_text=True)
    assert "public" in css.headers["Cache-Control"]
    assert 'href="/brand.css"' in client.get("/support").get_data(as_text=True)


def test_no_template_names_a_publication() -> None:
    templates = Path(PROJECT_ROOT, "templates")
    named = [
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if "Harbour Courier" in path.read_text(encoding="utf-8")
    ]
    assert named == []


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"BRAND_COLOR": "red"}, "BRAND_COLOR"),
        ({"BRAND_COLOR": "#abc;}body{"}, "BRAND_COLOR"),
        ({"BRAND_LOGO_URL": "javascript:alert(1)"}, "BRAND_LOGO_URL"),
        ({"BRAND_LOGO_URL": "http://plain.example/logo.png"}, "BRAND_LOGO_URL"),
        ({"PUBLICATION_URL": "valley.example"}, "PUBLICATION_URL"),
        ({"PUBLICATION_NAME": "<b>Ledger</b>"}, "PUBLICATION_NAME"),
        ({"CONTACT_EMAIL": "not an address"}, "CONTACT_EMAIL"),
    ],
)
def test_bad_brand_settings_are_refused(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError, match=fragment):
        Settings.from_env(environ)


def test_production_needs_the_publication_name() -> None:
    production = {
        "APP_ENV": "production",
        "SECRET_KEY": "k" * 40,
        "STRIPE_SECRET_KEY": "sk_test_abc",
        "STRIPE_WEBHOOK_SECRET": "whsec_abc",
        "DATABASE_URL": "postgresql://db.example/news",
        "SUPPORTER_PASS_PRIVATE_KEY": new_private_key_pem(),
    }
    with pytest.raises(SettingsError, match="PUBLICATION_NAME"):
        Settings.from_env(production)
    named = Settings.from_env({**production, "PUBLICATION_NAME": "The Valley Ledger"})
    assert named.publication_name == "The Valley Ledger"
