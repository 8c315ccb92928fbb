"""The balance and payouts: transactions for charges, refunds and chargebacks, pending then
available, paid out per currency, listed per payout, and payouts that arrive or fail."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from flask.testing import FlaskClient

from stripe_sandbox import SandboxServer

from .conftest import monthly_params, one_off_params

Obj = dict[str, Any]
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def browser(sandbox: SandboxServer) -> FlaskClient:
    return sandbox.app.test_client()


def _pay(client: stripe.StripeClient, sandbox: SandboxServer, **params: Any) -> Obj:
    session = client.v1.checkout.sessions.create(params=one_off_params(**params))
    assert sandbox.sim.complete_checkout(session.id, email="a@example.com").status == "succeeded"
    pi = sandbox.state.get(sandbox.state.get(session.id)["payment_intent"])
    return sandbox.state.get(pi["latest_charge"])


def _txns(client: stripe.StripeClient, **params: Any) -> list[Any]:
    page = client.v1.balance_transactions.list(params={"limit": 100, **params})
    return list(page.auto_paging_iter())


def test_funds_are_pending_until_settled_and_a_payout_takes_the_available_balance(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    charge = _pay(client, sandbox)
    client.v1.refunds.create(params={"charge": charge["id"], "amount": 500})
    [refund_txn, charge_txn] = _txns(client)
    assert (charge_txn.type, charge_txn.status, charge_txn.source) == (
        "charge",
        "pending",
        charge["id"],
    )
    assert charge_txn.net == 2500 - charge_txn.fee and charge_txn.fee == 63  # 1.5% + 25
    assert (refund_txn.type, refund_txn.amount, refund_txn.fee) == ("refund", -500, 0)

    refused = browser.post("/_sandbox/payouts", json={})
    assert refused.status_code == 400
    assert "no available balance" in refused.get_json()["error"]["message"]

    assert browser.post("/_sandbox/balance/settle", json={}).status_code == 200
    assert browser.get("/_sandbox/balance").get_json()["available"] == {"eur": 2500 - 63 - 500}
    response = browser.post("/_sandbox/payouts", json={})
    assert response.status_code == 200
    [payout] = response.get_json()["payouts"]
    assert [e["type"] for e in response.get_json()["events"]] == ["payout.created"]
    assert payout["status"] == "in_transit" and payout["amount"] == 2500 - 63 - 500
    assert payout["arrival_date"] % 86400 == 0 and payout["currency"] == "eur"
    assert browser.get("/_sandbox/balance").get_json()["available"] == {}

    listed = _txns(client, payout=payout["id"])
    assert sorted(t.type for t in listed) == ["charge", "payout", "refund"]
    assert sum(t.net for t in listed if t.type != "payout") == payout["amount"]
    [own] = [t for t in listed if t.type == "payout"]
    assert own.id == payout["balance_transaction"] and own.amount == -payout["amount"]
    fetched = client.v1.payouts.retrieve(payout["id"])
    assert fetched.status == "in_transit"
    assert [p.id for p in client.v1.payouts.list(params={"status": "in_transit"})] == [payout["id"]]

    paid = browser.post(f"/_sandbox/payouts/{payout['id']}/paid", json={})
    assert [e["type"] for e in paid.get_json()["events"]] == ["payout.paid"]
    assert client.v1.payouts.retrieve(payout["id"]).status == "paid"
    again = browser.post(f"/_sandbox/payouts/{payout['id']}/paid", json={})
    assert again.status_code == 400 and "only a payout in transit" in again.get_data(as_text=True)


def test_sources_expand_and_a_payout_lists_only_its_own_transactions(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    first = _pay(client, sandbox)
    sandbox.sim.balance.settle()
    [po1] = sandbox.sim.balance.pay_out().payouts
    second = _pay(client, sandbox)
    sandbox.sim.balance.settle()
    [po2] = sandbox.sim.balance.pay_out().payouts
    in_second = _txns(client, payout=po2["id"], expand=["data.source"])
    charges = [t for t in in_second if t.type == "charge"]
    assert [t.source.id for t in charges] == [second["id"]]
    assert first["id"] not in {getattr(t.source, "id", None) for t in in_second}
    assert _txns(client, payout=po1["id"], type="charge")[0].source == first["id"]
    with pytest.raises(stripe.InvalidRequestError, match="No such payout"):
        _txns(client, payout="po_missing")


def test_a_chargeback_and_its_reversal_move_the_balance_but_an_inquiry_does_not(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    charge = _pay(client, sandbox)
    inquiry = sandbox.sim.dispute(charge["id"], inquiry=True).object
    assert inquiry["balance_transactions"] == []
    other = _pay(client, sandbox)
    dispute = sandbox.sim.dispute(other["id"]).object
    [withdrawal] = dispute["balance_transactions"]
    assert (withdrawal["amount"], withdrawal["fee"], withdrawal["reporting_category"]) == (
        -2500,
        1500,
        "dispute",
    )
    assert withdrawal["net"] == -4000 and withdrawal["source"] == dispute["id"]
    won = sandbox.sim.close_dispute(dispute["id"], "won").object
    assert [t["reporting_category"] for t in won["balance_transactions"]] == [
        "dispute",
        "dispute_reversal",
    ]
    assert sum(t["net"] for t in won["balance_transactions"]) == -1500


def test_a_failed_payout_returns_its_money_to_the_next_one(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    _pay(client, sandbox)
    session = client.v1.checkout.sessions.create(params=monthly_params())
    assert sandbox.sim.complete_checkout(session.id, email="m@example.com").status == "succeeded"
    response = browser.post("/_sandbox/payouts", json={"settle": True})
    [payout] = response.get_json()["payouts"]
    failed = browser.post(f"/_sandbox/payouts/{payout['id']}/fail", json={"code": "no_account"})
    assert [e["type"] for e in failed.get_json()["events"]] == ["payout.failed"]
    po = client.v1.payouts.retrieve(payout["id"])
    assert (po.status, po.failure_code) == ("failed", "no_account")
    assert isinstance(po.failure_balance_transaction, str)
    assert sandbox.sim.balance.available() == {"eur": payout["amount"]}

    [retry] = sandbox.sim.balance.pay_out().payouts
    assert retry["amount"] == payout["amount"]
    listed = _txns(client, payout=retry["id"])
    assert sorted(t.type for t in listed) == ["payout", "payout_failure"]
    bad = browser.post(f"/_sandbox/payouts/{retry['id']}/fail", json={"code": "x"})
    assert bad.status_code == 400


def test_the_controls_page_shows_the_balance_and_pays_out_from_a_form(
    client: stripe.StripeClient, sandbox: SandboxServer, browser: FlaskClient
) -> None:
    _pay(client, sandbox)
    page = browser.get("/_sandbox").get_data(as_text=True)
    assert "Balance and payouts" in page and "Pending: €24.37" in page
    form = {"settle": "1"}
    response = browser.post("/_sandbox/payouts", data=form, content_type=FORM)
    assert response.status_code == 303
    [payout] = sandbox.state.objects("payout")
    page = browser.get("/_sandbox").get_data(as_text=True)
    assert payout["id"] in page and f"/_sandbox/payouts/{payout['id']}/fail" in page
    browser.post(f"/_sandbox/payouts/{payout['id']}/fail", data={}, content_type=FORM)
    assert sandbox.state.get(payout["id"])["status"] == "failed"
