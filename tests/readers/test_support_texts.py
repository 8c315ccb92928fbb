"""Staff edit the /support heading and text; readers see it, sanitised, at once."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from service.staff.models import StaffRole
from tests.staff import factories
from tests.staff.helpers import arranged, sign_in, token_from

PAGE = "/staff/site/support-page"


def _admin(app: Flask, client: FlaskClient, role: StaffRole = StaffRole.ADMIN) -> None:
    with arranged(app) as session:
        user = factories.staff_user(session, role)
    assert sign_in(client, user.email).status_code == 302


def test_support_page_shows_the_default_text_until_staff_change_it(client: FlaskClient) -> None:
    html = client.get("/support").get_data(as_text=True)
    assert "We can&#39;t do this without you</h1>" in html
    assert '<p class="lead">Good local reporting takes time' in html


def test_an_admin_changes_the_heading_and_text_and_readers_see_them(
    app: Flask, client: FlaskClient
) -> None:
    _admin(app, client)
    token = token_from(client, PAGE)

    response = client.post(
        PAGE,
        data={
            "csrf_token": token,
            "heading": "Keep the <b>Ledger</b> free",
            "intro": "First paragraph.<script>alert(1)</script>\n\nSecond one.",
        },
    )

    assert response.status_code == 302
    html = client.get("/support").get_data(as_text=True)
    assert "<h1 data-support-heading>Keep the Ledger free</h1>" in html
    assert '<p class="lead">First paragraph.</p>' in html
    assert "<p>Second one.</p>" in html
    assert "alert(1)" not in html
    assert "without you" not in html
    edit = client.get(PAGE).get_data(as_text=True)
    assert "Keep the Ledger free" in edit


def test_markup_only_text_is_refused_with_a_message(app: Flask, client: FlaskClient) -> None:
    _admin(app, client)
    token = token_from(client, PAGE)

    response = client.post(
        PAGE, data={"csrf_token": token, "heading": "<script>x</script>", "intro": "Fine."}
    )

    assert response.status_code == 422
    assert "Write a heading of 1 to 200 characters" in response.get_data(as_text=True)


def test_viewers_cannot_change_the_support_page(app: Flask, client: FlaskClient) -> None:
    _admin(app, client, StaffRole.VIEWER)

    assert client.get(PAGE).status_code == 403
