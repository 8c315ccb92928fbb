"""The issue's test: pay (one-off and recurring), refund one, pay out in the sandbox; the
money view, the money CSV and the payout views agree to the cent with the balance
transactions Stripe (the sandbox, through the `stripe` package) reports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
import stripe
from flask.testing import FlaskClient
from sqlalchemy import Engine

from service.core.extensions import db
from service.core.models import utcnow
from service.core.money import format_money
from stripe_sandbox import SandboxServer
from tests.conftest import (
    TEST_STRIPE_KEY,
    TEST_WEBHOOK_SECRET,
    drain_jobs,
    make_test_app,
    truncate_all,
)
from tests.contract.stripe_contract import assert_traffic_keeps_contract
from tests.ledger.conftest import QuickLiveServer, Stack, pay
from tests.live import reserve_port
from tests.staff import factories
from tests.staff.helpers import sign_in


@pytest.fixture
def live_stack(database_url: str, engine: Engine) -> Iterator[Stack]:
    """The service over HTTP (committing for real) and a sandbox delivering its webhooks."""
    port = reserve_port()
    service_url = f"http://127.0.0.1:{port}"
    with SandboxServer(
        webhook_url=f"{service_url}/webhooks/stripe",
        webhook_secret=TEST_WEBHOOK_SECRET,
        api_key=TEST_STRIPE_KEY,
    ) as sandbox:
        app = make_test_app(database_url, stripe_api_base=sandbox.url, public_base_url=service_url)
        try:
            with QuickLiveServer(app, port=port):
                yield Stack(app=app, url=service_url, sandbox=sandbox, engine=engine)
        finally:
            sandbox.webhooks.stop()
            app.extensions["database"]["engine"].dispose()
            truncate_all(engine)


_METRIC = re.compile(r'data-metric="([^"]+)">(?:<strong>)?([^<]*)<')


def _metrics(html: str) -> dict[str, str]:
    return {name: value.strip() for name, value in _METRIC.findall(html)}


def _csv(client: FlaskClient, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def _signed_in(stack: Stack) -> FlaskClient:
    with stack.app.app_context():
        user = factories.staff_user(db.session)
        db.session.commit()
    client = stack.app.test_client()
    assert sign_in(client, user.email).status_code == 302
    return client


def _eur(minor: int) -> str:
    return format_money(minor, "eur")


def test_money_views_csvs_and_payouts_agree_to_the_cent_with_stripe(live_stack: Stack) -> None:
    stack = live_stack
    sandbox = stack.sandbox
    one_off = pay(sandbox, stack.settings, amount=2500)
    monthly = pay(sandbox, stack.settings, frequency="monthly", amount=1000)
    assert monthly.subscription_id is not None and one_off.charge_id is not None
    sandbox.sim.renew_subscription(monthly.subscription_id)
    stack.settle()
    sandbox.sim.refund(charge_id=one_off.charge_id, amount=700)
    stack.settle()
    made = requests.post(f"{sandbox.url}/_sandbox/payouts", json={"settle": True}, timeout=10)
    assert made.status_code == 200, made.text
    [payout_id] = [payout["id"] for payout in made.json()["payouts"]]
    # settle() runs the worker: the payout's events, then the contents job they queue.
    stack.settle()
    drain_jobs(stack.app)

    # What Stripe says, through the stripe package.
    client = stripe.StripeClient(TEST_STRIPE_KEY, base_addresses={"api": sandbox.url})
    payout = client.v1.payouts.retrieve(payout_id)
    listed = client.v1.balance_transactions.list({"payout": payout_id, "limit": 100})
    txns = [t for t in listed.auto_paging_iter() if t.type != "payout"]
    charges = [t for t in txns if t.type == "charge"]
    refunds = [t for t in txns if t.type == "refund"]
    assert len(charges) == 3 and len(refunds) == 1 and len(txns) == 4
    everything = client.v1.balance_transactions.list({"limit": 100}).data
    assert {t.id for t in everything if t.type != "payout"} == {t.id for t in txns}
    gross = sum(t.amount for t in charges)
    fees = sum(t.fee for t in txns)
    refunded = -sum(t.amount for t in refunds)
    net = sum(t.net for t in txns)
    assert (gross, refunded, net) == (4500, 700, payout.amount)
    assert fees == sum(round(t.amount * 0.015) + 25 for t in charges) > 0

    staff = _signed_in(stack)
    today = utcnow().date().isoformat()
    # The money view and its CSV.
    page = staff.get(f"/staff/reports/money?from={today}&to={today}&period=day")
    assert page.status_code == 200
    shown = _metrics(page.get_data(as_text=True))
    assert shown["payments-eur"] == "3"
    assert shown["gross-eur"] == _eur(gross)
    assert shown["refunds-eur"] == _eur(refunded)
    assert shown["fees-eur"] == _eur(fees)
    assert shown["net-eur"] == _eur(net)
    [money_row] = _csv(staff, f"/staff/reports/money.csv?from={today}&to={today}&period=day")
    assert (money_row["currency"], money_row["payments"]) == ("eur", "3")
    assert int(money_row["gross_minor"]) == gross
    assert int(money_row["refunds_minor"]) == refunded
    assert int(money_row["disputes_minor"]) == 0
    assert int(money_row["fees_minor"]) == fees
    assert int(money_row["net_minor"]) == net

    # The payout list, the payout's page and the payouts CSV.
    listing = staff.get("/staff/payouts").get_data(as_text=True)
    assert payout_id in listing and "in transit" in listing
    totals = _metrics(listing)
    assert totals["gifts-eur"] == "3"
    assert totals["gross-eur"] == _eur(gross)
    assert totals["refunds-eur"] == _eur(refunded)
    assert totals["fees-eur"] == _eur(fees)
    assert totals["net-eur"] == totals["amount-eur"] == _eur(payout.amount)
    link = re.search(r'href="(/staff/payouts/\d+)">' + payout_id, listing)
    assert link is not None
    detail_page = staff.get(link.group(1)).get_data(as_text=True)
    detail = _metrics(detail_page)
    assert detail["status"] == "in transit"
    assert detail["gross"] == _eur(gross) and detail["refunds"] == _eur(refunded)
    assert detail["fees"] == _eur(fees) and detail["net"] == detail["amount"] == _eur(net)
    assert detail_page.count('data-kind="gift"') == 3
    assert detail_page.count("/staff/supporters/") == 4  # each gift and the refund link
    [payout_row] = _csv(staff, "/staff/reports/payouts.csv")
    assert payout_row["payout_id"] == payout_id and payout_row["currency"] == "eur"
    assert payout_row["status"] == "in_transit" and payout_row["contents_read"] == "yes"
    assert int(payout_row["gifts"]) == 3
    assert int(payout_row["gross_minor"]) == gross
    assert int(payout_row["refunds_minor"]) == refunded
    assert int(payout_row["fees_minor"]) == fees
    assert int(payout_row["net_minor"]) == int(payout_row["amount_minor"]) == payout.amount

    # The payout arrives; the month-end view of its arrival month shows it paid out.
    requests.post(f"{sandbox.url}/_sandbox/payouts/{payout_id}/paid", json={}, timeout=10)
    stack.settle()
    drain_jobs(stack.app)
    arrival = datetime.fromtimestamp(payout.arrival_date, UTC).date()
    month_page = staff.get(f"/staff/payouts/month?month={arrival:%Y-%m}")
    arrived = _metrics(month_page.get_data(as_text=True))
    assert arrived["paid-out"] == _eur(payout.amount) and arrived["in-transit"] == _eur(0)
    this_month = _metrics(staff.get("/staff/payouts/month").get_data(as_text=True))
    assert this_month["received-gross"] == _eur(gross)
    assert this_month["received-net"] == _eur(net)
    assert this_month["not-paid-out"] == _eur(0)
    if arrival.month != utcnow().month:  # paid out next month: in transit at this one's end
        assert this_month["in-transit"] == _eur(payout.amount)
    assert "paid" in staff.get(link.group(1)).get_data(as_text=True)
    assert_traffic_keeps_contract(sandbox.state)


def test_bad_ranges_and_months_get_a_message_not_a_500(live_stack: Stack) -> None:
    staff = _signed_in(live_stack)
    for url in (
        "/staff/payouts?from=2026-13-45",
        "/staff/payouts?to=9999-12-31",
        "/staff/payouts?from=2026-11-30&to=2026-11-01",
        "/staff/payouts?currency=xyz",
        "/staff/payouts/month?month=2026-13",
        "/staff/payouts/month?month=%00",
    ):
        response = staff.get(url)
        assert response.status_code == 422, url
        assert "was ignored" in response.get_data(as_text=True) or "showing" in response.get_data(
            as_text=True
        )
    refused = staff.get("/staff/reports/payouts.csv?to=9999-12-31")
    assert refused.status_code == 422
    assert "YYYY-MM-DD" in refused.get_data(as_text=True)
    assert staff.get("/staff/payouts/999999").status_code == 404
