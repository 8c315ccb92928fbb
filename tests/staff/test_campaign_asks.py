"""Staff set asks per campaign, variant and currency; asks outside the limits are refused."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.appeals.models import Campaign, CampaignAsk
from service.staff.models import StaffRole, StaffUser
from tests.staff import factories
from tests.staff.helpers import arranged, sign_in, token_from


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> StaffUser:
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.ADMIN)
    assert sign_in(client, user.email).status_code == 302
    return user


def _form(token: str, **asks: str) -> dict[str, Any]:
    data = {
        "csrf_token": token,
        "name": "Asks test",
        "slug": "asks-test",
        "active": "y",
        "goal_behaviour": "thank_you",
        "min_articles_read": "0",
        "formats": "inline",
        "variants-0-key": "a",
        "variants-0-weight": "1",
        "variants-0-top_heading": "We need your help",
        "variants-0-top_body": "Please give.",
        "variants-0-top_cta": "Contribute",
        # The GBP entry, ticked: this variant's own asks in pounds.
        "variants-0-asks-0-currency": "gbp",
        "variants-0-asks-0-custom": "y",
        "variants-0-asks-0-frequencies": ["monthly", "one_off"],
        "variants-0-asks-0-default_frequency": "one_off",
        "variants-0-asks-0-monthly": "3, 6*, 9",
        "variants-0-asks-0-one_off": "15, 30*, 60",
        "variants-0-asks-0-minimum": "3",
        # EUR left unticked: the defaults.
        "variants-0-asks-1-currency": "eur",
        "variants-0-asks-1-monthly": "5, 10*, 20",
        "variants-0-asks-1-minimum": "1.00",
    }
    data.update({f"variants-0-asks-0-{k}": v for k, v in asks.items()})
    return data


def test_the_editor_shows_each_currencys_default_asks(
    client: FlaskClient, admin: StaffUser
) -> None:
    page = client.get("/staff/campaigns/new").get_data(as_text=True)
    for currency in ("eur", "gbp", "usd"):
        assert f'data-asks-currency="{currency}"' in page
    assert 'value="5.00, 10.00*, 20.00"' in page


def test_staff_save_a_variants_asks_in_pounds(
    app: Flask, client: FlaskClient, admin: StaffUser
) -> None:
    response = client.post(
        "/staff/campaigns/new", data=_form(token_from(client, "/staff/campaigns/new"))
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with arranged(app) as session:
        campaign = session.scalar(select(Campaign).where(Campaign.slug == "asks-test"))
        assert campaign is not None
        (ask,) = campaign.variants[0].asks
        assert ask.currency == "gbp" and ask.frequencies == ["monthly", "one_off"]
        assert ask.amounts == {"monthly": [300, 600, 900], "one_off": [1500, 3000, 6000]}
        assert ask.default_amounts == {"monthly": 600, "one_off": 3000}
        assert ask.default_frequency == "one_off" and ask.minimum_minor == 300
    edit = client.get(f"/staff/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert 'value="3.00, 6.00*, 9.00"' in edit


@pytest.mark.parametrize(
    ("asks", "message"),
    [
        ({"monthly": "0.20, 6"}, "below the minimum"),
        ({"monthly": "3, 20000"}, "above the largest gift"),
        ({"monthly": "3.555"}, "is not an amount in GBP"),
        ({"minimum": "0.10"}, "the minimum cannot be below £1.00"),
        ({"default_frequency": "annual"}, "default frequency must be one of those offered"),
        ({"frequencies": []}, "offer at least one frequency"),
    ],
)
def test_asks_outside_the_currencys_limits_are_refused(
    app: Flask, client: FlaskClient, admin: StaffUser, asks: dict[str, Any], message: str
) -> None:
    data = _form(token_from(client, "/staff/campaigns/new"), **asks)
    response = client.post("/staff/campaigns/new", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with arranged(app) as session:
        assert session.scalar(select(CampaignAsk.id)) is None
        assert session.scalar(select(Campaign.id)) is None
