"""`make run` without a Stripe key: the sandbox is started, wired and usable end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live import reserve_port

ROOT = Path(__file__).resolve().parents[2]


def _request(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST" if data is not None else "GET",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


class DevServer:
    def __init__(self, process: subprocess.Popen[str], base: str, sandbox: str) -> None:
        self.process, self.base, self.sandbox = process, base, sandbox
        self.output: list[str] = []


@pytest.fixture
def devserver_env() -> dict[str, str]:
    """Extra environment for the dev server (override per test)."""
    return {}


@pytest.fixture
def devserver(tmp_path: Path, devserver_env: dict[str, str]) -> Iterator[DevServer]:
    port, sandbox_port = reserve_port(), reserve_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "DATABASE_", "SMTP_", "MAIL_"))
    }
    env.update(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "PYTHONUNBUFFERED": "1",
            "MAIL_CAPTURE_PORT": str(reserve_port()),
        }
    )
    env.update(devserver_env)
    env.pop("PUBLIC_BASE_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devserver",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = DevServer(process, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sandbox_port}")
    try:
        assert process.stdout is not None
        for line in process.stdout:
            server.output.append(line.rstrip())
            if "Running on" in line:
                break
        else:
            pytest.fail("the dev server stopped:\n" + "\n".join(server.output))
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_make_run_without_a_key_serves_the_sandbox_and_wires_it(devserver: DevServer) -> None:
    printed = "\n".join(devserver.output)
    for url in (
        f"{devserver.base}/support",
        f"{devserver.base}/demo/article",
        f"{devserver.base}/staff",
        f"{devserver.sandbox}/_sandbox",
        f"{devserver.base}/webhooks/stripe",
    ):
        assert url in printed
    assert "test double, NOT Stripe" in printed
    assert f"1 thread in this process; jobs at {devserver.base}/staff/jobs" in printed

    status, created = _request(
        f"{devserver.base}/api/v1/checkout",
        {"frequency": "monthly", "amount": 1000, "currency": "eur"},
    )
    assert status == 201
    assert created["checkout_url"].startswith(devserver.sandbox)
    status, _ = _request(
        f"{devserver.sandbox}/_sandbox/checkout/{created['session_id']}/complete",
        {"card": "4242424242424242", "email": "dev@example.com"},
    )
    assert status == 200

    status, confirmed = _request(
        f"{devserver.base}/api/v1/checkout/sessions/{created['session_id']}"
    )
    assert status == 200
    assert confirmed["paid"] is True
    # A session id opens nothing: managing a gift takes a sign-in link by email.
    assert "manage_url" not in confirmed
    # The sandbox's webhooks reach the service and are verified with the shared secret.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status, count = _request(f"{devserver.base}/api/v1/supporters/count")
        if status == 200 and count.get("count") == 1:
            break
        time.sleep(0.1)
    assert count.get("count") == 1, count
    # The worker thread sends the receipt to the local capture; the mailbox shows it.
    assert f"{devserver.base}/dev/mailbox" in printed
    deadline = time.monotonic() + 10
    mails: Any = []
    while time.monotonic() < deadline:
        status, mails = _request(f"{devserver.base}/dev/mailbox.json")
        if status == 200 and mails:
            break
        time.sleep(0.1)
    assert [(m["to"], m["subject"]) for m in mails] == [
        (["dev@example.com"], "Thank you for supporting The Harbour Courier: your receipt")
    ]
    # Links point back at this server's own port, not the default 5000.
    assert f"{devserver.base}/support/manage" in mails[0]["links"]


@pytest.mark.parametrize("devserver_env", [{"STRIPE_SECRET_KEY": "sk_test_" + "k" * 24}])
def test_make_run_with_a_test_key_explains_stripe_listen(devserver: DevServer) -> None:
    printed = "\n".join(devserver.output)

    assert f"stripe listen --forward-to {devserver.base}/webhooks/stripe" in printed
    assert "STRIPE_WEBHOOK_SECRET" in printed
    assert "sandbox" not in printed.lower()
    assert "k" * 24 not in printed
