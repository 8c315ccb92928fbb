"""Small helpers shared by the donation tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from service.ledger.models import CheckoutAttempt


def count_attempts(session_or_engine: Session | Engine) -> int:
    """How many checkout attempts are on record."""
    query = select(func.count()).select_from(CheckoutAttempt)
    if isinstance(session_or_engine, Session):
        return int(session_or_engine.scalar(query) or 0)
    with session_or_engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def only_attempt(engine: Engine) -> dict[str, Any]:
    """The one checkout attempt on record, read through a fresh connection."""
    with engine.connect() as connection:
        rows = connection.execute(select(CheckoutAttempt.__table__)).mappings().all()
    assert len(rows) == 1, rows
    return dict(rows[0])


def sandbox_sessions(sandbox: Any) -> list[dict[str, Any]]:
    """Every Checkout Session the sandbox was asked to create."""
    sessions: list[dict[str, Any]] = sandbox.state.objects("checkout.session")
    return sessions
