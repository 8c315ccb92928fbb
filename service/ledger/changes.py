"""Ledger changes other features follow: a small registry of listeners, called in the
transaction that makes the change.

The ledger announces each change once, at the one place it happens (a payment recorded,
a refund growing, a recurring gift starting, changing, failing or ending, a supporter
starting or lapsing), with a key naming that change so a redelivered Stripe event adds
nothing. Listeners (outbound events) write their own rows or jobs in the same session;
the ledger imports none of them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.ledger.models import Donation, MonthlyDonation, Supporter


class Change(enum.StrEnum):
    """What changed, named as the outbound event that tells of it."""

    SUPPORTER_STARTED = "supporter.started"
    SUPPORTER_LAPSED = "supporter.lapsed"
    GIFT_SUCCEEDED = "gift.succeeded"
    GIFT_REFUNDED = "gift.refunded"
    RECURRING_STARTED = "recurring_gift.started"
    RECURRING_CHANGED = "recurring_gift.changed"
    RECURRING_FAILED = "recurring_gift.failed"
    RECURRING_CANCELED = "recurring_gift.canceled"


@dataclass(frozen=True)
class LedgerChange:
    """One change: its kind, a key unique to it, when it happened and its JSON-ready data."""

    change: Change
    key: str
    at: datetime
    data: dict[str, Any]


Listener = Callable[[Session, LedgerChange], None]
_listeners: list[Listener] = []


def on_change(listener: Listener) -> None:
    """Call `listener` with every ledger change, in the change's transaction (once)."""
    if listener not in _listeners:
        _listeners.append(listener)


def announce(session: Session, change: LedgerChange) -> None:
    """Tell every listener of a change; they write in the caller's transaction."""
    for listener in _listeners:
        listener(session, change)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def supporter_data(supporter: Supporter | None) -> dict[str, Any] | None:
    """The supporter as events show them: id and email (CRMs key on it)."""
    if supporter is None:
        return None
    return {
        "id": supporter.id,
        "email": supporter.email,
        "first_supported_at": _iso(supporter.first_supported_at),
        "supported_until": _iso(supporter.supported_until),
    }


def _supporter(session: Session, supporter_id: int | None) -> dict[str, Any] | None:
    # By id, not the relationship: the id may have been set in this very transaction.
    return supporter_data(session.get(Supporter, supporter_id)) if supporter_id else None


def gift_data(donation: Donation) -> dict[str, Any]:
    """One payment as events show it (amounts in minor units of its currency)."""
    return {
        "id": donation.id,
        "frequency": donation.frequency.value,
        "status": donation.status.value,
        "amount_minor": donation.amount_minor,
        "amount_refunded_minor": donation.amount_refunded_minor,
        "currency": donation.currency,
        "paid_at": _iso(donation.paid_at),
        "refunded_at": _iso(donation.refunded_at),
        "recurring_gift_id": donation.monthly_donation_id,
        "campaign": donation.campaign,
        "variant": donation.variant,
        "stripe_payment_intent_id": donation.stripe_payment_intent_id,
    }


def recurring_data(monthly: MonthlyDonation) -> dict[str, Any]:
    """One recurring gift as events show it (amount per interval, minor units)."""
    return {
        "id": monthly.id,
        "status": monthly.status.value,
        "interval": monthly.interval.value,
        "amount_minor": monthly.amount_minor,
        "currency": monthly.currency,
        "cancel_at_period_end": monthly.cancel_at_period_end,
        "current_period_end": _iso(monthly.current_period_end),
        "started_at": _iso(monthly.started_at),
        "canceled_at": _iso(monthly.canceled_at),
        "campaign": monthly.campaign,
        "stripe_subscription_id": monthly.stripe_subscription_id,
    }


def announce_gift(session: Session, change: Change, donation: Donation, key: str) -> None:
    """A payment's change: the gift and its supporter."""
    announce(
        session,
        LedgerChange(
            change,
            key,
            donation.refunded_at
            if change is Change.GIFT_REFUNDED and donation.refunded_at
            else donation.paid_at,
            {"gift": gift_data(donation), "supporter": _supporter(session, donation.supporter_id)},
        ),
    )


def announce_recurring(
    session: Session, change: Change, monthly: MonthlyDonation, key: str, at: datetime
) -> None:
    """A recurring gift's change: the gift and its supporter."""
    announce(
        session,
        LedgerChange(
            change,
            key,
            at,
            {
                "recurring_gift": recurring_data(monthly),
                "supporter": _supporter(session, monthly.supporter_id),
            },
        ),
    )


def announce_supporter(
    session: Session, change: Change, supporter: Supporter, key: str, at: datetime
) -> None:
    """A supporter started counting, or stopped."""
    announce(session, LedgerChange(change, key, at, {"supporter": supporter_data(supporter)}))
