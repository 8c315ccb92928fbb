"""The /support heading and text per language: ours translated, staff's per language."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.staff.models import StaffRole, StaffUser
from tests.staff import factories
from tests.staff.helpers import arranged, csrf_token, sign_in


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> StaffUser:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.ADMIN)
    assert sign_in(client, user.email).status_code == 302
    return user


def _support(client: FlaskClient, language: str) -> str:
    return client.get(f"/support?lang={language}").get_data(as_text=True)


def test_our_own_heading_comes_in_the_readers_language(client: FlaskClient) -> None:
    assert "Ohne Sie geht es nicht" in _support(client, "de")
    assert "Nous ne pouvons pas y arriver sans vous" in _support(client, "fr")
    assert "We can&#39;t do this without you" in _support(client, "en")


@pytest.mark.usefixtures("admin")
def test_staff_write_the_support_text_per_language(client: FlaskClient) -> None:
    page = client.get("/staff/site/support-page?lang=de")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "see the English text" in html
    saved = client.post(
        "/staff/site/support-page?lang=de",
        data={
            "csrf_token": csrf_token(html),
            "heading": "Unterstützen Sie den Courier",
            "intro": "Ein Absatz.\n\nNoch einer.",
        },
    )
    assert saved.status_code == 302
    german = _support(client, "de")
    assert "Unterstützen Sie den Courier" in german and "Noch einer." in german
    # French readers still get ours, in French; the editor shows German as saved.
    assert "Nous ne pouvons pas y arriver sans vous" in _support(client, "fr")
    again = client.get("/staff/site/support-page?lang=de").get_data(as_text=True)
    assert "Unterstützen Sie den Courier" in again
    assert client.get("/staff/site/support-page?lang=es").status_code == 404
