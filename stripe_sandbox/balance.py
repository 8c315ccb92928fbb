"""The account's balance: balance transactions becoming available, and payouts of them.

Every charge, refund, failed refund and chargeback leaves a balance transaction (built by
the simulator) that is ``pending`` until its ``available_on`` passes. A payout takes the
available balance of one currency to the bank: one ``payout`` balance transaction of
minus the total, and every transaction it took is marked as paid out by it, which is what
``GET /v1/balance_transactions?payout=po_...`` lists (the payout's own transaction too, as
Stripe lists it for automatic payouts). A payout is ``in_transit`` until it arrives
(``paid``) or the bank returns it (``failed``, with a ``payout_failure`` transaction that
puts the money back in the balance for the next payout).

Which payout took a transaction is a sandbox-only note (``state.private``): Stripe does not
send it on the transaction either.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from . import objects
from .errors import conflict, invalid, no_such
from .state import SandboxState

Obj = dict[str, Any]

#: The sandbox's fee for a chargeback, in the charge's minor units (Stripe's is 15.00-20.00).
DISPUTE_FEE = 1500
#: Stripe's failure codes for a payout the bank returned.
PAYOUT_FAILURE_CODES = {
    "account_closed": "The bank account has been closed.",
    "no_account": "The bank account details on file are probably incorrect.",
    "could_not_process": "The bank could not process this payout.",
}
_DAY = 86400


@dataclass(frozen=True)
class PayoutRun:
    """The payouts one run made (one per currency with money available) and their events."""

    payouts: list[Obj]
    events: list[Obj] = field(default_factory=list)

    @property
    def event_types(self) -> list[str]:
        """The types of the emitted events, in order."""
        return [str(event["type"]) for event in self.events]


def transaction(
    *,
    source_id: str,
    amount: int,
    currency: str,
    kind: str,
    category: str,
    now: int,
    fee: int = 0,
    fee_description: str = "Stripe processing fees",
    description: str | None = None,
    available: bool = False,
) -> Obj:
    """A balance transaction of any kind (``type``) and ``reporting_category``."""
    txn = objects.balance_transaction(
        source_id=source_id, amount=amount, fee=fee, currency=currency, kind=kind, now=now
    )
    txn["reporting_category"] = category
    txn["description"] = description
    for detail in txn["fee_details"]:
        detail["description"] = fee_description
    if available:
        txn.update({"available_on": now, "status": "available"})
    return txn


class Balance:
    """Availability and payouts over one sandbox's state. Each operation holds the lock."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        #: The account's bank account, where every payout goes.
        self.destination = objects.new_id("ba_")

    # -- reading ------------------------------------------------------------------------

    def _paid_out_by(self, txn_id: str) -> str | None:
        payout_id = self.state.private(txn_id).get("payout")
        return str(payout_id) if payout_id else None

    def transactions(
        self,
        *,
        payout: str | None = None,
        source: str | None = None,
        kind: str | None = None,
        currency: str | None = None,
    ) -> list[Obj]:
        """Balance transactions, newest first, filtered as ``GET /v1/balance_transactions``."""
        with self.state.lock:
            self._make_available()
            chosen = [
                txn
                for txn in self.state.objects("balance_transaction")
                if (payout is None or self._paid_out_by(txn["id"]) == payout)
                and (source is None or txn["source"] == source)
                and (kind is None or txn["type"] == kind)
                and (currency is None or txn["currency"] == currency)
            ]
            return list(reversed(chosen))

    def available(self) -> dict[str, int]:
        """The available balance per currency: settled funds no payout has taken yet."""
        with self.state.lock:
            self._make_available()
            totals: dict[str, int] = {}
            for txn in self._unpaid():
                if txn["status"] == "available":
                    totals[txn["currency"]] = totals.get(txn["currency"], 0) + txn["net"]
            return totals

    def pending(self) -> dict[str, int]:
        """Funds not available yet, per currency."""
        with self.state.lock:
            self._make_available()
            totals: dict[str, int] = {}
            for txn in self._unpaid():
                if txn["status"] == "pending":
                    totals[txn["currency"]] = totals.get(txn["currency"], 0) + txn["net"]
            return totals

    def _unpaid(self) -> list[Obj]:
        return [
            txn
            for txn in self.state.objects("balance_transaction")
            if txn["type"] != "payout" and self._paid_out_by(txn["id"]) is None
        ]

    def _make_available(self) -> None:
        now = self.state.now()
        for txn in self.state.objects("balance_transaction"):
            if txn["status"] == "pending" and txn["available_on"] <= now:
                live = self.state.live(txn["id"], "balance_transaction")
                assert live is not None
                live["status"] = "available"

    # -- changing -----------------------------------------------------------------------

    def settle(self) -> list[Obj]:
        """Make every pending transaction available now, as if its ``available_on`` had come
        (Stripe test mode's card ``4000 0000 0000 0077`` does the same at payment time)."""
        with self.state.lock:
            now = self.state.now()
            settled = []
            for txn in self.state.objects("balance_transaction"):
                if txn["status"] == "pending":
                    live = self.state.live(txn["id"], "balance_transaction")
                    assert live is not None
                    live.update({"status": "available", "available_on": now})
                    settled.append(copy.deepcopy(live))
            return settled

    def pay_out(self, *, currency: str | None = None) -> PayoutRun:
        """Pay the available balance of each currency (or one) out to the bank account."""
        with self.state.lock:
            mark = len(self.state.event_records())
            self._make_available()
            by_currency: dict[str, list[Obj]] = {}
            for txn in self._unpaid():
                if txn["status"] == "available" and currency in (None, txn["currency"]):
                    by_currency.setdefault(txn["currency"], []).append(txn)
            payouts = []
            for cur in sorted(by_currency):
                taken = by_currency[cur]
                amount = sum(txn["net"] for txn in taken)
                if amount > 0:
                    payouts.append(self._payout(cur, amount, taken))
            if not payouts:
                raise conflict(
                    "There is no available balance to pay out"
                    + (f" in {currency.upper()}." if currency else ".")
                    + " Funds become available two days after a payment (or settle them).",
                    code="balance_insufficient",
                )
            events = [copy.deepcopy(r.event) for r in self.state.event_records()[mark:]]
            return PayoutRun([copy.deepcopy(po) for po in payouts], events)

    def _payout(self, currency: str, amount: int, taken: list[Obj]) -> Obj:
        now = self.state.now()
        po = objects.payout(amount=amount, currency=currency, destination=self.destination, now=now)
        txn = self.state.put(
            transaction(
                source_id=po["id"],
                amount=-amount,
                currency=currency,
                kind="payout",
                category="payout",
                description="STRIPE PAYOUT",
                now=now,
                available=True,
            )
        )
        po.update(
            {
                "arrival_date": (now // _DAY + 2) * _DAY,
                "balance_transaction": txn["id"],
                "reconciliation_status": "in_progress",
                "status": "in_transit",
            }
        )
        self.state.put(po)
        for paid in [*taken, txn]:
            self.state.private(paid["id"])["payout"] = po["id"]
        self.state.emit("payout.created", po)
        return po

    def _in_transit(self, payout_id: str) -> Obj:
        po = self.state.live(payout_id, "payout")
        if po is None:
            raise no_such("payout", payout_id)
        if po["status"] != "in_transit":
            raise conflict(
                f"Payout {payout_id} is {po['status']}; only a payout in transit can arrive or "
                "fail."
            )
        return po

    def arrive(self, payout_id: str) -> PayoutRun:
        """The payout reached the bank account (``payout.paid``)."""
        with self.state.lock:
            mark = len(self.state.event_records())
            po = self._in_transit(payout_id)
            po.update({"status": "paid", "reconciliation_status": "completed"})
            self.state.emit("payout.paid", po)
            events = [copy.deepcopy(r.event) for r in self.state.event_records()[mark:]]
            return PayoutRun([copy.deepcopy(po)], events)

    def fail(self, payout_id: str, *, code: str = "account_closed") -> PayoutRun:
        """The bank returned the payout (``payout.failed``): its amount is back in the
        available balance, as a ``payout_failure`` transaction the next payout takes."""
        if code not in PAYOUT_FAILURE_CODES:
            raise invalid(
                f"code must be one of {', '.join(sorted(PAYOUT_FAILURE_CODES))}", param="code"
            )
        with self.state.lock:
            mark = len(self.state.event_records())
            po = self._in_transit(payout_id)
            txn = self.state.put(
                transaction(
                    source_id=po["id"],
                    amount=po["amount"],
                    currency=po["currency"],
                    kind="payout_failure",
                    category="payout_reversal",
                    description=f"Payout failure ({po['id']})",
                    now=self.state.now(),
                    available=True,
                )
            )
            po.update(
                {
                    "status": "failed",
                    "failure_code": code,
                    "failure_message": PAYOUT_FAILURE_CODES[code],
                    "failure_balance_transaction": txn["id"],
                    "reconciliation_status": "completed",
                }
            )
            self.state.emit("payout.failed", po)
            events = [copy.deepcopy(r.event) for r in self.state.event_records()[mark:]]
            return PayoutRun([copy.deepcopy(po)], events)


def dispute_withdrawal(ch: Obj, dispute_id: str, now: int) -> Obj:
    """The chargeback's transaction: the disputed amount and the dispute fee leave."""
    return transaction(
        source_id=dispute_id,
        amount=-ch["amount"],
        fee=DISPUTE_FEE,
        fee_description="Dispute fee",
        currency=ch["currency"],
        kind="adjustment",
        category="dispute",
        description=f"Chargeback withdrawal for {ch['id']}",
        now=now,
    )


def dispute_reversal(ch: Obj, dispute_id: str, now: int) -> Obj:
    """A won chargeback's transaction: the disputed amount comes back (the fee does not)."""
    return transaction(
        source_id=dispute_id,
        amount=ch["amount"],
        currency=ch["currency"],
        kind="adjustment",
        category="dispute_reversal",
        description=f"Chargeback reversal for {ch['id']}",
        now=now,
    )
