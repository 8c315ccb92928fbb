"""Fee cover: what readers added at checkout to cover the processing fees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.ledger import AttemptStatus, CheckoutAttempt

FEE_COVER_DEFINITION = (
    "Fee cover is what readers chose to add at checkout so that all of their gift arrives "
    "after the processing fee; it is part of the revenue above. Counted on completed "
    "checkouts started in the period (a recurring gift with fee cover adds it to every "
    "payment; this counts the first)."
)


@dataclass(frozen=True)
class FeeCoverRow:
    campaign: str | None
    currency: str
    gifts: int
    fee_cover_minor: int


def fee_cover_rows(session: Session, since: datetime) -> list[FeeCoverRow]:
    """Fee cover per campaign (None: not from an appeal) and currency since a time."""
    rows = session.execute(
        select(
            CheckoutAttempt.campaign,
            CheckoutAttempt.currency,
            func.count(),
            func.sum(CheckoutAttempt.fee_cover_minor),
        )
        .where(
            CheckoutAttempt.status == AttemptStatus.COMPLETED,
            CheckoutAttempt.fee_cover_minor > 0,
            CheckoutAttempt.created_at >= since,
        )
        .group_by(CheckoutAttempt.campaign, CheckoutAttempt.currency)
        .order_by(CheckoutAttempt.campaign, CheckoutAttempt.currency)
    ).all()
    return [FeeCoverRow(c, cur, int(n), int(total or 0)) for c, cur, n, total in rows]
