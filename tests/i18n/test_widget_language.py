"""The widget's words and the count come in the page's language, one cacheable URL each."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.appeals.widget_strings import widget_messages
from service.core.settings import PROJECT_ROOT
from tests.appeals.factories import make_campaign

SITE = "/api/v1/appeals/site"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"supporter_count_offset": 5432}


def test_the_widget_lists_its_own_words() -> None:
    messages = widget_messages(PROJECT_ROOT / "static" / "widget.js")
    assert "Continue to payment" in messages
    assert "How often?" in messages
    assert "Opening secure payment…" in messages


def test_the_site_document_comes_in_the_language_asked_for(
    client: FlaskClient, session: Session
) -> None:
    make_campaign(session)
    session.commit()
    german = client.get(f"{SITE}?lang=de")
    assert german.status_code == 200
    body = german.get_json()
    assert body["language"] == "de"
    assert body["strings"]["Continue to payment"] == "Weiter zur Zahlung"
    assert body["strings"]["Once-off"] == "Einmalig"
    # And the pass's part of the widget (widget-pass.js), for supporters coming back.
    assert body["strings"]["Welcome back"] == "Willkommen zurück"
    # The count in the copy, as German readers write numbers.
    assert body["supporters"]["display"] == "mehr als 5.400"
    assert german.headers["Cache-Control"].startswith("public, max-age=")

    french = client.get(f"{SITE}?lang=fr-CA").get_json()
    assert french["language"] == "fr"
    assert french["strings"]["How often?"] == "À quelle fréquence ?"
    assert french["supporters"]["display"] == "plus de 5\u202f400"

    english = client.get(SITE)
    assert english.get_json()["language"] == "en"
    assert english.get_json()["strings"] == {}
    assert english.get_json()["supporters"]["display"] == "over 5,400"
    # Each language is its own cached answer: different bytes, different tags.
    assert english.headers["ETag"] != german.headers["ETag"]


def test_an_unknown_language_gets_the_default_languages_document(client: FlaskClient) -> None:
    unknown = client.get(f"{SITE}?lang=tlh")
    assert unknown.status_code == 200
    assert unknown.get_json()["language"] == "en"
    assert unknown.get_data() == client.get(SITE).get_data()
