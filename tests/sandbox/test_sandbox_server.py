"""Running the sandbox: the command line, concurrency, and the shapes it builds from fixtures."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import stripe

from stripe_sandbox import SandboxConfig, SandboxServer, create_app
from stripe_sandbox.__main__ import main
from tests.contract.stripe_contract import object_problems

from .conftest import API_KEY, close_client, make_client, monthly_params, one_off_params

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_cli_serves_until_stopped() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_sandbox", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "test double, not Stripe" in banner and f":{port}" in banner
        deadline = time.monotonic() + 10
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/_sandbox", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert page.status_code == 200 and "not Stripe" in page.text
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_cli_refuses_a_webhook_url_without_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--webhook-url", "http://127.0.0.1:5000/webhooks/stripe"]) == 2
    assert "webhook_secret is required" in capsys.readouterr().err


def test_config_rejects_live_keys_and_unknown_settings() -> None:
    with pytest.raises(ValueError, match="test-mode"):
        SandboxConfig(api_key="sk_live_abc")
    with pytest.raises(TypeError, match="colour"):
        create_app({"colour": "blue"})


def test_concurrent_retries_of_one_key_create_one_session(sandbox: SandboxServer) -> None:
    clients = [make_client(sandbox.url) for _ in range(8)]
    ids: list[str] = []
    errors: list[BaseException] = []

    def create(client: stripe.StripeClient) -> None:
        try:
            session = client.v1.checkout.sessions.create(
                params=one_off_params(), options={"idempotency_key": "same-attempt"}
            )
            ids.append(session.id)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=create, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    for client in clients:
        close_client(client)
    assert errors == []
    assert len(set(ids)) == 1 and len(ids) == 8
    assert len(sandbox.state.objects("checkout.session")) == 1


def test_objects_keep_stripes_contract(client: stripe.StripeClient, sandbox: SandboxServer) -> None:
    session = client.v1.checkout.sessions.create(params=monthly_params())
    sandbox.sim.complete_checkout(session.id)
    sub_id = sandbox.state.get(session.id)["subscription"]
    charge_id = sandbox.state.objects("charge")[0]["id"]
    sandbox.sim.refund(charge_id=charge_id, amount=100)
    sandbox.sim.dispute(charge_id)
    sandbox.sim.renew_subscription(sub_id)
    for name in (
        "checkout.session",
        "customer",
        "subscription",
        "invoice",
        "invoice_payment",
        "charge",
        "payment_intent",
        "payment_method",
        "refund",
        "dispute",
        "balance_transaction",
        "price",
        "product",
        "billing_portal.session",
        "event",
    ):
        if name == "billing_portal.session":
            sandbox.sim.create_portal_session(
                sandbox.state.get(sub_id)["customer"], None, public_url=sandbox.url
            )
        stored = sandbox.state.objects(name) if name != "event" else sandbox.state.events
        assert stored, name
        for obj in stored:
            assert object_problems(obj) == [], name
            assert obj["object"] == name
    # Includable since 2022-11-15: only an expanded charge lists its refunds.
    assert "refunds" not in client.v1.charges.retrieve(charge_id)
    expanded = client.v1.charges.retrieve(charge_id, params={"expand": ["refunds"]})
    assert [refund.amount for refund in expanded.refunds.data] == [100]


def test_ids_look_like_stripes(client: stripe.StripeClient, sandbox: SandboxServer) -> None:
    session = client.v1.checkout.sessions.create(params=monthly_params())
    done = sandbox.sim.complete_checkout(session.id).session
    charge = sandbox.state.objects("charge")[0]
    refund = sandbox.sim.refund(charge_id=charge["id"]).object
    prefixes = {
        session.id: "cs_test_",
        done["customer"]: "cus_",
        done["subscription"]: "sub_",
        done["invoice"]: "in_",
        charge["id"]: "ch_",
        charge["payment_intent"]: "pi_",
        refund["id"]: "re_",
        sandbox.state.events[0]["id"]: "evt_",
    }
    for object_id, prefix in prefixes.items():
        assert object_id.startswith(prefix)


def test_public_url_is_used_for_hosted_pages() -> None:
    with SandboxServer(public_url="https://sandbox.example", api_key=API_KEY) as sb:
        api = requests.post(
            f"{sb.url}/v1/checkout/sessions",
            headers={"Authorization": f"Bearer {API_KEY}"},
            data={
                "mode": "payment",
                "line_items[0][quantity]": "1",
                "line_items[0][price_data][currency]": "eur",
                "line_items[0][price_data][unit_amount]": "500",
                "line_items[0][price_data][product_data][name]": "Gift",
            },
            timeout=5,
        )
        assert api.json()["url"].startswith("https://sandbox.example/c/pay/cs_test_")
