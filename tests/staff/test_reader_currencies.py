"""Admins change the country -> currency map; the site document and /support follow."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.staff.models import StaffRole, StaffUser
from tests.staff import factories
from tests.staff.helpers import arranged, sign_in, token_from

PAGE = "/staff/site/currencies"


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> StaffUser:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.ADMIN)
    assert sign_in(client, user.email).status_code == 302
    return user


def test_the_map_starts_with_the_defaults_and_admins_change_it(
    client: FlaskClient, admin: StaffUser
) -> None:
    page = client.get(PAGE).get_data(as_text=True)
    assert "GB gbp" in page and "US usd" in page and "DE eur" in page
    assert "No geolocation: COUNTRY_HEADER is not set" in page
    token = token_from(client, PAGE)
    saved = client.post(PAGE, data={"csrf_token": token, "mapping": "GB gbp\nIE=gbp\nch: usd"})
    assert saved.status_code == 302
    document = client.get("/api/v1/appeals/site").get_json()
    assert document["countries"] == {"CH": "usd", "GB": "gbp", "IE": "gbp"}


def test_a_currency_the_service_does_not_take_is_refused(
    client: FlaskClient, admin: StaffUser
) -> None:
    token = token_from(client, PAGE)
    response = client.post(PAGE, data={"csrf_token": token, "mapping": "CH chf\nnonsense"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "CHF is not taken here" in text and "write a country code and a currency" in text
    assert client.get("/api/v1/appeals/site").get_json()["countries"]["GB"] == "gbp"
