"""A customer deleted at Stripe loses their address in our messages and job payloads too
(their gifts stay, anonymised, as the ledger keeps them)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from service.core.dev_mailbox import MailCapture
from service.core.jobs import Job, JobStatus
from service.ledger import Donation
from service.readers import ReaderMessage
from service.readers.sign_in import REQUEST_KIND
from stripe_sandbox import SandboxServer
from tests.conftest import drain_jobs
from tests.ledger.conftest import deliver_sandbox_event, pay
from tests.stripe_fixtures import sandbox_overrides

GONE = "gone.reader@example.com"


@pytest.fixture
def app_overrides(sandbox: SandboxServer, mailbox: MailCapture) -> dict[str, Any]:
    return sandbox_overrides(sandbox, smtp_url=mailbox.smtp_url)


def _deliver_new(client: FlaskClient, sandbox: SandboxServer, seen: set[str]) -> None:
    for event in sandbox.events:
        if event["id"] not in seen:
            seen.add(event["id"])
            assert deliver_sandbox_event(client, sandbox, event["id"]) == 200


def test_a_deleted_customer_leaves_no_address_in_messages_or_jobs(
    app: Flask, client: FlaskClient, session: Session, sandbox: SandboxServer
) -> None:
    donor = pay(sandbox, app.extensions["settings"], frequency="monthly", amount=500, email=GONE)
    seen: set[str] = set()
    _deliver_new(client, sandbox, seen)
    drain_jobs(app)  # the receipt is written and sent
    assert session.scalar(select(func.count()).where(ReaderMessage.to_email == GONE)) >= 1
    # A sign-in request still waiting in the outbox names the address.
    assert client.post("/api/v1/readers/sign-in-link", json={"email": GONE}).status_code == 202
    waiting = session.scalars(select(Job).where(Job.kind == REQUEST_KIND)).one()
    assert waiting.status is JobStatus.QUEUED and waiting.payload["email"] == GONE

    sandbox.sim.delete_customer(donor.customer_id)
    _deliver_new(client, sandbox, seen)

    session.expire_all()
    messages = session.scalars(select(ReaderMessage)).all()
    assert messages
    for message in messages:
        assert message.to_email == ""
        assert GONE not in message.subject + message.text + message.html
    payloads = session.scalars(select(cast(Job.payload, Text))).all()
    assert not [payload for payload in payloads if GONE in payload]
    assert session.scalars(select(Job).where(Job.kind == REQUEST_KIND)).one().payload == {
        "email": None,
        "return_url": None,
        "language": "en",  # the language the link is written in: nothing personal
    }
    # Gifts stay, anonymised; the waiting request and anything unsent go nowhere.
    assert session.scalar(select(func.count()).select_from(Donation)) == 1
    drain_jobs(app)
    assert session.scalar(select(func.count()).where(ReaderMessage.to_email != "")) == 0
