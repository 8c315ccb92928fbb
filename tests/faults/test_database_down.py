"""The database going away: the publisher's page stays fine, and no payment is lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from sqlalchemy import Engine, func, select

from service.appeals.demo import seed_demo
from service.core.extensions import db
from service.ledger.models import Donation, EventOutcome, StripeEvent, Supporter
from stripe_sandbox.server import SandboxServer
from tests.conftest import (
    TEST_STRIPE_KEY,
    TEST_WEBHOOK_SECRET,
    drain_jobs,
    make_test_app,
    truncate_all,
)
from tests.faults.switch import Switch, app_without_database
from tests.live import LiveServer, reserve_port
from tests.stripe_fixtures import checked_sandbox

PUBLISHER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>The Courier</title></head>
<body>
  <h1>Council votes to reopen the harbour baths</h1>
  <div data-support-appeal="top"></div>
  <article><p id="story">The vote was unanimous, and swimming starts in June.</p></article>
  <div data-support-appeal="bottom"></div>
  <script src="{service}/widget.js" async data-article-id="harbour-baths"
          data-section="news" data-tags="council"></script>
</body></html>
"""


def _publisher(service_url: str) -> Any:
    """The publisher's own web server: one article page embedding our widget."""
    page = PUBLISHER_PAGE.format(service=service_url).encode()

    def serve(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page]

    return serve


@pytest.mark.browser
def test_the_publishers_page_is_fine_while_our_database_is_down(
    engine: Engine, is_postgres: bool, tmp_path: Path, page: Any
) -> None:
    publisher_port = reserve_port()
    publisher_origin = f"http://127.0.0.1:{publisher_port}"
    settings = {"allowed_embed_origins": (publisher_origin,)}
    service = Switch(None)
    with LiveServer(service) as ours, LiveServer(_publisher(ours.url), port=publisher_port):
        up = make_test_app(str(engine.url.render_as_string(hide_password=False)), **settings)
        try:
            with up.app_context():
                seed_demo(db.session)
                db.session.commit()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            # With the database up, the widget shows the demo appeal (the control). The
            # whole short story is on the first screen, so only the bottom box, at the
            # page's end, can appear without moving it.
            service.target = up
            page.goto(f"{publisher_origin}/")
            page.get_by_text("Readers like you keep these stories free").wait_for()

            # With it down, our API answers "no appeal" and the page is just the article.
            service.target = app_without_database(is_postgres, str(tmp_path), **settings)
            page.context.clear_cookies()
            page.evaluate("localStorage.clear()")
            # The browser may keep the document for its max-age; this is a new visitor.
            page.context.new_cdp_session(page).send("Network.clearBrowserCache")
            # The site document the widget decides from, not the beacons.
            with page.expect_response(lambda r: "/api/v1/appeals/site" in r.url) as answer:
                page.reload()
            assert answer.value.status == 200
            assert answer.value.json()["available"] is False
            page.wait_for_load_state("networkidle")
            assert page.locator("#story").is_visible()
            assert page.get_by_text("Readers like you keep these stories free").count() == 0
            assert page.locator("aside").count() == 0
            assert errors == []
        finally:
            up.extensions["database"]["engine"].dispose()
            truncate_all(engine)


@pytest.fixture
def outage(engine: Engine, is_postgres: bool, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A sandbox delivering webhooks to our service, whose database starts out down."""
    url = engine.url.render_as_string(hide_password=False)
    switch = Switch(None)
    with (
        LiveServer(switch) as ours,
        checked_sandbox(
            webhook_url=f"{ours.url}/webhooks/stripe",
            webhook_secret=TEST_WEBHOOK_SECRET,
            webhook_max_attempts=30,
            webhook_backoff=0.1,
            webhook_backoff_max=0.3,
        ) as sandbox,
    ):
        overrides = {"stripe_api_base": sandbox.url}
        up = make_test_app(url, **overrides)
        switch.target = app_without_database(is_postgres, str(tmp_path), **overrides)
        try:
            yield {"switch": switch, "up": up, "sandbox": sandbox}
        finally:
            sandbox.webhooks.stop()
            up.extensions["database"]["engine"].dispose()
            truncate_all(engine)


def _wait_for(condition: Any, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_a_payment_made_during_a_database_outage_is_applied_by_stripes_retry(
    outage: dict[str, Any], engine: Engine
) -> None:
    sandbox: SandboxServer = outage["sandbox"]
    client = stripe.StripeClient(TEST_STRIPE_KEY, base_addresses={"api": sandbox.url})
    metadata = {"app": "reader-contributions", "frequency": "one_off"}
    checkout = client.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "success_url": "https://news.example/a",
            "customer_creation": "always",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 2500,
                        "product_data": {"name": "One-off donation"},
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
        }
    )
    sandbox.sim.complete_checkout(checkout.id, email="reader@example.com")
    events = [event["id"] for event in sandbox.events]

    # While the database is down every delivery is answered 500, and nothing is kept.
    _wait_for(lambda: all(sandbox.state.deliveries(e) for e in events))
    assert {a.status for e in events for a in sandbox.state.deliveries(e)} == {500}
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(StripeEvent)) == 0

    # The database is back: Stripe's next retries go through, each event applied once.
    outage["switch"].target = outage["up"]
    _wait_for(lambda: all(sandbox.state.deliveries(e)[-1].status == 200 for e in events))
    assert sandbox.webhooks.wait_idle(10)
    # Stored and acknowledged; the worker applies them.
    drain_jobs(outage["up"])
    with engine.connect() as connection:
        rows = connection.execute(select(StripeEvent.stripe_event_id, StripeEvent.outcome)).all()
        donations = connection.execute(select(Donation.amount_minor, Donation.email)).all()
        supporters = connection.scalar(select(func.count()).select_from(Supporter))
    assert sorted(r.stripe_event_id for r in rows) == sorted(events)
    assert {r.outcome for r in rows} <= {EventOutcome.APPLIED, EventOutcome.IGNORED}
    assert [tuple(d) for d in donations] == [(2500, "reader@example.com")]
    assert supporters == 1
