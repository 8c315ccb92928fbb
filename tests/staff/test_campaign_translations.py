"""A campaign's copy per language: staff write it, readers of that language see it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.staff.models import StaffRole, StaffUser
from tests.appeals.factories import make_campaign
from tests.staff import factories
from tests.staff.helpers import arranged, csrf_token, sign_in

SITE = "/api/v1/appeals/site"


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"supporter_count_offset": 1234, "appeal_cache_seconds": 30}


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> StaffUser:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.ADMIN)
    assert sign_in(client, user.email).status_code == 302
    return user


@pytest.fixture
def campaign_id(app: Flask) -> int:
    with arranged(app) as session:
        return make_campaign(session).id


def _copy(client: FlaskClient, language: str) -> dict[str, Any]:
    body = client.get(f"{SITE}?lang={language}").get_json()
    return dict(body["campaigns"][0]["variants"][0]["copy"])


@pytest.mark.usefixtures("admin")
def test_staff_write_german_copy_and_german_readers_see_it(
    client: FlaskClient, campaign_id: int
) -> None:
    page = client.get(f"/staff/campaigns/{campaign_id}/translations?lang=de")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "copy in German (Deutsch)" in html
    assert "We need your help now" in html  # the default language's copy, to translate from

    saved = client.post(
        f"/staff/campaigns/{campaign_id}/translations?lang=de",
        data={
            "csrf_token": csrf_token(html),
            "a.top.heading": "Wir brauchen Sie jetzt",
            "a.top.body": "Schon {supporters} Leserinnen und Leser helfen. Ziel: {goal}.",
            "a.top.cta": "Jetzt beitragen",
            # The bottom box is left untranslated: German readers get the English one.
            "a.bottom.heading": "",
            "a.bottom.body": "",
            "a.bottom.cta": "",
        },
    )
    assert saved.status_code == 302

    german = _copy(client, "de")
    assert german["top"] == {
        "heading": "Wir brauchen Sie jetzt",
        "body": "Schon mehr als 1.200 Leserinnen und Leser helfen. Ziel: 2.000.",
        "cta": "Jetzt beitragen",
    }
    assert german["bottom"]["heading"] == "Readers like you"
    # French and English readers keep the default language's copy.
    assert _copy(client, "fr")["top"]["heading"] == "We need your help now"
    assert _copy(client, "en")["top"]["heading"] == "We need your help now"

    # The editor shows what was saved; emptying all three parts removes the translation.
    again = client.get(f"/staff/campaigns/{campaign_id}/translations?lang=de")
    assert "Wir brauchen Sie jetzt" in again.get_data(as_text=True)
    removed = client.post(
        f"/staff/campaigns/{campaign_id}/translations?lang=de",
        data={"csrf_token": csrf_token(again.get_data(as_text=True)), "a.top.heading": ""},
    )
    assert removed.status_code == 302
    assert _copy(client, "de")["top"]["heading"] == "We need your help now"


@pytest.mark.usefixtures("admin")
def test_half_a_translation_is_refused_with_a_message(
    client: FlaskClient, campaign_id: int
) -> None:
    html = client.get(f"/staff/campaigns/{campaign_id}/translations?lang=fr").get_data(as_text=True)
    refused = client.post(
        f"/staff/campaigns/{campaign_id}/translations?lang=fr",
        data={"csrf_token": csrf_token(html), "a.top.heading": "Nous avons besoin de vous"},
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "write the heading, the text and the button, or leave all three empty" in page
    # What was typed stays in the form; nothing reached readers.
    assert 'value="Nous avons besoin de vous"' in page
    assert _copy(client, "fr")["top"]["heading"] == "We need your help now"


@pytest.mark.usefixtures("admin")
def test_the_default_language_and_unknown_ones_have_no_translation_page(
    client: FlaskClient, campaign_id: int
) -> None:
    assert client.get(f"/staff/campaigns/{campaign_id}/translations?lang=en").status_code == 404
    assert client.get(f"/staff/campaigns/{campaign_id}/translations?lang=es").status_code == 404
    assert client.get("/staff/campaigns/999999/translations").status_code == 404
