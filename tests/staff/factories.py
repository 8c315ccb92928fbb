"""Small factories for staff-report tests: plain rows with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from service.appeals.models import AppealCopy, AppealCounter, Campaign, CampaignVariant, Placement
from service.core.models import utcnow
from service.ledger.models import (
    CheckoutAttempt,
    Donation,
    DonationStatus,
    EventOutcome,
    Frequency,
    MonthlyDonation,
    MonthlyStatus,
    StripeEvent,
    Supporter,
)
from service.staff.accounts import create_staff_user
from service.staff.models import StaffRole, StaffUser

PASSWORD = "correct horse battery staple"
_ids = itertools.count(1)


def staff_user(
    session: Session, role: StaffRole = StaffRole.ADMIN, email: str | None = None
) -> StaffUser:
    return create_staff_user(session, email or f"staff{next(_ids)}@paper.example", PASSWORD, role)


def supporter(session: Session, **fields: Any) -> Supporter:
    n = next(_ids)
    row = Supporter(email=fields.pop("email", f"reader{n}@mail.example"), **fields)
    session.add(row)
    session.flush()
    return row


def donation(session: Session, **fields: Any) -> Donation:
    n = next(_ids)
    values: dict[str, Any] = {
        "frequency": Frequency.ONE_OFF,
        "status": DonationStatus.SUCCEEDED,
        "amount_minor": 1000,
        "amount_refunded_minor": 0,
        "currency": "eur",
        "paid_at": utcnow(),
        "stripe_payment_intent_id": f"pi_test_{n}",
    }
    values.update(fields)
    row = Donation(**values)
    session.add(row)
    session.flush()
    return row


def monthly(session: Session, **fields: Any) -> MonthlyDonation:
    n = next(_ids)
    values: dict[str, Any] = {
        "stripe_subscription_id": f"sub_test_{n}",
        "status": MonthlyStatus.ACTIVE,
        "amount_minor": 500,
        "currency": "eur",
        "started_at": utcnow(),
    }
    values.update(fields)
    row = MonthlyDonation(**values)
    session.add(row)
    session.flush()
    return row


def attempt(session: Session, **fields: Any) -> CheckoutAttempt:
    values: dict[str, Any] = {
        "frequency": Frequency.ONE_OFF,
        "amount_minor": 1000,
        "currency": "eur",
    }
    values.update(fields)
    row = CheckoutAttempt(**values)
    session.add(row)
    session.flush()
    return row


def counter(session: Session, **fields: Any) -> AppealCounter:
    values: dict[str, Any] = {
        "day": date.today(),
        "campaign": "spring",
        "variant": "a",
        "placement": "top",
        "impressions": 0,
        "clicks": 0,
        "dismissals": 0,
    }
    values.update(fields)
    row = AppealCounter(**values)
    session.add(row)
    session.flush()
    return row


def campaign(
    session: Session, slug: str = "spring", variants: tuple[str, ...] = ("a",)
) -> Campaign:
    row = Campaign(
        slug=slug,
        name=f"Campaign {slug}",
        goal_supporters=1000,
        thank_you_heading="We made it to {goal}",
        thank_you_body="Thank you, all {supporters} of you.",
    )
    for key in variants:
        variant = CampaignVariant(key=key, weight=1)
        for placement in Placement:
            variant.copies.append(
                AppealCopy(
                    placement=placement,
                    heading=f"{key} {placement.value} heading",
                    body="Join {supporters} readers.",
                    cta="Support us",
                )
            )
        row.variants.append(variant)
    session.add(row)
    session.flush()
    return row


def stripe_event(session: Session, **fields: Any) -> StripeEvent:
    n = next(_ids)
    values: dict[str, Any] = {
        "stripe_event_id": f"evt_test_{n}",
        "type": "invoice.paid",
        "stripe_created_at": utcnow(),
        "outcome": EventOutcome.FAILED,
        "error": "boom",
        "attempts": 1,
        "payload": {"id": f"evt_test_{n}", "type": "invoice.paid"},
    }
    values.update(fields)
    row = StripeEvent(**values)
    session.add(row)
    session.flush()
    return row


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    from datetime import UTC

    return datetime(year, month, day, hour, tzinfo=UTC)
