"""Stripe payouts in the ledger: each payout's status from its events, and what it paid out.

`payout.*` events update the payout's row from their snapshot (a snapshot older than
the one held never overwrites it) and queue a job that reads the payout's balance
transactions from Stripe. The job calls Stripe in its `prepare` step, with no
transaction or lock held, and writes the contents in `handle`: each transaction, tied
to our donation when it moved money for one, and the payout's sums (gifts, refunds,
disputes, fees, other, net), which add up to the payout's amount.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service import stripe_gateway
from service.core.jobs import JobRun, enqueue, register
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger.models import Donation
from service.ledger.payout_models import ItemKind, Payout, PayoutItem, PayoutStatus
from service.ledger.stripe_json import Obj, event_time, object_id, timestamp

log = logging.getLogger(__name__)

CONTENTS_KIND = "ledger.payout-contents"
PAYOUT_EVENTS = (
    "payout.created",
    "payout.updated",
    "payout.paid",
    "payout.failed",
    "payout.canceled",
)
# Later in a payout's life wins when two snapshots carry the same time.
_RANK = {
    PayoutStatus.PENDING: 0,
    PayoutStatus.IN_TRANSIT: 1,
    PayoutStatus.PAID: 2,
    PayoutStatus.FAILED: 3,
    PayoutStatus.CANCELED: 3,
}
_KIND_OF_CATEGORY = {
    "charge": ItemKind.GIFT,
    "refund": ItemKind.REFUND,
    "refund_failure": ItemKind.REFUND,
    "dispute": ItemKind.DISPUTE,
    "dispute_reversal": ItemKind.DISPUTE,
    "payout": ItemKind.PAYOUT,
}


def _rank(status: str) -> int:
    try:
        return _RANK[PayoutStatus(status)]
    except ValueError:
        return -1


def apply_snapshot(session: Session, payout: Obj, at: datetime) -> Payout:
    """Create or update the payout's row from Stripe's object as it was at `at`."""
    payout_id = str(payout["id"])
    row = session.scalars(
        select(Payout).where(Payout.stripe_payout_id == payout_id).with_for_update()
    ).one_or_none()
    status = str(payout.get("status") or PayoutStatus.PENDING)
    if row is not None and (at, _rank(status)) < (row.stripe_state_at, _rank(row.status)):
        return row  # an older snapshot than the one we hold
    if row is None:
        row = Payout(stripe_payout_id=payout_id)
        session.add(row)
    row.status = status
    row.amount_minor = int(payout.get("amount") or 0)
    row.currency = str(payout.get("currency") or "").lower()
    row.arrival_at = timestamp(payout.get("arrival_date")) or at
    row.stripe_created_at = timestamp(payout.get("created")) or at
    row.automatic = bool(payout.get("automatic", True))
    row.failure_code = payout.get("failure_code")
    row.failure_message = payout.get("failure_message")
    row.stripe_state_at = at
    session.flush()
    return row


def handle_payout(session: Session, settings: Settings, event: Obj) -> bool:
    """A payout was created, changed, arrived, failed or was canceled.

    Payouts belong to the whole Stripe account, so every payout is recorded: its
    contents say which of the money in it was ours.
    """
    payout: Obj = event["data"]["object"]
    if payout.get("object") != "payout" or not payout.get("id"):
        return False
    payout_id = str(payout["id"])
    if event.get("api_version") != stripe_gateway.PINNED_API_VERSION:
        # A snapshot in another API version's shape is not trusted: the job fetches the
        # payout at ours (and records nothing if Stripe has no such payout).
        key = f"payout-contents:{payout_id}:{event.get('id')}"
    else:
        row = apply_snapshot(session, payout, event_time(event))
        # Once per payout and status: a redelivered event does not read it again.
        key = f"payout-contents:{payout_id}:{row.status}"
    enqueue(session, CONTENTS_KIND, {"payout": payout_id}, key=key[:255])
    return True


# -- the contents job -----------------------------------------------------------------------


def prepare_contents(run: JobRun) -> dict[str, Any] | None:
    """Read the payout and its balance transactions from Stripe (no transaction held);
    None when Stripe has no such payout (another account's event, deleted test data)."""
    payout_id = str(run.payload["payout"])
    try:
        payout = stripe_gateway.fetch_payout(run.settings, payout_id)
    except stripe_gateway.GatewayError as error:
        if error.not_found:
            log.warning("payout %s: Stripe has no such payout; nothing recorded", payout_id)
            return None
        raise
    return {
        "payout": payout,
        "transactions": stripe_gateway.list_payout_transactions(run.settings, payout_id),
        # To the second, as events' times are: an event of the same second is ordered by
        # its status (later in a payout's life wins), not lost to the fetch.
        "fetched_at": utcnow().replace(microsecond=0).isoformat(),
    }


def handle_contents(run: JobRun) -> None:
    """Write what Stripe said the payout holds, and its sums."""
    prepared: dict[str, Any] | None = run.prepared
    if prepared is None:
        return
    row = apply_snapshot(
        run.session, prepared["payout"], datetime.fromisoformat(prepared["fetched_at"])
    )
    record_contents(run.session, row, prepared["transactions"])


def _charge_and_intent(transaction: Obj) -> tuple[str | None, str | None]:
    """The charge (and its payment intent, when known) a transaction moved money for."""
    source = transaction.get("source")
    if not isinstance(source, dict):
        return None, None
    kind = source.get("object")
    if kind == "charge":
        return object_id(source.get("id")), object_id(source.get("payment_intent"))
    if kind in ("refund", "dispute"):
        return object_id(source.get("charge")), object_id(source.get("payment_intent"))
    return None, None


def _donations(
    session: Session, charges: set[str], intents: set[str]
) -> tuple[dict[str, Donation], dict[str, Donation]]:
    if not charges and not intents:
        return {}, {}
    found = session.scalars(
        select(Donation).where(
            or_(
                Donation.stripe_charge_id.in_(charges),
                Donation.stripe_payment_intent_id.in_(intents),
            )
        )
    ).all()
    by_charge = {d.stripe_charge_id: d for d in found if d.stripe_charge_id}
    by_intent = {d.stripe_payment_intent_id: d for d in found if d.stripe_payment_intent_id}
    return by_charge, by_intent


def record_contents(session: Session, row: Payout, transactions: list[Obj]) -> None:
    """Replace the payout's contents with Stripe's list and recompute its sums."""
    links = [_charge_and_intent(txn) for txn in transactions]
    by_charge, by_intent = _donations(
        session, {c for c, _ in links if c}, {i for _, i in links if i}
    )
    row.items.clear()
    session.flush()
    sums = dict.fromkeys(("gross", "refunds", "disputes", "fees", "other", "net"), 0)
    gifts = gifts_ours = 0
    for txn, (charge_id, intent_id) in zip(transactions, links, strict=True):
        kind = _KIND_OF_CATEGORY.get(str(txn.get("reporting_category")), ItemKind.OTHER)
        donation = by_charge.get(charge_id or "") or by_intent.get(intent_id or "")
        amount, fee, net = int(txn["amount"]), int(txn["fee"]), int(txn["net"])
        row.items.append(
            PayoutItem(
                stripe_balance_transaction_id=str(txn["id"]),
                kind=kind.value,
                type=str(txn.get("type") or ""),
                reporting_category=str(txn.get("reporting_category") or ""),
                amount_minor=amount,
                fee_minor=fee,
                net_minor=net,
                currency=str(txn.get("currency") or row.currency).lower(),
                stripe_source_id=object_id(txn.get("source")),
                stripe_charge_id=charge_id,
                donation_id=donation.id if donation else None,
                stripe_created_at=timestamp(txn.get("created")) or row.stripe_created_at,
            )
        )
        if kind is ItemKind.PAYOUT:
            continue
        sums["fees"] += fee
        sums["net"] += net
        if kind is ItemKind.GIFT:
            gifts += 1
            sums["gross"] += amount
            if donation is not None:
                gifts_ours += 1
                donation.payout_id = row.id
        elif kind is ItemKind.REFUND:
            sums["refunds"] -= amount
        elif kind is ItemKind.DISPUTE:
            sums["disputes"] -= amount
        else:
            sums["other"] += amount
    row.gifts, row.gifts_ours = gifts, gifts_ours
    row.gross_minor, row.refunds_minor = sums["gross"], sums["refunds"]
    row.disputes_minor, row.fees_minor = sums["disputes"], sums["fees"]
    row.other_minor, row.net_minor = sums["other"], sums["net"]
    row.contents_at = utcnow()
    if sums["net"] != row.amount_minor:
        log.warning(
            "payout %s: its transactions net %s, its amount is %s",
            row.stripe_payout_id,
            sums["net"],
            row.amount_minor,
        )
    session.flush()


def init_app() -> None:
    """Register the job that reads a payout's contents."""
    register(CONTENTS_KIND, handle_contents, prepare=prepare_contents)
