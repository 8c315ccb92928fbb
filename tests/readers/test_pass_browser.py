"""The two-origin loop in a real browser: a reader gives on /support, goes back to the
publisher's site (another port, in ALLOWED_EMBED_ORIGINS) and is asked no more; a second
device signs in with the emailed link and is asked no more; the gift is cancelled, and
after its period the widget's refresh turns the reader into a lapsed donor, who sees the
lapsed donors' copy. The old Checkout Session id opens nothing.

Screenshots of each step and each email go to /tmp/shots/pass/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from service.appeals.editing import CopyInput, VariantInput
from service.core.dev_mailbox import MailCapture, mailbox_blueprint
from service.core.extensions import db
from service.ledger import MonthlyDonation, MonthlyStatus
from service.readers.passes import aware
from tests.appeals.factories import make_campaign
from tests.conftest import drain_jobs
from tests.live import LiveServer, reserve_port

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/pass")
EMAIL = "reader@example.com"
ASK = CopyInput("Keep local news free", "Readers fund our reporting.", "Give now")
LAPSED = CopyInput("We miss you", "Your gift ran out. Will you come back?", "Give again")
SITE = "/api/v1/appeals/site"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def publisher_app(service_url: str) -> Any:
    """The publisher's article page: another origin, embedding the widget."""
    paragraphs = "".join(
        f"<p>Paragraph {n} of the story about the harbour wall and the council vote.</p>"
        for n in range(1, 4)
    )
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Harbour wall to be raised</title></head>
<body style="font:18px Georgia;max-width:42rem;margin:2rem auto">
<header><strong>The Harbour Courier</strong> (publisher site)</header>
<article data-article-body><h1>Harbour wall to be raised by a metre</h1>
<div data-support-appeal="top" style="min-height:300px"></div>
{paragraphs}
</article>
<script src="{service_url}/widget.js" data-article-id="harbour-wall" data-section="news"
  async></script>
</body></html>"""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html.encode()]

    return app


@pytest.fixture
def mailbox() -> Iterator[MailCapture]:
    with MailCapture(port=reserve_port()) as capture:
        yield capture


@pytest.fixture
def publisher_port() -> int:
    return reserve_port()


@pytest.fixture
def live_app_overrides(mailbox: MailCapture, publisher_port: int) -> dict[str, Any]:
    return {
        "smtp_url": mailbox.smtp_url,
        "allowed_embed_origins": (f"http://127.0.0.1:{publisher_port}",),
        "appeal_cache_seconds": 0,
    }


@pytest.fixture
def two_origins(
    sandbox: Any, sandbox_live_app: Flask, service_port: int, publisher_port: int, mailbox: Any
) -> Iterator[tuple[str, str]]:
    """The service (with the development mailbox) and the publisher, on two ports."""
    app = sandbox_live_app
    app.register_blueprint(mailbox_blueprint(mailbox))
    with app.app_context():
        variants = (VariantInput("a", 1, {"top": ASK}),)
        make_campaign(db.session, slug="ask", name="Ask", goal_supporters=None, variants=variants)
        lapsed = (VariantInput("a", 1, {"top": LAPSED}),)
        make_campaign(
            db.session,
            slug="come-back",
            name="Come back",
            priority=10,
            goal_supporters=None,
            donor_states=("lapsed",),
            variants=lapsed,
        )
        db.session.commit()
    with LiveServer(app, port=service_port) as service:
        with LiveServer(publisher_app(service.url), port=publisher_port) as publisher:
            yield service.url, f"{publisher.url}/2026/harbour-wall"
        sandbox.webhooks.wait_idle(timeout=5)


def settle(sandbox: Any, app: Flask) -> None:
    """Webhooks delivered, then the job outbox run (receipts, links, notices)."""
    sandbox.webhooks.wait_idle(timeout=10)
    drain_jobs(app)


def mails(service: str) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = requests.get(f"{service}/dev/mailbox.json", timeout=5).json()
    return answer


def shoot_mail(page: Any, service: str, subject: str, name: str) -> None:
    """One email as a phone shows it: its HTML part, as the mailbox captured it."""
    [mail] = [m for m in mails(service) if m["subject"].startswith(subject)]
    viewer = page.context.new_page()
    viewer.set_viewport_size({"width": 390, "height": 700})
    viewer.set_content(mail["html"])
    shot(viewer, name)
    viewer.close()


def appeal(page: Any) -> Any:
    return page.locator("aside[data-campaign]")


def open_article(page: Any, url: str) -> None:
    with page.expect_response(lambda r: SITE in r.url):
        page.goto(url)
    page.wait_for_load_state("networkidle")


def test_give_go_back_second_device_cancel_lapse(
    two_origins: tuple[str, str], sandbox: Any, sandbox_live_app: Flask, browser: Any
) -> None:
    service, article = two_origins
    phone = browser.new_context(viewport={"width": 1100, "height": 900})
    page = phone.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda m: print("console:", m.text))

    # 1. A new reader is asked on the publisher's page.
    open_article(page, article)
    appeal(page).wait_for()
    assert appeal(page).get_attribute("data-campaign") == "ask"
    shot(page, "01-publisher-appeal-before-giving")

    # 2. They give on /support, having come from that page.
    page.goto(f"{service}/support?return_url={quote(article, safe='')}")
    page.get_by_text("Monthly", exact=True).click()
    page.get_by_text("€10 a month", exact=True).click()
    page.get_by_role("button", name="Give €10 a month").click()
    page.wait_for_url(f"{sandbox.url}/**")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry date").fill("12 / 34")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(f"{service}/support/thank-you?session_id=*")
    session_id = page.url.split("session_id=")[1].split("&")[0]
    shot(page, "02-thank-you-with-the-way-back")
    back = page.locator("[data-way-back]")
    href = back.get_attribute("href") or ""
    assert href.startswith(f"{article}#rc_pass=")
    assert session_id not in href

    # 3. The way back: the widget keeps the pass, clears the address bar, asks nothing.
    with page.expect_response(lambda r: SITE in r.url):
        back.click()
    page.locator("aside[data-thanks]").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.url == article
    assert appeal(page).count() == 0
    assert page.evaluate("localStorage.getItem('rc_pass')")
    shot(page, "03-publisher-after-giving-thanks-no-appeal")
    open_article(page, article)
    assert appeal(page).count() == 0
    shot(page, "04-publisher-reload-no-appeal")

    settle(sandbox, sandbox_live_app)
    receipt = [m for m in mails(service) if m["subject"].startswith("Thank you")]
    assert len(receipt) == 1
    assert EMAIL in str(receipt[0]["to"])
    shoot_mail(page, service, "Thank you", "05-email-receipt")

    # 4. Another device: asked, signs in with the emailed link, asked no more.
    laptop = browser.new_context(viewport={"width": 1100, "height": 900})
    other = laptop.new_page()
    other.set_default_timeout(15_000)
    open_article(other, article)
    appeal(other).wait_for()
    appeal(other).get_by_role("link", name="Already a supporter? Sign in").click()
    shot(other, "06a-second-device-already-a-supporter")
    other.get_by_label("Email").fill(EMAIL)
    other.get_by_role("button", name="Email me a sign-in link").click()
    other.get_by_role("heading", name="Check your inbox").wait_for()
    shot(other, "06b-second-device-check-your-inbox")
    settle(sandbox, sandbox_live_app)
    [sign_in] = [m for m in mails(service) if m["subject"].startswith("Your sign-in link")]
    [link] = [url for url in sign_in["links"] if "/support/sign-in/" in url]
    shoot_mail(other, service, "Your sign-in link", "07-email-sign-in-link")
    other.goto(link)
    with other.expect_response(lambda r: SITE in r.url):
        other.get_by_role("button", name="Continue").click()
    other.locator("aside[data-thanks]").wait_for()
    other.wait_for_load_state("networkidle")
    assert other.url == article
    assert appeal(other).count() == 0
    shot(other, "08-second-device-signed-in-no-appeal")
    other.get_by_role("link", name="Manage my gifts").click()
    other.get_by_role("heading", name="Your gifts").wait_for()
    shot(other, "09-second-device-self-service")
    laptop.close()

    # 5. The gift is cancelled; after its period the refresh says lapsed: the lapsed copy.
    [subscription] = sandbox.state.objects("subscription")
    cancelled = requests.post(
        f"{sandbox.url}/_sandbox/subscriptions/{subscription['id']}/cancel", json={}, timeout=10
    )
    assert cancelled.status_code == 200
    settle(sandbox, sandbox_live_app)
    assert any(m["subject"].endswith("has ended") for m in mails(service))
    shoot_mail(page, service, "Your monthly gift", "10-email-gift-ended")
    page.goto(f"{service}/dev/mailbox")
    shot(page, "10b-development-mailbox")
    with sandbox_live_app.app_context():
        [monthly] = db.session.scalars(select(MonthlyDonation)).all()
        assert monthly.status is MonthlyStatus.CANCELED
        period_end = aware(monthly.current_period_end or datetime.now(UTC))
    page.clock.install(time=period_end + timedelta(days=2))
    with page.expect_response(lambda r: r.url.endswith("/api/v1/readers/pass")) as refreshed:
        page.goto(article)
    assert refreshed.value.json() == {"state": "lapsed"}
    appeal(page).wait_for()
    assert appeal(page).get_attribute("data-campaign") == "come-back"
    assert "We miss you" in appeal(page).inner_text()
    assert page.evaluate("localStorage.getItem('rc_pass')") is None
    assert page.evaluate("localStorage.getItem('rc_donor')") == "lapsed"
    shot(page, "11-publisher-after-the-period-lapsed-copy")

    # 6. The old session id opens nothing: no pass, no link, no self-service.
    stranger = browser.new_context()
    old = stranger.new_page()
    old.goto(f"{service}/support/thank-you?session_id={session_id}")
    shot(old, "12-old-session-id-thank-you")
    assert old.locator("[data-supporter-pass]").count() == 0
    assert "rc_pass" not in (old.locator("[data-way-back]").get_attribute("href") or "")
    status = requests.get(f"{service}/api/v1/checkout/sessions/{session_id}", timeout=10)
    assert set(status.json()) == {
        "paid",
        "status",
        "frequency",
        "amount",
        "currency",
        "display_amount",
    }
    assert "http" not in json.dumps(status.json())
    old.goto(f"{service}/support/manage")
    assert old.get_by_role("heading", name="Your gifts", exact=True).count() == 0
    assert old.get_by_role("button", name="Email me a sign-in link").is_visible()
    stranger.close()
    phone.close()
