"""The real widget's beacons in Chromium: one view id per page view, counted once by the server.

Issue 17 point 5: a page view's beacons sent again (a replayed request) used to count
again; now the widget's random view_id lets the server count each impression once.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service.appeals.demo import seed_demo
from service.appeals.models import AppealCounter
from service.core.extensions import db
from tests.appeals.test_widget_browser import TOP, open_article, wait_for_counters
from tests.live import LiveServer

pytestmark = pytest.mark.browser

BATCH = "/api/v1/appeal-events/batch"


def _top_impressions(app: Flask, *, reaching: int = 0) -> int:
    """Today's top impressions, after waiting (up to 10 s) for them to reach `reaching`."""
    deadline = time.monotonic() + 10
    while True:
        with app.app_context():
            impressions = db.session.scalars(
                select(AppealCounter.impressions).where(AppealCounter.placement == "top")
            ).one()
        if impressions >= reaching or time.monotonic() > deadline:
            return impressions
        time.sleep(0.1)


def _view_and_leave(page: Any, url: str) -> dict[str, Any]:
    """Open the article, see the top box, leave; the page view's beacon batch as sent."""
    open_article(page, url)
    top = page.locator(TOP)
    top.wait_for()
    top.scroll_into_view_if_needed()
    # The impression is queued once half the box is on screen.
    page.wait_for_timeout(1000)
    with page.expect_request(lambda r: BATCH in r.url) as sent:
        page.evaluate("window.dispatchEvent(new Event('pagehide'))")
    batch: dict[str, Any] = json.loads(sent.value.post_data)
    return batch


def test_a_page_views_beacons_carry_one_view_id_and_a_replay_counts_nothing(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    with live_app.app_context():
        seed_demo(db.session)
        db.session.commit()
    article = f"{live_server.url}/demo/article"

    first = _view_and_leave(page, article)
    views = {event["view_id"] for event in first["events"]}
    assert len(views) == 1 and re.fullmatch(r"[0-9a-f]{32}", next(iter(views)))
    assert wait_for_counters(live_app, "top")[0] == 1

    # The same batch sent twice more, from the page as any script could.
    statuses = page.evaluate(
        """async ([url, body]) => {
            const sent = [];
            for (let i = 0; i < 2; i++) {
                const headers = { "Content-Type": "text/plain" };
                sent.push((await fetch(url, { method: "POST", body, headers })).status);
            }
            return sent;
        }""",
        [f"{live_server.url}{BATCH}", json.dumps(first)],
    )
    assert statuses == [204, 204]
    assert _top_impressions(live_app) == 1

    # A new page view has a new id and counts.
    second = _view_and_leave(page, article)
    assert {e["view_id"] for e in second["events"]}.isdisjoint(
        {e["view_id"] for e in first["events"]}
    )
    assert _top_impressions(live_app, reaching=2) == 2
