"""What the ledger tells readers about: notices written to the job outbox with their cause.

The ledger knows nothing of email. Each notice is a job of kind `NOTICE_KIND`, enqueued
in the transaction that changes the ledger, keyed by what caused it (a donation, a
Stripe event, a cancelled gift), so a redelivered webhook adds none. The readers
feature registers the handler that turns notices into messages.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy.orm import Session

from service.core.jobs import enqueue

NOTICE_KIND = "ledger.notice"


class Notice(enum.StrEnum):
    # A payment succeeded: thank the reader and send the receipt.
    GIFT_SUCCEEDED = "gift_succeeded"
    # A monthly renewal failed; Stripe retries the card.
    RENEWAL_FAILED = "renewal_failed"
    # A renewal needs the reader to authenticate the payment (3-D Secure).
    ACTION_REQUIRED = "action_required"
    # A monthly gift ended.
    MONTHLY_CANCELED = "monthly_canceled"


def notify(session: Session, notice: Notice, cause: str, **facts: Any) -> bool:
    """Enqueue one notice in the caller's transaction; False when its cause already did."""
    return enqueue(
        session,
        NOTICE_KIND,
        {"notice": notice.value, **facts},
        key=f"notice:{notice.value}:{cause}",
    )
