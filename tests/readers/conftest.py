"""Fixtures for readers: a local SMTP capture, and the service and sandbox wired to it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.core.dev_mailbox import CapturedMail, MailCapture
from stripe_sandbox import SandboxServer
from tests.conftest import TEST_STRIPE_KEY, TEST_WEBHOOK_SECRET, make_test_app, truncate_all
from tests.ledger.conftest import QuickLiveServer, Stack
from tests.live import reserve_port


@pytest.fixture
def mailbox() -> Iterator[MailCapture]:
    """An SMTP server on loopback that keeps what it receives."""
    with MailCapture(port=reserve_port()) as capture:
        yield capture


@dataclass
class MailStack(Stack):
    """The service, the sandbox delivering its webhooks, and the mailbox it writes to."""

    mailbox: MailCapture

    def mail_to(self, email: str) -> list[CapturedMail]:
        return [mail for mail in self.mailbox.messages() if email in mail.to]

    def session(self) -> Session:
        return Session(self.engine)


@pytest.fixture
def mail_stack_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def mail_stack(
    database_url: str,
    engine: Engine,
    mailbox: MailCapture,
    mail_stack_overrides: dict[str, Any],
) -> Iterator[MailStack]:
    """Service over HTTP (committing for real), sandbox and mailbox; tables emptied after."""
    port = reserve_port()
    service_url = f"http://127.0.0.1:{port}"
    with SandboxServer(
        webhook_url=f"{service_url}/webhooks/stripe",
        webhook_secret=TEST_WEBHOOK_SECRET,
        api_key=TEST_STRIPE_KEY,
    ) as sandbox:
        app: Flask = make_test_app(
            database_url,
            stripe_api_base=sandbox.url,
            public_base_url=service_url,
            smtp_url=mailbox.smtp_url,
            **mail_stack_overrides,
        )
        try:
            with QuickLiveServer(app, port=port):
                yield MailStack(
                    app=app, url=service_url, sandbox=sandbox, engine=engine, mailbox=mailbox
                )
        finally:
            sandbox.webhooks.stop()
            app.extensions["database"]["engine"].dispose()
            truncate_all(engine)


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    """Poll until `condition()` is true (SMTP hands over in another thread)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
