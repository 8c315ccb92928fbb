"""Support that runs out with time: the daily job announces it once (supporter.lapsed)."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from service.core.jobs import Worker
from service.core.models import utcnow
from service.outbound import OutboundDelivery, OutboundEndpoint
from service.outbound.endpoints import new_secret
from tests.conftest import drain_jobs
from tests.live import reserve_port
from tests.staff import factories
from tests.staff.helpers import arranged


def test_a_one_off_window_ending_yesterday_is_announced_once(app: Flask) -> None:
    yesterday_noon = utcnow().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(
        days=1
    )
    with arranged(app) as session:
        down = f"http://127.0.0.1:{reserve_port()}/hooks"
        session.add(OutboundEndpoint(url=down, secret=new_secret()))
        lapsed = factories.supporter(session, supported_until=yesterday_noon)
        factories.supporter(session, supported_until=yesterday_noon - timedelta(days=1))
        factories.supporter(session, supported_until=utcnow() + timedelta(days=30))
    Worker(app, name="one").schedule_daily()
    Worker(app, name="two").schedule_daily()
    # The delivery's own try fails (nothing listens there): only its row counts here.
    drain_jobs(app)
    with arranged(app) as session:
        deliveries = session.scalars(select(OutboundDelivery)).all()
        assert [d.event_type for d in deliveries] == ["supporter.lapsed"]
        body = json.loads(deliveries[0].body)
        assert body["data"]["supporter"]["id"] == lapsed.id
        assert body["data"]["supporter"]["email"] == lapsed.email
