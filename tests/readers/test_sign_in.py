"""Sign-in links: the same answer for anyone, single use for an hour, limited, and then
the reader's own page with gifts, receipts and statements."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.core.dev_mailbox import CapturedMail, MailCapture
from service.ledger import Donation, DonationStatus, Frequency, Supporter
from service.readers import SignInLink
from service.readers.api import ACCEPTED_MESSAGE, RATE_LIMITED_MESSAGE
from service.readers.sign_in import hash_token
from tests.conftest import drain_jobs

KNOWN = "known.reader@example.com"


@pytest.fixture
def app_overrides(mailbox: MailCapture) -> dict[str, Any]:
    return {"smtp_url": mailbox.smtp_url}


@pytest.fixture
def reader(session: Session) -> Supporter:
    """A supporter with two one-off gifts in 2025 (one partly refunded) and one in 2026."""
    supporter = Supporter(email=KNOWN)
    session.add(supporter)
    session.flush()
    for paid_at, amount, refunded in (
        (datetime(2025, 3, 4, 10, tzinfo=UTC), 1500, 0),
        (datetime(2025, 11, 20, 10, tzinfo=UTC), 2000, 500),
        (datetime(2026, 1, 2, 10, tzinfo=UTC), 700, 0),
    ):
        session.add(
            Donation(
                frequency=Frequency.ONE_OFF,
                status=DonationStatus.PARTIALLY_REFUNDED if refunded else DonationStatus.SUCCEEDED,
                amount_minor=amount,
                amount_refunded_minor=refunded,
                currency="eur",
                paid_at=paid_at,
                supporter_id=supporter.id,
                email=KNOWN,
            )
        )
    # Commit (to the test's savepoint): requests share this session, and a refused
    # request rolls back what it has not committed.
    session.commit()
    return supporter


def _ask(client: FlaskClient, email: str, ip: str = "203.0.113.5", **body: Any) -> Any:
    return client.post(
        "/api/v1/readers/sign-in-link",
        json={"email": email, **body},
        environ_base={"REMOTE_ADDR": ip},
    )


def _link(mail: CapturedMail) -> str:
    (link,) = [link for link in mail.links if "/support/sign-in/" in link]
    return link


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def _sign_in(app: Flask, client: FlaskClient, mailbox: MailCapture, email: str = KNOWN) -> None:
    assert _ask(client, email).status_code == 202
    drain_jobs(app)
    path = _path(_link(mailbox.messages()[-1]))
    assert client.post(path).status_code == 303


def test_known_and_unknown_emails_get_the_same_answer_and_only_the_known_one_mail(
    app: Flask, client: FlaskClient, mailbox: MailCapture, reader: Supporter
) -> None:
    known = _ask(client, " Known.Reader@Example.com ")
    unknown = _ask(client, "nobody@example.com")

    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.get_json() == unknown.get_json() == {"message": ACCEPTED_MESSAGE}
    drain_jobs(app)
    (mail,) = mailbox.messages()
    assert mail.to == [KNOWN]
    assert mail.subject == "Your sign-in link for The Harbour Courier"
    assert "works once, for one hour" in mail.text
    link = _link(mail)
    assert link.startswith("http://127.0.0.1:5000/support/sign-in/")


def test_a_link_signs_in_once_and_opens_the_readers_gifts(
    app: Flask, client: FlaskClient, mailbox: MailCapture, reader: Supporter, session: Session
) -> None:
    assert client.get("/support/manage").status_code == 200  # the sign-in form
    assert _ask(client, KNOWN).status_code == 202
    drain_jobs(app)
    path = _path(_link(mailbox.messages()[-1]))
    token = path.rsplit("/", 1)[1]
    # Only a hash of the token is stored.
    stored = session.scalars(select(SignInLink)).one()
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash

    # Opening it (as a mail scanner would) spends nothing: a button does.
    confirm = client.get(path)
    assert confirm.status_code == 200 and b"Continue" in confirm.data
    assert confirm.headers["Cache-Control"] == "no-store"
    signed_in = client.post(path)
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"].endswith("/support/manage")

    page = client.get("/support/manage")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert KNOWN in text
    for shown in ("€15.00", "4 March 2025", "€20.00", "€5.00 refunded", "€7.00", "2 January 2026"):
        assert shown in text

    # Used once: a second click (or anyone else holding the link) gets a fresh-link page.
    again = client.post(path)
    assert again.status_code == 410
    assert b"Email me a sign-in link" in again.data
    assert client.get(path).status_code == 410


def test_an_expired_or_made_up_link_offers_a_new_one(
    app: Flask, client: FlaskClient, mailbox: MailCapture, reader: Supporter, session: Session
) -> None:
    _ask(client, KNOWN)
    drain_jobs(app)
    path = _path(_link(mailbox.messages()[-1]))
    session.execute(update(SignInLink).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = client.post(path)
    assert expired.status_code == 410
    assert b"This link has expired" in expired.data
    assert b"Email me a sign-in link" in expired.data
    assert client.get("/support/manage").get_data(as_text=True).count(KNOWN) == 0

    made_up = client.get("/support/sign-in/not-a-real-token")
    assert made_up.status_code == 404
    assert b"Email me a sign-in link" in made_up.data


def test_the_page_form_asks_for_a_link_without_javascript(
    app: Flask, client: FlaskClient, mailbox: MailCapture, reader: Supporter
) -> None:
    sent = client.post("/support/sign-in", data={"email": KNOWN})
    assert sent.status_code == 202
    assert b"Check your inbox" in sent.data
    bad = client.post("/support/sign-in", data={"email": "not an email"})
    assert bad.status_code == 422
    assert b"Not a valid email address." in bad.data
    drain_jobs(app)
    assert [mail.to for mail in mailbox.messages()] == [[KNOWN]]


def test_malformed_email_and_foreign_return_url_are_422(client: FlaskClient) -> None:
    bad = _ask(client, "not-an-email")
    assert bad.status_code == 422
    assert bad.get_json()["errors"]["json"]["email"] == ["Not a valid email address."]
    foreign = _ask(client, KNOWN, return_url="https://evil.example/page")
    assert foreign.status_code == 422
    assert "return_url" in foreign.get_json()["errors"]["json"]
    allowed = _ask(client, KNOWN, return_url="https://news.example/story")
    assert allowed.status_code == 202


def test_five_an_hour_per_email_known_or_not(client: FlaskClient, reader: Supporter) -> None:
    for email in (KNOWN, "stranger@example.com"):
        answers = [_ask(client, email, ip=f"198.51.100.{n}").status_code for n in range(6)]
        assert answers == [202] * 5 + [429]
        limited = _ask(client, email.upper(), ip="198.51.100.99")
        assert limited.status_code == 429
        assert limited.get_json()["message"] == RATE_LIMITED_MESSAGE
        assert int(limited.headers["Retry-After"]) > 0


def test_twenty_an_hour_per_ip(client: FlaskClient) -> None:
    answers = [_ask(client, f"r{n}@example.com", ip="192.0.2.44").status_code for n in range(21)]
    assert answers == [202] * 20 + [429]
    assert _ask(client, "r0@example.com", ip="192.0.2.45").status_code == 202


def test_receipts_and_statements_are_the_readers_own(
    app: Flask, client: FlaskClient, mailbox: MailCapture, reader: Supporter, session: Session
) -> None:
    other = Supporter(email="other@example.com")
    session.add(other)
    session.flush()
    theirs = Donation(
        frequency=Frequency.ONE_OFF,
        status=DonationStatus.SUCCEEDED,
        amount_minor=999,
        currency="eur",
        paid_at=datetime(2025, 5, 5, tzinfo=UTC),
        supporter_id=other.id,
    )
    session.add(theirs)
    session.commit()
    mine = session.scalars(
        select(Donation).where(Donation.supporter_id == reader.id).order_by(Donation.paid_at)
    ).first()
    assert mine is not None
    # Requests share (and close) this session: keep plain ids.
    mine_id, theirs_id = mine.id, theirs.id

    assert client.get(f"/support/manage/receipts/{mine_id}").status_code == 401
    assert client.get("/support/manage/statement/2025").status_code == 401
    _sign_in(app, client, mailbox)

    receipt = client.get(f"/support/manage/receipts/{mine_id}")
    assert receipt.status_code == 200
    assert "€15.00" in receipt.get_data(as_text=True)
    assert client.get(f"/support/manage/receipts/{theirs_id}").status_code == 404

    statement = client.get("/support/manage/statement/2025").get_data(as_text=True)
    assert "Total: €30.00" in statement  # 15.00 + (20.00 - 5.00 refunded)
    assert "€9.99" not in statement and "€7.00" not in statement

    emailed = client.post("/support/manage/statement/2025")
    assert emailed.status_code == 200
    drain_jobs(app)
    mail = mailbox.messages()[-1]
    assert mail.subject == "Your 2025 statement of gifts to The Harbour Courier"
    assert "Total: €30.00" in mail.text
    assert "http://127.0.0.1:5000/support/manage/statement/2025" in mail.links


def test_the_openapi_document_describes_the_sign_in_link(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/readers/sign-in-link"]["post"]
    assert {"202", "422", "429"} <= set(operation["responses"])
    assert "same whether or not the email is known" in operation["description"]


def test_a_supporter_merged_away_by_the_ledger_keeps_messages_and_drops_links(
    app: Flask, client: FlaskClient, mailbox: MailCapture, reader: Supporter, session: Session
) -> None:
    from service.readers import ReaderMessage

    _ask(client, KNOWN)
    drain_jobs(app)
    reader_id = reader.id
    assert session.scalars(select(SignInLink)).all()
    # What the ledger does when one person's two supporter rows become one.
    session.execute(update(Donation).values(supporter_id=None))
    session.execute(Supporter.__table__.delete().where(Supporter.id == reader_id))
    session.commit()
    assert session.scalars(select(SignInLink)).all() == []
    (message,) = session.scalars(select(ReaderMessage)).all()
    assert message.supporter_id is None
