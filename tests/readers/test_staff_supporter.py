"""Staff see one supporter's gifts and the messages sent to them, and can send a link."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.core.dev_mailbox import MailCapture
from service.ledger import MonthlyStatus
from service.staff.models import StaffRole
from tests.conftest import drain_jobs
from tests.staff import factories
from tests.staff.helpers import arranged, csrf_token, sign_in


@pytest.fixture
def app_overrides(mailbox: MailCapture) -> dict[str, Any]:
    return {"smtp_url": mailbox.smtp_url}


def test_a_supporters_page_shows_gifts_messages_and_sends_a_sign_in_link(
    app: Flask, client: FlaskClient, mailbox: MailCapture
) -> None:
    with arranged(app) as session:
        staff = factories.staff_user(session, StaffRole.VIEWER)
        person = factories.supporter(session, email="helped@mail.example")
        factories.donation(session, supporter_id=person.id, amount_minor=2500)
        factories.monthly(
            session, supporter_id=person.id, status=MonthlyStatus.PAST_DUE, amount_minor=800
        )
        staff_email, person_id = staff.email, person.id
    sign_in(client, staff_email)

    page = client.get(f"/staff/supporters/{person_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for shown in ("helped@mail.example", "€25.00", "€8.00 / month", "past_due", "No messages yet."):
        assert shown in html
    assert client.get(f"/staff/supporters/{person_id + 999}").status_code == 404
    listed = client.get("/staff/supporters").get_data(as_text=True)
    assert f'href="/staff/supporters/{person_id}"' in listed

    # Without the form's CSRF token nothing is sent.
    refused = client.post(f"/staff/supporters/{person_id}/sign-in-link")
    assert refused.status_code == 400
    sent = client.post(
        f"/staff/supporters/{person_id}/sign-in-link", data={"csrf_token": csrf_token(html)}
    )
    assert sent.status_code == 303
    waiting = client.get(f"/staff/supporters/{person_id}").get_data(as_text=True)
    assert "Your sign-in link for The Harbour Courier" in waiting
    assert 'data-delivery="queued"' in waiting

    drain_jobs(app)
    (mail,) = mailbox.messages()
    assert mail.to == ["helped@mail.example"]
    assert any("/support/sign-in/" in link for link in mail.links)
    delivered = client.get(f"/staff/supporters/{person_id}").get_data(as_text=True)
    assert 'data-delivery="sent"' in delivered


def test_the_dashboard_does_not_say_yet_to_a_newsroom_that_had_monthly_gifts(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        staff = factories.staff_user(session, StaffRole.VIEWER)
        factories.monthly(session, status=MonthlyStatus.CANCELED)
        staff_email = staff.email
    sign_in(client, staff_email)
    html = client.get("/staff/").get_data(as_text=True)
    assert "No active monthly or annual gifts right now." in html
    assert "yet" not in html.split("Recurring gifts", 1)[1].split("</article>", 1)[0]
