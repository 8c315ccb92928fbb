"""Staff change a campaign's asks in the editor; readers see them, in pounds on request.

Screenshots go to ASKS_SCREENSHOTS (default /tmp/shots/asks; never in git).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.appeals.demo import seed_demo
from service.core.extensions import db
from service.staff.models import StaffRole
from tests.live import LiveServer
from tests.staff import factories
from tests.staff.factories import PASSWORD

pytestmark = pytest.mark.browser

TOP = '[data-support-appeal="top"] aside, [data-support-appeal-slot="top"] aside'
SITE = "/api/v1/appeals/site"
CACHE_SECONDS = 3
SHOTS = Path(os.environ.get("ASKS_SCREENSHOTS", "/tmp/shots/asks"))


@pytest.fixture
def live_app_overrides() -> dict[str, Any]:
    return {"supporter_count_offset": 847, "appeal_cache_seconds": CACHE_SECONDS}


def _shoot(page: Any, name: str, target: Any = None) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    (target or page).screenshot(path=str(SHOTS / f"{name}.png"))


def _amounts(box: Any) -> list[str]:
    labels = box.locator("form.picker .opts").nth(1).locator("label span")
    return [labels.nth(i).inner_text() for i in range(labels.count())]


def _open_picker(reader: Any, url: str) -> Any:
    with reader.expect_response(lambda r: SITE in r.url):
        reader.goto(url)
    top = reader.locator(TOP)
    button = top.get_by_role("button", name="Contribute")
    button.or_(top.get_by_role("button", name="Chip in")).click()
    top.locator("form.picker").wait_for()
    return top


def test_staff_change_the_asks_and_a_reader_sees_them_in_pounds(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    with live_app.app_context():
        seed_demo(db.session)
        admin = factories.staff_user(db.session, StaffRole.ADMIN, email="asks@courier.example")
        db.session.commit()
        email = admin.email
    base = live_server.url
    reader = page.context.browser.new_page()
    try:
        # Before: the defaults, in euros (the site's currency; no country given).
        top = _open_picker(reader, f"{base}/demo/article")
        assert _amounts(top) == ["€5", "€10", "€20"]
        assert top.get_by_role("radio", name="€10").is_checked()

        page.goto(f"{base}/staff/sign-in")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/staff/")
        page.goto(f"{base}/staff/campaigns")
        page.get_by_role("link", name="Edit Winter appeal (demo)").click()
        # Both demo variants get the same new asks, in euros and in pounds.
        new_asks = (("eur", "4, 8*, 15", "12, 30*, 60"), ("gbp", "3, 7*, 12", "10, 25*, 50"))
        for variant in range(2):
            for currency, monthly, once in new_asks:
                v = page.locator(f'.variant[data-variant-index="{variant}"]')
                asks = v.locator(f'[data-asks-currency="{currency}"]')
                asks.get_by_label("Set this variant's own asks").check()
                asks.get_by_label("Monthly amounts").fill(monthly)
                asks.get_by_label("Once-off amounts").fill(once)
                asks.get_by_label("Yearly", exact=True).uncheck()
        _shoot(page, "editor-asks", page.locator('.variant[data-variant-index="0"] [data-asks]'))
        # One bad amount first: refused with a message, nothing saved.
        bad = page.locator('.variant[data-variant-index="0"] [data-asks-currency="gbp"]')
        bad.get_by_label("Monthly amounts").fill("0.20, 7*, 12")
        page.get_by_role("button", name="Save campaign").click()
        refusal = page.get_by_role("alert").first
        assert "below the minimum" in page.locator("div.error").inner_text()
        _shoot(page, "editor-refused", refusal)
        bad = page.locator('.variant[data-variant-index="0"] [data-asks-currency="gbp"]')
        bad.get_by_label("Monthly amounts").fill("3, 7*, 12")
        page.get_by_role("button", name="Save campaign").click()
        assert page.get_by_role("status").inner_text().startswith("Saved Winter appeal (demo)")
        saved_at = time.monotonic()

        # Within the cache time the reader's next page view offers the new asks.
        deadline = saved_at + CACHE_SECONDS + 10
        while True:
            top = _open_picker(reader, f"{base}/demo/article")
            shown = _amounts(top)
            if shown == ["€4", "€8", "€15"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert shown == ["€4", "€8", "€15"]
        assert top.get_by_role("radio", name="€8").is_checked()
        frequencies = top.locator("form.picker .opts").first.locator("label span")
        assert [frequencies.nth(i).inner_text() for i in range(frequencies.count())] == [
            "Monthly",
            "Once-off",
        ]
        _shoot(reader, "widget-eur-after-edit", top)

        # The reader switches to pounds: £ asks, the fee cover in pounds, and it sticks.
        top.get_by_label("Currency").select_option("gbp")
        assert _amounts(top) == ["£3", "£7", "£12"]
        assert top.get_by_role("radio", name="£7").is_checked()
        assert "Add £0.31 to cover the processing fees" in top.locator("label.cover").inner_text()
        top.get_by_text("Once-off", exact=True).click()
        assert _amounts(top) == ["£10", "£25", "£50"]
        _shoot(reader, "widget-gbp", top)
        again = _open_picker(reader, f"{base}/demo/article")
        assert _amounts(again) == ["£3", "£7", "£12"]

        # A reader in Britain (the page says so) starts in pounds without choosing.
        fresh = page.context.browser.new_page()
        try:
            british = _open_picker(fresh, f"{base}/demo/article?country=GB")
            assert _amounts(british) == ["£3", "£7", "£12"]
        finally:
            fresh.close()

        # /support in pounds, from the currency switch.
        reader.goto(f"{base}/support")
        reader.get_by_label("Currency").select_option("gbp")
        reader.wait_for_url("**currency=gbp**")
        assert reader.get_by_role("radio", name="£10 a month").is_checked()
        _shoot(reader, "support-gbp")
    finally:
        reader.close()
