"""A revenue editor in a real browser: trends over a range, then the outbound deliveries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from service.core.extensions import db
from service.core.models import utcnow
from service.ledger.models import Interval, MonthlyStatus
from service.outbound import DeliveryStatus, OutboundDelivery, OutboundEndpoint
from service.staff.models import StaffRole
from service.staff.reports.trends import write_snapshot
from tests.live import LiveServer, reserve_port
from tests.staff import factories
from tests.staff.factories import PASSWORD
from tests.staff.test_staff_browser import _shoot

pytestmark = pytest.mark.browser


def _seed(app: Flask) -> tuple[str, int, str]:
    now = utcnow()
    with app.app_context():
        session = db.session
        admin = factories.staff_user(session, StaffRole.ADMIN, email="revenue@courier.example")
        for i in range(40):
            person = factories.supporter(session)
            started = now - timedelta(days=2 * i + 1)
            if i % 3:
                factories.monthly(
                    session,
                    supporter_id=person.id,
                    started_at=started,
                    amount_minor=500 + 100 * (i % 4),
                )
            else:
                factories.donation(session, supporter_id=person.id, paid_at=started)
        factories.monthly(
            session,
            started_at=now - timedelta(days=40),
            interval=Interval.YEAR,
            amount_minor=6000,
            currency="gbp",
        )
        factories.monthly(
            session,
            started_at=now - timedelta(days=80),
            status=MonthlyStatus.CANCELED,
            canceled_at=now - timedelta(days=20),
            ended_at=now - timedelta(days=20),
            amount_minor=2500,
        )
        settings = app.extensions["settings"]
        for days_ago in range(1, 91):
            write_snapshot(session, settings, (now - timedelta(days=days_ago)).date())
        endpoint = OutboundEndpoint(
            url=f"http://127.0.0.1:{reserve_port()}/hooks", description="CRM", secret="whsec_AAAA"
        )
        session.add(endpoint)
        session.flush()
        for n, status in enumerate([DeliveryStatus.DELIVERED, DeliveryStatus.DEAD]):
            session.add(
                OutboundDelivery(
                    endpoint_id=endpoint.id,
                    message_id=f"msg_{n}",
                    event_type="gift.succeeded",
                    body='{"type":"gift.succeeded"}',
                    status=status,
                    attempts=1 if n == 0 else 7,
                    last_attempt_at=now,
                    last_status_code=200 if n == 0 else 500,
                    last_response="ok" if n == 0 else "upstream CRM error",
                    created_at=now,
                )
            )
        session.commit()
        return admin.email, endpoint.id, endpoint.url


def test_trends_chart_a_range_and_outbound_shows_each_answer(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    email, endpoint_id, url = _seed(live_app)
    base = live_server.url
    page.goto(f"{base}/staff/reports/trends")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/staff/reports/trends")
    assert page.get_by_role("heading", name="Trends", level=1).is_visible()
    # 90 days: one point per week, labelled with the week's Monday.
    assert page.locator("svg.chart[role=img]").count() == 4
    assert "labelled by its Monday" in page.locator("main").inner_text()
    assert page.locator('[data-metric="missing-days"]').count() == 0
    _shoot(page, "trends")

    page.get_by_role("link", name="Outbound").click()
    assert page.get_by_role("heading", name="Outbound events", level=1).is_visible()
    row = page.locator(f'tr[data-endpoint="{endpoint_id}"]')
    assert row.locator('[data-count="dead"]').inner_text() == "1"
    _shoot(page, "outbound")
    row.get_by_role("link", name=url).click()
    dead = page.locator('tr[data-status="dead"]')
    assert "HTTP 500" in dead.locator("[data-answer]").inner_text()
    _shoot(page, "outbound-deliveries")
    dead.get_by_role("button", name="Redeliver").click()
    assert "queued to be sent again" in page.get_by_role("status").inner_text()
