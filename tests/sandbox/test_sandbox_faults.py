"""The fault switch: the API fails or stalls, and the official client reacts as to Stripe."""

from __future__ import annotations

import time

import pytest
import stripe

from stripe_sandbox import SandboxServer

from .conftest import close_client, make_client, one_off_params


def test_error_mode_raises_api_error_until_cleared(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    sandbox.state.set_fault("error")
    for _ in range(2):
        with pytest.raises(stripe.APIError) as error:
            client.v1.checkout.sessions.create(params=one_off_params())
        assert error.value.http_status == 500
    sandbox.state.clear_fault()
    assert client.v1.checkout.sessions.create(params=one_off_params()).status == "open"


def test_count_limits_the_fault_and_the_client_retry_recovers(sandbox: SandboxServer) -> None:
    sandbox.state.set_fault("error", count=1)
    retrying = make_client(sandbox.url, retries=1)
    try:
        session = retrying.v1.checkout.sessions.create(params=one_off_params())
    finally:
        close_client(retrying)
    assert session.status == "open"
    assert sandbox.state.fault is None
    assert len(sandbox.state.objects("checkout.session")) == 1


def test_slow_mode_times_the_client_out(sandbox: SandboxServer) -> None:
    sandbox.state.set_fault("slow", seconds=0.6, count=1)
    impatient = make_client(sandbox.url, timeout=0.2)
    try:
        started = time.monotonic()
        with pytest.raises(stripe.APIConnectionError):
            impatient.v1.customers.retrieve("cus_x")
        assert time.monotonic() - started < 0.5
    finally:
        close_client(impatient)


@pytest.mark.parametrize(
    ("status", "exception"),
    [(429, stripe.RateLimitError), (402, stripe.CardError), (503, stripe.APIError)],
)
def test_error_statuses_map_to_stripe_exceptions(
    client: stripe.StripeClient,
    sandbox: SandboxServer,
    status: int,
    exception: type[stripe.StripeError],
) -> None:
    sandbox.state.set_fault("error", status=status, count=1)
    with pytest.raises(exception):
        client.v1.checkout.sessions.create(params=one_off_params())


def test_faults_over_http_spare_the_pages(
    client: stripe.StripeClient, sandbox: SandboxServer
) -> None:
    session = client.v1.checkout.sessions.create(params=one_off_params())
    browser = sandbox.app.test_client()
    response = browser.post("/_sandbox/faults", json={"mode": "error", "status": 500})
    assert response.get_json()["fault"]["mode"] == "error"
    assert browser.get(f"/c/pay/{session.id}").status_code == 200
    with pytest.raises(stripe.APIError):
        client.v1.checkout.sessions.retrieve(session.id)
    assert browser.post("/_sandbox/faults", json={"mode": "off"}).get_json() == {"fault": None}
    assert client.v1.checkout.sessions.retrieve(session.id).id == session.id
    assert browser.post("/_sandbox/faults", json={"mode": "flood"}).status_code == 400
