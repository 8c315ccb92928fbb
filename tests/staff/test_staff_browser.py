"""A staff member's day in a real browser: sign in, read, edit a campaign, export CSV."""

from __future__ import annotations

import csv
import io
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.appeals.demo import DEMO_CAMPAIGN_SLUG, seed_demo
from service.core.extensions import db
from service.core.models import utcnow
from service.ledger.models import MonthlyStatus
from service.staff.models import StaffRole
from tests.live import LiveServer
from tests.staff import factories
from tests.staff.factories import PASSWORD

pytestmark = pytest.mark.browser

BOTTOM = '[data-support-appeal-slot="bottom"] aside'
NEW_HEADING = "Thank you, harbour readers: {supporters} and counting"
# Set STAFF_SCREENSHOTS=/tmp/somewhere to keep screenshots of the pages (never in git).
SCREENSHOTS = os.environ.get("STAFF_SCREENSHOTS", "")


def _seed(app: Flask) -> str:
    now = utcnow()
    with app.app_context():
        session = db.session
        seed_demo(session)
        admin = factories.staff_user(session, StaffRole.ADMIN, email="editor@courier.example")
        for i in range(12):
            person = factories.supporter(
                session,
                supported_until=now + timedelta(days=200),
                first_supported_at=now - timedelta(days=7 * i),
            )
            factories.donation(
                session,
                supporter_id=person.id,
                email=person.email,
                amount_minor=500 * (i + 1),
                paid_at=now - timedelta(days=30 * i),
                campaign=DEMO_CAMPAIGN_SLUG,
                variant="ab"[i % 2],
                placement="top",
            )
        factories.monthly(session, amount_minor=1000)
        factories.monthly(session, amount_minor=700, status=MonthlyStatus.PAST_DUE)
        factories.counter(
            session, campaign=DEMO_CAMPAIGN_SLUG, impressions=1200, clicks=90, day=now.date()
        )
        session.commit()
        return admin.email


def _shoot(page: Any, name: str) -> None:
    if not SCREENSHOTS:
        return
    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SCREENSHOTS}/{name}-{width}.png", full_page=True)
        page.screenshot(path=f"{SCREENSHOTS}/{name}-{width}-screen.png")
        if name == "campaign-editor":
            page.locator(".variant").first.screenshot(
                path=f"{SCREENSHOTS}/{name}-{width}-variant.png"
            )
    page.set_viewport_size({"width": 1280, "height": 900})


def test_sign_in_read_the_dashboard_edit_a_campaign_and_download_csv(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    email = _seed(live_app)
    base = live_server.url

    page.goto(f"{base}/staff/")
    assert page.url.startswith(f"{base}/staff/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/staff/")

    assert page.get_by_role("heading", name="Dashboard", level=1).is_visible()
    assert page.locator('[data-metric="supporters"]').inner_text() == "12"
    assert page.locator('[data-metric="mrr-eur"]').inner_text().startswith("€10.00")
    assert "1 at risk" in page.locator('[data-metric="at-risk-eur"]').inner_text()
    assert page.locator("svg.chart[role=img]").count() == 2
    _shoot(page, "dashboard")

    page.get_by_role("link", name="Campaigns").click()
    assert page.get_by_role("heading", name=DEMO_CAMPAIGN_SLUG).is_visible()
    assert "1,200" in page.locator("table.funnel").inner_text()
    page.get_by_role("link", name="Edit Winter appeal (demo)").click()
    heading_inputs = page.locator('input[name$="-bottom_heading"]')
    # The live preview is the widget's own box at a phone's and a desktop's width,
    # following the typing, as plain text, with the goal meter and the close button.
    heading_inputs.first.fill(NEW_HEADING + " <b>")
    previews = page.locator(".variant").first.locator('[data-preview-host="bottom"] aside')
    # The widget renders the previews after the page loads (a deferred script): wait for it.
    previews.nth(1).wait_for()
    assert previews.count() == 2
    phone, desktop = previews.nth(0), previews.nth(1)
    for box in (phone, desktop):
        heading = box.get_by_role("heading", level=2)
        assert heading.inner_text() == "Thank you, harbour readers: 12 and counting <b>"
        assert box.locator("b").count() == 0
        assert box.get_by_role("button", name="Close").is_visible()
        assert "12 supporters of our goal of 1,000" in box.inner_text()
    phone_box, desktop_box = phone.bounding_box(), desktop.bounding_box()
    assert phone_box is not None and desktop_box is not None
    assert phone_box["width"] <= 390 < desktop_box["width"]
    # The phone layout (a full-width button) follows the preview's width, not the window's.
    cta = phone.get_by_role("button", name="Join them")
    assert abs(cta.bounding_box()["width"] - phone_box["width"]) < 120
    banner = page.locator(".variant").first.locator('[data-preview-host="banner"] aside')
    banner.nth(1).wait_for(state="attached")
    assert banner.count() == 2 and banner.first.is_visible()
    look = (
        "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).fontFamily,"
        " getComputedStyle(b.querySelector('h2')).color]"
    )
    preview_look = desktop.evaluate(look)
    _shoot(page, "campaign-editor")
    # Both demo variants share the bottom copy; the third, blank variant stays blank.
    for i in range(2):
        heading_inputs.nth(i).fill(NEW_HEADING)
    page.get_by_role("button", name="Save campaign").click()
    assert page.get_by_role("status").inner_text().startswith("Saved Winter appeal (demo)")

    reader = page.context.browser.new_page()
    try:
        reader.goto(f"{base}/demo/article")
        box = reader.locator(BOTTOM)
        box.wait_for()
        assert box.get_by_role("heading").inner_text() == (
            "Thank you, harbour readers: 12 and counting"
        )
        # One source for the box's look: the reader sees what the editor previewed.
        assert box.evaluate(look) == preview_look
    finally:
        reader.close()

    page.goto(f"{base}/staff/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download donations (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("donations-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    assert len(rows) == 12
    assert {r["campaign"] for r in rows} == {DEMO_CAMPAIGN_SLUG}
    assert sorted(int(float(r["amount"])) for r in rows) == [5 * (i + 1) for i in range(12)]
