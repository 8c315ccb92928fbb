"""Staff form validators reuse the domain's patterns and say what the domain says."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.appeals.editing import SLUG_HINT, VARIANT_KEY_HINT
from service.appeals.models import Campaign
from service.staff.forms import CampaignForm
from service.staff.models import StaffRole
from tests.staff import factories
from tests.staff.helpers import arranged, sign_in, token_from


def _campaign_form(token: str, slug: str, variant: str = "a") -> dict[str, str]:
    return {
        "csrf_token": token,
        "name": "Spring drive",
        "slug": slug,
        "goal_behaviour": "thank_you",
        "min_articles_read": "0",
        "variants-0-key": variant,
        "variants-0-weight": "1",
        "variants-0-top_heading": "We need your help",
        "variants-0-top_body": "{supporters} readers already give.",
        "variants-0-top_cta": "Contribute",
    }


def _slugs(app: Flask) -> list[str]:
    with arranged(app) as session:
        return list(session.scalars(select(Campaign.slug)))


def test_a_slug_with_an_underscore_is_refused_with_the_domains_hint(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        admin = factories.staff_user(session, StaffRole.ADMIN)
    sign_in(client, admin.email)
    token = token_from(client, "/staff/campaigns/new")

    refused = client.post("/staff/campaigns/new", data=_campaign_form(token, "spring_drive"))
    assert refused.status_code == 422
    assert SLUG_HINT in refused.get_data(as_text=True)
    assert _slugs(app) == []

    saved = client.post("/staff/campaigns/new", data=_campaign_form(token, "spring-drive"))
    assert saved.status_code == 302
    assert _slugs(app) == ["spring-drive"]


def test_variant_keys_follow_the_domains_pattern(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        admin = factories.staff_user(session, StaffRole.ADMIN)
    sign_in(client, admin.email)
    token = token_from(client, "/staff/campaigns/new")

    refused = client.post("/staff/campaigns/new", data=_campaign_form(token, "spring", "-b"))
    assert refused.status_code == 422
    assert VARIANT_KEY_HINT in refused.get_data(as_text=True)

    # Underscores are fine in variant keys: the domain allows them there.
    saved = client.post("/staff/campaigns/new", data=_campaign_form(token, "spring", "b_1"))
    assert saved.status_code == 302
    assert _slugs(app) == ["spring"]


def test_the_form_itself_refuses_what_the_domain_would(app: Flask) -> None:
    data = {k: v for k, v in _campaign_form("", "spring_drive").items() if k != "csrf_token"}
    with app.test_request_context("/staff/campaigns/new", method="POST", data=data):
        form = CampaignForm(meta={"csrf": False})
        assert not form.validate()
        assert form.slug.errors == [SLUG_HINT]
    data["slug"] = "spring-drive"
    with app.test_request_context("/staff/campaigns/new", method="POST", data=data):
        form = CampaignForm(meta={"csrf": False})
        assert form.validate(), form.errors
