"""Email carries the newsroom's brand from settings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import drain_jobs
from tests.ledger.conftest import pay
from tests.readers.conftest import MailStack


@pytest.fixture
def mail_stack_overrides() -> dict[str, Any]:
    return {
        "publication_name": "The Valley Ledger",
        "brand_color": "#aa3300",
        "contact_email": "help@valley.example",
    }


def test_messages_carry_the_newsrooms_brand(mail_stack: MailStack) -> None:
    donor = pay(mail_stack.sandbox, mail_stack.settings, amount=1000)
    mail_stack.settle()
    drain_jobs(mail_stack.app)
    (receipt,) = mail_stack.mail_to(donor.email)
    assert receipt.subject == "Thank you for supporting The Valley Ledger: your receipt"
    assert "The Valley Ledger" in receipt.text
    assert "background:#aa3300" in receipt.html
    assert "help@valley.example" in receipt.html
