"""Endpoints: which URLs are refused and why, secrets and their rotation, the staff page."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook, WebhookVerificationError

from service.core.jobs import Job
from service.core.models import utcnow
from service.ledger import Change, LedgerChange
from service.outbound import DeliveryStatus, OutboundDelivery, OutboundEndpoint
from service.outbound.deliveries import deliver_change, signed_headers
from service.outbound.endpoints import EndpointRefused, check_url, new_secret, rotate_secret
from service.staff.models import StaffRole
from tests.conftest import drain_jobs
from tests.outbound.receiver import Receiver
from tests.staff import factories
from tests.staff.helpers import arranged, sign_in, token_from


def test_urls_that_are_refused_say_why(app: Flask) -> None:
    settings = app.extensions["settings"]
    production = dataclasses.replace(
        settings, env="production", public_base_url="https://support.paper.example"
    )
    assert check_url(production, " https://crm.example/hooks ") == "https://crm.example/hooks"
    refusals = {
        "http://crm.example/hooks": "must use https",
        "https://support.paper.example/anything": "this service itself",
        "https://SUPPORT.paper.example:443/x": "this service itself",
        "ftp://crm.example/": "starting with https",
        "https:///nohost": "starting with https",
        "https://crm.example:99999/": "port",
        "https://crm.example/a b": "spaces",
        "": "Enter the URL",
        "https://crm.example/" + "a" * 2048: "longer than",
    }
    for url, why in refusals.items():
        with pytest.raises(EndpointRefused, match=why):
            check_url(production, url)
    # Outside production a plain-http receiver on another port of this host is fine.
    assert check_url(settings, "http://127.0.0.1:9999/hooks")
    with pytest.raises(EndpointRefused, match="this service itself"):
        check_url(settings, settings.public_base_url + "/webhooks/stripe")


def test_a_rotation_signs_with_both_secrets_for_a_day(session: Session) -> None:
    endpoint = OutboundEndpoint(url="https://crm.example/hooks", secret=new_secret())
    session.add(endpoint)
    session.flush()
    old = endpoint.secret
    now = utcnow()
    new = rotate_secret(session, endpoint, now)
    assert new != old and new.startswith("whsec_")
    body = '{"type":"gift.succeeded"}'
    headers = signed_headers(endpoint, "msg_1", body, now)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers) == {"type": "gift.succeeded"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body.replace("succeeded", "refunded"), headers)
    # A day later only the new secret signs.
    next_day = now + timedelta(hours=24, seconds=1)
    signatures = signed_headers(endpoint, "msg_1", body, next_day)["webhook-signature"]
    assert signatures == Webhook(new).sign("msg_1", next_day, body)
    assert Webhook(old).sign("msg_1", next_day, body) not in signatures


def test_the_same_change_announced_twice_is_delivered_once(session: Session) -> None:
    session.add(OutboundEndpoint(url="https://crm.example/a", secret=new_secret()))
    session.add(OutboundEndpoint(url="https://crm.example/b", secret=new_secret()))
    session.add(OutboundEndpoint(url="https://crm.example/c", secret=new_secret(), active=False))
    session.flush()
    change = LedgerChange(Change.GIFT_SUCCEEDED, "gift.succeeded:42", utcnow(), {"gift": {}})
    deliver_change(session, change)
    deliver_change(session, change)
    assert session.scalar(select(func.count()).select_from(OutboundDelivery)) == 2
    kinds = session.scalars(select(Job.kind).where(Job.kind == "outbound.deliver")).all()
    assert len(kinds) == 2


def test_admins_add_endpoints_on_the_page_and_see_the_secret_once(
    app: Flask, client: FlaskClient
) -> None:
    with arranged(app) as session:
        admin = factories.staff_user(session)
    assert sign_in(client, admin.email).status_code == 302
    token = token_from(client, "/staff/outbound")
    added = client.post(
        "/staff/outbound",
        data={"url": "https://crm.example/hooks", "description": "CRM", "csrf_token": token},
    )
    assert added.status_code == 201
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", added.get_data(as_text=True))
    assert secret
    with arranged(app) as session:
        endpoint = session.scalars(select(OutboundEndpoint)).one()
        assert endpoint.secret == secret.group(0)
    # Not on the page again.
    assert secret.group(0) not in client.get("/staff/outbound").get_data(as_text=True)
    refused = client.post(
        "/staff/outbound",
        data={"url": "http://127.0.0.1:5000/x", "csrf_token": token},
    )
    assert refused.status_code == 422
    assert "points at this service itself" in refused.get_data(as_text=True)
    rotated = client.post(f"/staff/outbound/{endpoint.id}/rotate", data={"csrf_token": token})
    assert rotated.status_code == 200
    assert "keeps signing alongside it for 24 hours" in rotated.get_data(as_text=True)
    with arranged(app) as session:
        assert session.scalar(select(func.count()).select_from(OutboundEndpoint)) == 1
        again = session.get(OutboundEndpoint, endpoint.id)
        assert again is not None and again.previous_secret == secret.group(0)


def test_viewers_see_deliveries_but_change_nothing(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        viewer = factories.staff_user(session, StaffRole.VIEWER)
        endpoint = OutboundEndpoint(url="https://crm.example/hooks", secret=new_secret())
        session.add(endpoint)
        session.flush()
        endpoint_id = endpoint.id
    assert client.get("/staff/outbound").status_code == 302  # signed out: to sign in
    assert sign_in(client, viewer.email).status_code == 302
    page = client.get("/staff/outbound")
    assert page.status_code == 200 and "Add an endpoint" not in page.get_data(as_text=True)
    assert client.get(f"/staff/outbound/{endpoint_id}").status_code == 200
    token = token_from(client, "/staff/outbound")
    post = client.post("/staff/outbound", data={"url": "https://x.example", "csrf_token": token})
    assert post.status_code == 403
    assert client.get("/staff/outbound/999999").status_code == 404


def test_the_command_refuses_a_bad_url_and_prints_nothing_secret(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["outbound-endpoint", "add", "ftp://x"])
    assert result.exit_code != 0 and "https://" in result.output
    assert "whsec_" not in result.output


def test_a_slow_endpoint_times_out_and_holds_up_no_other(app: Flask) -> None:
    app.config["OUTBOUND_TIMEOUT_SECONDS"] = 0.5
    with Receiver(delay=3.0) as slow, Receiver() as good:
        with arranged(app) as session:
            session.add(OutboundEndpoint(url=slow.url, secret=new_secret()))
            session.add(OutboundEndpoint(url=good.url, secret=new_secret()))
            session.flush()
            change = LedgerChange(Change.GIFT_SUCCEEDED, "gift:7", utcnow(), {"gift": {}})
            deliver_change(session, change)
        drain_jobs(app)
        with arranged(app) as session:
            by_url = {d.endpoint.url: d for d in session.scalars(select(OutboundDelivery))}
            assert by_url[good.url].status is DeliveryStatus.DELIVERED
            late = by_url[slow.url]
            assert (late.status, late.last_status_code) == (DeliveryStatus.FAILING, None)
            assert late.last_error and "timed out" in late.last_error
        assert len(good.bodies()) == 1
