"""The balance and payout routes: ``/v1/balance_transactions``, ``/v1/payouts`` and the
``/_sandbox/payouts`` controls. They join the API's and the controls' blueprints (so the
API's key check, faults and contract recording apply) when ``app.py`` imports this."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from . import params as p
from .api import _created_filter, endpoint, paginate
from .api import bp as api_bp
from .balance import PayoutRun
from .controls import _payload, _reply
from .controls import bp as controls_bp
from .errors import StripeError, no_such
from .runtime import current_sandbox
from .schemas import LIST_PAGING

Obj = dict[str, Any]


@api_bp.get("/balance_transactions")
@endpoint
def list_balance_transactions(params: Obj) -> Obj:
    """``GET /v1/balance_transactions``: newest first; ``payout=po_...`` lists what a payout
    paid out (its own transaction included)."""
    p.check(
        params,
        {
            **LIST_PAGING,
            "created": None,
            "currency": None,
            "payout": None,
            "source": None,
            "type": None,
        },
    )
    balance = current_sandbox().sim.balance
    payout_id = p.string(params.get("payout"), "payout")
    if payout_id and current_sandbox().state.live(payout_id, "payout") is None:
        raise no_such("payout", payout_id, param="payout", status=400)
    created = _created_filter(params.get("created"))
    found = [
        txn
        for txn in balance.transactions(
            payout=payout_id,
            source=p.string(params.get("source"), "source"),
            kind=p.string(params.get("type"), "type"),
            currency=p.string(params.get("currency"), "currency"),
        )
        if created(txn["created"])
    ]
    return paginate(found, params, "/v1/balance_transactions", "balance_transaction")


@api_bp.get("/payouts")
@endpoint
def list_payouts(params: Obj) -> Obj:
    """``GET /v1/payouts``: newest first, by status or creation time."""
    p.check(params, {**LIST_PAGING, "created": None, "status": None, "arrival_date": None})
    status = p.string(params.get("status"), "status")
    created = _created_filter(params.get("created"))
    arrival = _created_filter(params.get("arrival_date"))
    payouts = [
        po
        for po in reversed(current_sandbox().state.objects("payout"))
        if (status is None or po["status"] == status)
        and created(po["created"])
        and arrival(po["arrival_date"])
    ]
    return paginate(payouts, params, "/v1/payouts", "payout")


@api_bp.get("/payouts/<payout_id>")
@endpoint
def retrieve_payout(params: Obj, payout_id: str) -> Obj:
    """``GET /v1/payouts/{id}``."""
    p.check(params, {})
    state = current_sandbox().state
    if state.live(payout_id, "payout") is None:
        raise no_such("payout", payout_id)
    return state.get(payout_id)


# -- controls ---------------------------------------------------------------------------


def _run(run: PayoutRun, message: str) -> Response:
    events = [{"id": event["id"], "type": event["type"]} for event in run.events]
    return _reply({"payouts": run.payouts, "events": events}, message)


@controls_bp.post("/balance/settle")
def settle_balance() -> Response:
    """Make every pending balance transaction available now."""
    settled = current_sandbox().sim.balance.settle()
    return _reply({"settled": [txn["id"] for txn in settled]}, f"Settled {len(settled)}")


@controls_bp.get("/balance")
def show_balance() -> Response:
    """The available and pending balance per currency (minor units)."""
    balance = current_sandbox().sim.balance
    return jsonify({"available": balance.available(), "pending": balance.pending()})


@controls_bp.post("/payouts")
def pay_out() -> Response:
    """``{"currency"?: "eur", "settle"?: true}``: pay the available balance out, one payout
    per currency (``payout.created``, in transit); ``settle`` first makes pending funds
    available."""
    data = _payload()
    balance = current_sandbox().sim.balance
    if data.get("settle") in (True, "true", "1", "on"):
        balance.settle()
    currency = data.get("currency")
    if currency is not None and not isinstance(currency, str):
        raise StripeError(400, "currency must be a currency code", param="currency")
    run = balance.pay_out(currency=currency.lower() if currency else None)
    return _run(run, f"Created {len(run.payouts)} payout(s)")


@controls_bp.post("/payouts/<payout_id>/paid")
def payout_paid(payout_id: str) -> Response:
    """The payout arrives at the bank (``payout.paid``)."""
    return _run(current_sandbox().sim.balance.arrive(payout_id), f"Payout {payout_id} paid")


@controls_bp.post("/payouts/<payout_id>/fail")
def payout_fail(payout_id: str) -> Response:
    """``{"code"?: "account_closed"}``: the bank returns the payout (``payout.failed``)."""
    code = str(_payload().get("code") or "account_closed")
    run = current_sandbox().sim.balance.fail(payout_id, code=code)
    return _run(run, f"Payout {payout_id} failed")
