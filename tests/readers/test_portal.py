"""The Customer Portal opens only for a signed-in reader's own live monthly gift."""

from __future__ import annotations

import re

from sqlalchemy import select

from service.ledger import MonthlyDonation
from tests.conftest import drain_jobs
from tests.ledger.conftest import pay
from tests.readers.conftest import MailStack


def test_portal_links_are_minted_per_click_for_the_signed_in_reader_only(
    mail_stack: MailStack,
) -> None:
    donor = pay(mail_stack.sandbox, mail_stack.settings, frequency="monthly", amount=500)
    mail_stack.settle()
    assert donor.subscription_id
    with mail_stack.session() as session:
        monthly_id = session.scalars(select(MonthlyDonation.id)).one()
    client = mail_stack.app.test_client()
    portal = f"/support/manage/monthly/{monthly_id}/portal"

    # Signed out: nothing is minted.
    assert client.post(portal).status_code == 401

    asked = client.post("/api/v1/readers/sign-in-link", json={"email": donor.email})
    assert asked.status_code == 202
    drain_jobs(mail_stack.app)
    (link,) = [
        link for m in mail_stack.mail_to(donor.email) for link in m.links if "/sign-in/" in link
    ]
    assert client.post(re.sub(r"^http://[^/]+", "", link)).status_code == 303
    page = client.get("/support/manage").get_data(as_text=True)
    assert "Monthly gift of €5.00" in page
    assert "Change amount or card, or cancel" in page

    first, second = client.post(portal), client.post(portal)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"].startswith(mail_stack.sandbox.url)
    assert first.headers["Location"] != second.headers["Location"]

    # Another browser, not signed in, holding the gift's id: nothing.
    assert mail_stack.app.test_client().post(portal).status_code == 401

    mail_stack.sandbox.sim.cancel_subscription(donor.subscription_id)
    mail_stack.settle()
    ended = client.post(portal)
    assert ended.status_code == 409
    assert "has ended" in client.get("/support/manage").get_data(as_text=True)
