"""What Stripe tells us about a customer of ours: a changed email, a deletion (erasure)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.settings import Settings
from service.ledger import stripe_reads
from service.ledger.models import StripeCustomer
from service.ledger.recording import erase_customer, follow_email, refresh
from service.ledger.stripe_json import Obj, email, object_id


def _our_customer(session: Session, event: Obj) -> StripeCustomer | None:
    customer_id = object_id(event["data"]["object"].get("id"))
    if not customer_id:
        return None
    return session.scalar(
        select(StripeCustomer).where(StripeCustomer.stripe_customer_id == customer_id)
    )


def handle_customer_updated(session: Session, settings: Settings, event: Obj) -> bool:
    """A supporter's Stripe customer changed: follow a new email, so one person stays one
    supporter (read from Stripe, so an older snapshot heard late cannot undo it)."""
    customer = _our_customer(session, event)
    if customer is None:
        return False
    current = stripe_reads.fetch_customer(settings, customer.stripe_customer_id)
    if current.get("deleted"):
        return True  # its customer.deleted erases it
    follow_email(session, customer, email(current.get("email")))
    refresh(session, settings, customer.supporter_id)
    return True


def handle_customer_deleted(session: Session, settings: Settings, event: Obj) -> bool:
    """A customer was deleted at Stripe (often an erasure request): erase them here too."""
    customer = _our_customer(session, event)
    if customer is None:
        return False
    erase_customer(session, customer)
    return True
