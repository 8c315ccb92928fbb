"""Hostile input is refused at the edge with 422 and a message, never a 500."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.staff.models import StaffRole
from tests.staff.factories import staff_user
from tests.staff.helpers import arranged, sign_in

BAD_TEXT = ["cam\x00paign", "\ud800", "bell\x07"]


def _checkout_body(**fields: object) -> dict[str, object]:
    return {"frequency": "one_off", "amount": 1000, **fields}


@pytest.mark.parametrize("field", ["campaign", "variant"])
@pytest.mark.parametrize("value", BAD_TEXT)
def test_api_checkout_refuses_control_characters_and_lone_surrogates(
    client: FlaskClient, field: str, value: str
) -> None:
    body = json.dumps(_checkout_body(**{field: value}))
    response = client.post("/api/v1/checkout", data=body, content_type="application/json")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["message"]


def test_api_checkout_refuses_deep_json(client: FlaskClient) -> None:
    body = '{"frequency": "one_off", "amount": 1000, "campaign": ' + "[" * 5000 + "]" * 5000 + "}"
    response = client.post("/api/v1/checkout", data=body, content_type="application/json")
    assert response.status_code == 422
    assert "nested" in response.get_json()["message"]
    assert response.get_json()["errors"]["json"]


def test_api_checkout_refuses_huge_numbers(client: FlaskClient) -> None:
    body = '{"frequency": "one_off", "amount": ' + "9" * 5000 + "}"
    response = client.post("/api/v1/checkout", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["amount"] == [
        "Numbers may have at most 18 digits."
    ]


@pytest.mark.parametrize("field", ["campaign", "variant", "custom_amount"])
@pytest.mark.parametrize("value", ["cam%00paign", "bell%07", "tab%09"])
def test_support_form_refuses_control_characters(
    client: FlaskClient, field: str, value: str
) -> None:
    body = f"frequency=one_off&amount_one_off=1000&{field}={value}"
    response = client.post(
        "/support/checkout", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 422
    assert "cannot contain" in response.get_data(as_text=True)


def test_support_form_takes_invalid_utf8_as_replacement_characters(client: FlaskClient) -> None:
    # Werkzeug decodes undecodable bytes as U+FFFD, which every database stores.
    body = "frequency=one_off&amount_one_off=1000&campaign=%ED%A0%80"
    response = client.post(
        "/support/checkout", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code != 500


def test_support_form_refuses_huge_amount(client: FlaskClient) -> None:
    form = {"frequency": "one_off", "amount_one_off": "9" * 5000}
    response = client.post("/support/checkout", data=form)
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/staff/supporters?q=%00",
        "/staff/donations?q=%00",
        "/staff/donations?campaign=%00",
        "/staff/supporters?q=" + "x" * 1001,
        "/staff/donations?to=9999-12-31",
        "/staff/donations?from=0001-01-01",
        "/staff/supporters?page=" + "9" * 30,
        "/staff/donations?page=99999999999",
    ],
)
def test_staff_pages_answer_hostile_queries_with_the_page(
    app: Flask, client: FlaskClient, path: str
) -> None:
    with arranged(app) as session:
        user = staff_user(session, StaffRole.VIEWER)
    sign_in(client, user.email)
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, response.status_code
    assert "<h1" in html  # the page itself, not an error page
    assert "ignored" in html or "showing the first" in html


def test_staff_pages_keep_sane_queries(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        user = staff_user(session, StaffRole.VIEWER)
    sign_in(client, user.email)
    response = client.get("/staff/donations?q=alice&from=2026-01-01&to=2026-12-31&page=2")
    assert response.status_code == 200
    assert "ignored" not in response.get_data(as_text=True)


def test_support_page_ignores_a_control_character_in_its_query(client: FlaskClient) -> None:
    response = client.get("/support?campaign=%00spring")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "ignored" in html
    assert "\x00" not in html and "spring" not in html


def test_json_api_refuses_a_control_character_in_its_query(client: FlaskClient) -> None:
    response = client.get("/api/v1/appeal?url=https://news.example/a%00")
    assert response.status_code == 422
    assert "control characters" in response.get_json()["message"]


def test_api_checkout_names_the_field_nested_too_deep(client: FlaskClient) -> None:
    body = '{"frequency": "one_off", "amount": 1000, "campaign": ' + "[" * 40 + "]" * 40 + "}"
    response = client.post("/api/v1/checkout", data=body, content_type="application/json")
    assert response.status_code == 422
    assert "nested too deeply" in response.get_json()["errors"]["json"]["campaign"][0]
