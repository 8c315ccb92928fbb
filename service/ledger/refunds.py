"""Refunds and disputes on a recorded payment: its refunded total and status.

A refunded total that grows is announced to the ledger's listeners (gift.refunded).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service.ledger.changes import Change, announce_gift
from service.ledger.models import Donation, DonationStatus

# Dispute statuses after which the money's fate is settled.
DISPUTE_WON = frozenset({"won", "warning_closed"})
DISPUTE_LOST = "lost"


def _refund_status(donation: Donation) -> DonationStatus:
    if donation.amount_refunded_minor >= donation.amount_minor:
        return DonationStatus.REFUNDED
    if donation.amount_refunded_minor > 0:
        return DonationStatus.PARTIALLY_REFUNDED
    return DonationStatus.SUCCEEDED


def apply_refund(session: Session, donation: Donation, amount_refunded: int, at: datetime) -> None:
    """Set the refunded total (refunds only grow, so the largest total seen wins)."""
    before = donation.amount_refunded_minor
    # The CHECK constraint keeps the total within the amount; Stripe's total may not be.
    refunded = min(max(int(amount_refunded), donation.amount_refunded_minor), donation.amount_minor)
    donation.amount_refunded_minor = refunded
    if refunded and donation.refunded_at is None:
        donation.refunded_at = at
    if donation.status not in (DonationStatus.DISPUTED, DonationStatus.DISPUTE_LOST):
        donation.status = _refund_status(donation)
    _announce_refund(session, donation, before)


def restate_refund(
    session: Session, donation: Donation, amount_refunded: int, at: datetime | None
) -> None:
    """Set the refunded total to Stripe's current one, which a failed refund lowers again."""
    before = donation.amount_refunded_minor
    donation.amount_refunded_minor = min(max(int(amount_refunded), 0), donation.amount_minor)
    donation.refunded_at = at if donation.amount_refunded_minor else None
    if donation.status not in (DonationStatus.DISPUTED, DonationStatus.DISPUTE_LOST):
        donation.status = _refund_status(donation)
    _announce_refund(session, donation, before)


def _announce_refund(session: Session, donation: Donation, before: int) -> None:
    """The refunded total grew: one event per total reached."""
    if donation.amount_refunded_minor > before:
        session.flush()
        key = f"gift.refunded:{donation.id}:{donation.amount_refunded_minor}"
        announce_gift(session, Change.GIFT_REFUNDED, donation, key)


def apply_dispute(donation: Donation, dispute_status: str, at: datetime) -> None:
    """Mark a dispute; a closed dispute's outcome is final whatever arrives after it."""
    if dispute_status == DISPUTE_LOST:
        donation.status = DonationStatus.DISPUTE_LOST
    elif dispute_status in DISPUTE_WON:
        if donation.status is not DonationStatus.DISPUTE_LOST:
            donation.status = _refund_status(donation)
    elif donation.disputed_at is None or donation.status is DonationStatus.DISPUTED:
        donation.status = DonationStatus.DISPUTED
    # An open dispute after a closed one (events out of order) changes nothing above.
    if donation.disputed_at is None:
        donation.disputed_at = at
