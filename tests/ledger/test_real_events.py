"""Real events other projects captured from Stripe (2016 to 2025 shapes), replayed signed.

None carries our metadata marker, so each must be acknowledged (2xx), change nothing in
the ledger and log no traceback. The corpus is read from ``../shared/stripe/real-events``
at test time (never copied here); the test skips only when that folder is absent.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.settings import PROJECT_ROOT
from service.ledger.models import (
    CheckoutAttempt,
    Donation,
    EventOutcome,
    MonthlyDonation,
    StripeCustomer,
    StripeEvent,
    Supporter,
)
from tests.conftest import drain_jobs
from tests.ledger.stripe_events import sign

CORPUS = PROJECT_ROOT.parent / "shared" / "stripe" / "real-events"
LEDGER = (CheckoutAttempt, Donation, MonthlyDonation, StripeCustomer, Supporter)


def _files() -> list[Path]:
    return sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []


def _ledger(session: Session) -> dict[str, int]:
    return {
        model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in LEDGER
    }


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no real-event corpus at {CORPUS}")
def test_every_real_event_is_acknowledged_and_changes_nothing(
    client: FlaskClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    files = _files()
    assert len(files) > 100, f"the corpus at {CORPUS} looks incomplete"
    before = _ledger(session)
    answers: dict[str, Any] = {}
    with caplog.at_level(logging.INFO):
        for path in files:
            payload = path.read_bytes()
            response = client.post(
                "/webhooks/stripe",
                data=payload,
                headers={"Stripe-Signature": sign(payload), "Content-Type": "application/json"},
            )
            answers[path.name] = response.status_code
        # Stored and acknowledged; the real worker applies them (or ignores them).
        drain_jobs(client.application)
    wrong = {name: status for name, status in answers.items() if not 200 <= status < 300}
    assert wrong == {}
    assert _ledger(session) == before
    outcomes = set(session.scalars(select(StripeEvent.outcome)))
    assert outcomes <= {EventOutcome.IGNORED, EventOutcome.APPLIED}, outcomes
    tracebacks = [record.getMessage() for record in caplog.records if record.exc_info]
    assert tracebacks == []
    assert "Traceback" not in caplog.text
    # Every file is an event (the corpus is what it says it is).
    assert all(json.loads(path.read_bytes()).get("object") == "event" for path in files)
