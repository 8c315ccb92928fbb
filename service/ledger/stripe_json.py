"""Small readers of Stripe's JSON: ids, times, metadata, attribution, emails, charges."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from service.core.models import utcnow

Obj = dict[str, Any]


def object_id(value: Any) -> str | None:
    """The id of an expandable field, whether Stripe sent the id or the object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        found = value.get("id")
        return str(found) if found else None
    return None


def timestamp(value: Any) -> datetime | None:
    """A Stripe Unix time as an aware UTC datetime, or None when absent."""
    return datetime.fromtimestamp(int(value), UTC) if value else None


def metadata_of(obj: Mapping[str, Any] | None) -> dict[str, str]:
    """A Stripe object's metadata as plain strings."""
    raw = (obj or {}).get("metadata") or {}
    return {str(key): str(value) for key, value in raw.items()}


def attribution(metadata: Mapping[str, str]) -> dict[str, Any]:
    """The campaign, variant and placement our metadata names (keyword arguments for facts)."""
    return {
        "campaign": (metadata.get("campaign") or None),
        "variant": (metadata.get("variant") or None),
        "placement": (metadata.get("placement") or None),
    }


def email(value: Any) -> str | None:
    """An email address, trimmed and lower-cased, or None."""
    if not value or not isinstance(value, str):
        return None
    return value.strip().lower() or None


def event_time(event: Obj) -> datetime:
    """When Stripe created an event (now, if it does not say)."""
    return timestamp(event.get("created")) or utcnow()


#: Refunds that moved (or are moving) money back; failed and canceled ones did not.
REFUNDING = frozenset({"succeeded", "pending", "requires_action"})


def charge_facts(
    charge: Obj, refunds: list[Obj] | None = None
) -> tuple[int, datetime | None, bool]:
    """A charge's refunded total, its first refund's time, and whether it is disputed.

    Stripe lists a charge's ``refunds`` only when asked to expand them (API 2022-11-15 on),
    so callers pass the refunds they listed; an expanded list on the charge also serves.
    """
    if refunds is None:
        refunds = ((charge.get("refunds") or {}).get("data")) or []
    times = [
        timestamp(refund.get("created")) for refund in refunds if refund.get("status") in REFUNDING
    ]
    # `refunded_at` is when the money first went back, however many refunds followed.
    refunded_at = min((when for when in times if when is not None), default=None)
    return int(charge.get("amount_refunded") or 0), refunded_at, bool(charge.get("disputed"))


def refund_facts(refunds: list[Obj]) -> tuple[int, datetime | None]:
    """The total of the refunds still giving money back (not failed or canceled), and when
    the first of them was made: a charge's refunded amount as Stripe has it now."""
    giving = [refund for refund in refunds if refund.get("status") in REFUNDING]
    times = [when for refund in giving if (when := timestamp(refund.get("created")))]
    return sum(int(refund.get("amount") or 0) for refund in giving), min(times, default=None)


def _dict(value: Any) -> Obj:
    """A field expected to hold an object; anything else (another app's odd payload) is {}."""
    return value if isinstance(value, dict) else {}


def invoice_subscription(invoice: Obj) -> tuple[str | None, dict[str, str]]:
    """The subscription an invoice bills, and that subscription's metadata.

    Read in both shapes: ``parent.subscription_details`` (API 2025-03-31 on), or the
    top-level ``subscription`` and ``subscription_details`` of older versions, whose
    events still arrive from endpoints pinned to them or created before an upgrade.
    """
    details = _dict(_dict(invoice.get("parent")).get("subscription_details"))
    subscription = details.get("subscription")
    if not details:
        details = _dict(invoice.get("subscription_details"))
        subscription = invoice.get("subscription")
    metadata = {str(k): str(v) for k, v in _dict(details.get("metadata")).items()}
    return object_id(subscription), metadata
