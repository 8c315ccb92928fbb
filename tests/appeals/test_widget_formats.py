"""The widget's formats, caps and targeting in Chromium, on the demo article."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from bench.layout_shift import DESKTOP, GOOD_CLS, PHONE, measure_layout_shift
from service.appeals.demo import demo_campaign_input
from service.appeals.editing import create_campaign
from service.core.extensions import db
from service.core.models import utcnow
from service.readers.passes import mint
from tests.live import LiveServer

pytestmark = pytest.mark.browser

SITE = "/api/v1/appeals/site"
BANNER = '[data-support-appeal-slot="banner"] aside'
HEADER_BUTTON = '[data-support-appeal="header"] button[data-placement="header"]'
INLINE = "[data-support-appeal-slot] aside[data-placement]"


@pytest.fixture
def live_app_overrides() -> dict[str, Any]:
    return {"supporter_count_offset": 847}


def seed(app: Flask, **changes: Any) -> None:
    """The demo campaign, with some of its settings changed."""
    with app.app_context():
        create_campaign(db.session, replace(demo_campaign_input(), **changes))
        db.session.commit()


def visit(page: Any, url: str, **goto: Any) -> None:
    """Open a page and wait until the widget has decided (its one request answered)."""
    with page.expect_response(lambda r: SITE in r.url):
        page.goto(url, **goto)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(200)


def phone_page(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_the_banner_sits_over_the_page_on_a_third_of_a_phone_and_closes_from_the_keyboard(
    live_app: Flask, live_server: LiveServer, browser: Any
) -> None:
    seed(live_app)
    page = phone_page(browser)
    try:
        visit(page, f"{live_server.url}/demo/article?format=banner")
        banner = page.locator(BANNER)
        banner.wait_for()
        assert page.locator(INLINE).count() == 1  # only the banner, no inline boxes
        box = banner.bounding_box()
        assert box is not None
        assert box["height"] <= PHONE["height"] / 3
        assert abs(box["y"] + box["height"] - PHONE["height"]) < 1  # at the bottom
        assert banner.evaluate("b => getComputedStyle(b.parentElement).position") == "fixed"
        heading = banner.get_by_role("heading", level=2)
        assert heading.inner_text() == "Keep Port Carrig's news free for everyone"
        assert "847 readers already chip in" in banner.inner_text()
        # A labelled landmark, reachable and closable with the keyboard.
        assert banner.evaluate("b => b.getAttribute('aria-labelledby')") == heading.evaluate(
            "h => h.id"
        )
        banner.get_by_role("button", name="Support us").focus()
        page.keyboard.press("Escape")
        banner.wait_for(state="detached")
        assert page.evaluate("Number(localStorage.getItem('rc_dismissed_banner'))") > 0
    finally:
        page.context.close()


def test_the_banner_opens_the_amount_picker(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    seed(live_app)
    visit(page, f"{live_server.url}/demo/article?format=banner")
    banner = page.locator(BANNER)
    banner.get_by_role("button", name="Support us").click()
    banner.get_by_role("button", name="Continue to payment").wait_for()
    assert banner.get_by_role("radio", name="€10").is_checked()  # €10 a month


def test_the_header_button_opens_a_panel_and_escape_closes_it(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    seed(live_app)
    visit(page, f"{live_server.url}/demo/article?format=header")
    button = page.locator(HEADER_BUTTON)
    button.wait_for()
    assert button.inner_text() == "Support us"
    assert page.locator(INLINE).count() == 0
    # In the masthead, on the first screen.
    box = button.bounding_box()
    assert box is not None and box["y"] < 120
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    panel = page.locator('[data-support-appeal="header"] aside')
    panel.wait_for()
    assert button.get_attribute("aria-expanded") == "true"
    assert panel.get_by_role("heading").inner_text() == "Support The Harbour Courier"
    panel.get_by_role("button", name="Continue to payment").wait_for()
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    assert button.evaluate("b => b.getRootNode().activeElement === b")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("fmt", ["banner", "header"])
def test_banner_and_header_cause_no_layout_shift(
    live_app: Flask, live_server: LiveServer, browser: Any, viewport: Any, fmt: str
) -> None:
    seed(live_app)
    result = measure_layout_shift(browser, f"{live_server.url}/demo/article?format={fmt}", viewport)
    assert result.boxes == [fmt]
    assert result.cls <= GOOD_CLS, result.shifts


def test_a_view_cap_stops_the_campaign_for_this_reader(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    seed(live_app, max_views=2, views_days=30)
    url = f"{live_server.url}/demo/article?format=banner"
    for _ in range(2):
        visit(page, url)
        page.locator(BANNER).wait_for()
    visit(page, url)
    assert page.locator(BANNER).count() == 0
    views = page.evaluate("JSON.parse(localStorage.getItem('rc_views'))")
    assert len(views["harbour-courier-winter-appeal"]) == 2


class TestCloses:
    @pytest.fixture
    def live_app_overrides(self) -> dict[str, Any]:
        # Closing hides nothing by itself here: only the campaign's cap stops it.
        return {"supporter_count_offset": 847, "dismiss_days": 0}

    def test_closing_it_twice_stops_the_campaign(
        self, live_app: Flask, live_server: LiveServer, page: Any
    ) -> None:
        seed(live_app, max_dismissals=2)
        url = f"{live_server.url}/demo/article?format=banner"
        for _ in range(2):
            visit(page, url)
            page.locator(BANNER).get_by_role("button", name="Close").click()
        visit(page, url)
        assert page.locator(BANNER).count() == 0
        assert page.evaluate("JSON.parse(localStorage.getItem('rc_closes'))") == {
            "harbour-courier-winter-appeal": 2
        }


def test_device_targeting(live_app: Flask, live_server: LiveServer, browser: Any) -> None:
    seed(live_app, devices=("phone",))
    url = f"{live_server.url}/demo/article?format=banner"
    phone = phone_page(browser)
    desktop = browser.new_context(viewport=DESKTOP).new_page()
    try:
        visit(phone, url)
        phone.locator(BANNER).wait_for()
        visit(desktop, url)
        assert desktop.locator(BANNER).count() == 0
    finally:
        phone.context.close()
        desktop.context.close()


def test_referrer_targeting(live_app: Flask, live_server: LiveServer, page: Any) -> None:
    seed(live_app, referrers=("newsletter", "search"))
    url = f"{live_server.url}/demo/article?format=banner"
    visit(page, url)  # direct
    assert page.locator(BANNER).count() == 0
    visit(page, url + "&utm_medium=email")
    page.locator(BANNER).wait_for()
    visit(page, url, referer="https://www.google.com/")
    page.locator(BANNER).wait_for()
    visit(page, url, referer="https://www.facebook.com/")
    assert page.locator(BANNER).count() == 0


def test_country_targeting(live_app: Flask, live_server: LiveServer, page: Any) -> None:
    seed(live_app, countries=("IE",))
    url = f"{live_server.url}/demo/article?format=banner"
    visit(page, url)  # the page does not say
    assert page.locator(BANNER).count() == 0
    visit(page, url + "&country=FR")
    assert page.locator(BANNER).count() == 0
    visit(page, url + "&country=ie")
    page.locator(BANNER).wait_for()


def test_donor_state_targeting(live_app: Flask, live_server: LiveServer, page: Any) -> None:
    seed(live_app, donor_states=("current",))
    url = f"{live_server.url}/demo/article?format=banner"
    visit(page, url)
    assert page.locator(BANNER).count() == 0
    with live_app.app_context():
        settings = live_app.extensions["settings"]
        token = mint(settings, "s:1", utcnow() + timedelta(days=30))
    # A tampered pass (the date pushed on) is ignored: still no supporter.
    body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    forged = base64.urlsafe_b64encode(json.dumps(claims | {"until": 4_000_000_000}).encode())
    page.evaluate("t => localStorage.setItem('rc_pass', t)", f"{forged.decode()}.{signature}")
    visit(page, url)
    page.wait_for_load_state("networkidle")
    assert page.locator(BANNER).count() == 0
    assert page.evaluate("localStorage.getItem('rc_pass')") is None
    page.evaluate("t => localStorage.setItem('rc_pass', t)", token)  # a pass the service signed
    visit(page, url)
    page.locator(BANNER).wait_for()


def test_a_lapsed_donor_campaign_reaches_lapsed_donors_only(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    seed(live_app, donor_states=("lapsed",))
    url = f"{live_server.url}/demo/article?format=banner"
    visit(page, url + "&donor_state=never")
    assert page.locator(BANNER).count() == 0
    visit(page, url + "&donor_state=lapsed")
    page.locator(BANNER).wait_for()


HOSTILE = """
// A page that breaks what it can before the widget runs.
Object.defineProperty(window, "localStorage", { get() { throw new Error("blocked"); } });
window.IntersectionObserver = undefined;
navigator.sendBeacon = () => { throw new Error("no beacons"); };
window.CSSStyleSheet = undefined;
Array.prototype.includes = () => { throw new Error("broken prototype"); };
"""


def test_a_hostile_page_gets_no_error_from_the_widget(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    seed(live_app)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(HOSTILE)
    visit(page, f"{live_server.url}/demo/article?format=banner")
    page.locator(BANNER).wait_for()
    page.locator(BANNER).get_by_role("button", name="Close").click()
    page.evaluate("window.dispatchEvent(new Event('pagehide'))")
    page.wait_for_timeout(200)
    assert errors == []
