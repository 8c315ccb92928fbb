"""The widget on /demo/article in a real browser: boxes, Close, donating, targeting, goals."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service.appeals.demo import seed_demo
from service.appeals.models import AppealCounter
from service.core.extensions import db
from tests.live import LiveServer

pytestmark = pytest.mark.browser

# The top box goes into the publisher's placeholder, or further down when that is on the
# first screen (it would push the story down); the bottom one after the article body.
TOP = '[data-support-appeal="top"] aside, [data-support-appeal-slot="top"] aside'
BOTTOM = '[data-support-appeal-slot="bottom"] aside'
SITE = "/api/v1/appeals/site"


@pytest.fixture
def live_app_overrides() -> dict[str, Any]:
    return {"supporter_count_offset": 847}


def seed(app: Flask) -> None:
    with app.app_context():
        seed_demo(db.session)
        db.session.commit()


def wait_for_counters(app: Flask, placement: str) -> tuple[int, int, int]:
    """Today's impressions, clicks and dismissals at a placement, once a beacon arrived."""
    deadline = time.monotonic() + 10
    while True:
        with app.app_context():
            row = db.session.scalars(
                select(AppealCounter).where(AppealCounter.placement == placement)
            ).one_or_none()
            if row is not None or time.monotonic() > deadline:
                assert row is not None, f"no beacon counted for {placement}"
                return row.impressions, row.clicks, row.dismissals
        time.sleep(0.1)


def open_article(page: Any, url: str) -> None:
    """Load the article and wait for the widget's one request (the site document)."""
    with page.expect_response(lambda r: SITE in r.url) as answer:
        page.goto(url)
    assert answer.value.status == 200


def test_both_boxes_show_with_the_live_count(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    seed(live_app)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/v1/appeal" in r.url else None)
    open_article(page, f"{live_server.url}/demo/article")

    top, bottom = page.locator(TOP), page.locator(BOTTOM)
    top.wait_for()
    bottom.wait_for()
    assert top.get_by_role("heading", level=2).inner_text() == "Local news needs your help now"
    assert top.locator("button.cta").inner_text() in {"Contribute", "Chip in"}
    assert bottom.get_by_role("heading").inner_text() == (
        "Readers like you keep these stories free for everyone"
    )
    assert "Already 847 readers like you have stepped up" in bottom.inner_text()
    assert "847 supporters of our goal of 1,000" in bottom.inner_text()
    assert top.get_attribute("data-variant") == bottom.get_attribute("data-variant")
    # The bottom box sits after the article body; the publisher's top placeholder is on
    # the first screen and has no reserved space, so the top box waits further down, at
    # the first paragraph break below the screen, where it pushes nothing in view.
    assert (
        page.evaluate(
            "document.querySelector('[data-article-body]').nextElementSibling"
            ".getAttribute('data-support-appeal-slot')"
        )
        == "bottom"
    )
    assert page.evaluate(
        "(() => { const s = document.querySelector('[data-support-appeal-slot=top]');"
        " return s.parentElement.hasAttribute('data-article-body')"
        " && s.getBoundingClientRect().top >= innerHeight; })()"
    )
    # The host page's loud button and h2 styles do not reach inside the Shadow DOM.
    color = top.get_by_role("heading", level=2).evaluate("h => getComputedStyle(h).color")
    assert color != "rgb(255, 105, 180)"
    # One request before rendering, the same URL for every article and reader.
    # In the page's language (the demo article is en-IE): part of the cached URL.
    assert requests == [f"{live_server.url}{SITE}?lang=en"]


def test_close_hides_a_box_and_it_stays_hidden_after_reload(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    seed(live_app)
    open_article(page, f"{live_server.url}/demo/article")
    bottom = page.locator(BOTTOM)
    bottom.wait_for()
    bottom.get_by_role("button", name="Close").click()
    bottom.wait_for(state="detached")
    assert page.locator(TOP).count() == 1
    until = page.evaluate("Number(localStorage.getItem('rc_dismissed_bottom'))")
    days = (until - page.evaluate("Date.now()")) / 86_400_000
    assert 6.9 < days <= 7

    # The close is counted with the page view's other beacons, sent as the page goes.
    # (A new visit, not a reload: a reload keeps the scroll position at the article's end,
    # where the whole story is on screen and no box could appear without moving it.)
    open_article(page, f"{live_server.url}/demo/article")
    page.locator(TOP).wait_for()
    assert page.locator(BOTTOM).count() == 0
    assert wait_for_counters(live_app, "bottom") == (1, 0, 1)


def test_keyboard_opens_the_amount_picker_and_focus_follows(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    seed(live_app)
    open_article(page, f"{live_server.url}/demo/article")
    top = page.locator(TOP)
    cta = top.locator("button.cta")
    cta.focus()
    page.keyboard.press("Enter")
    picker = top.locator("form.picker")
    picker.wait_for()
    assert cta.get_attribute("aria-expanded") == "true"
    # Focus lands on the first choice (how often), then Tab reaches the amounts.
    assert picker.locator("input:focus").get_attribute("value") == "monthly"
    page.keyboard.press("Tab")
    assert picker.locator("input:focus").get_attribute("value") == "1000"  # €10 a month
    page.keyboard.press("ArrowRight")
    assert picker.locator("input:focus").get_attribute("value") == "2000"
    top.get_by_text("Once-off", exact=True).click()
    assert top.get_by_role("radio", name="€25").is_checked()
    other = top.get_by_label("Other amount in EUR")
    box = other.bounding_box()
    assert box is not None and box["width"] > 40  # visible, not a hidden radio's style
    other.fill("0")
    top.get_by_role("button", name="Continue to payment").click()
    assert top.get_by_role("alert").inner_text() == "Please choose or enter an amount."


def test_an_excluded_section_shows_no_appeal(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    seed(live_app)
    with page.expect_response(lambda r: SITE in r.url) as answer:
        page.goto(f"{live_server.url}/demo/article?section=tragedy")
    assert answer.value.json()["campaigns"][0]["exclude_sections"] == ["tragedy"]
    page.wait_for_load_state("networkidle")
    assert page.locator("aside").count() == 0
    assert page.get_by_role("heading", level=1).inner_text().startswith("Tributes paid")


class TestGoalReached:
    @pytest.fixture
    def live_app_overrides(self) -> dict[str, Any]:
        return {"supporter_count_offset": 1003}

    def test_reaching_the_goal_says_thank_you(
        self, live_app: Flask, live_server: LiveServer, page: Any
    ) -> None:
        seed(live_app)
        open_article(page, f"{live_server.url}/demo/article")
        top = page.locator(TOP)
        top.wait_for()
        assert top.get_by_role("heading").inner_text() == "We reached 1,000 supporters. Thank you!"
        text = top.inner_text()
        assert "With over 1,000 readers behind it, The Harbour Courier stays free" in text
        assert "Goal of 1,000 supporters reached" in top.inner_text()


def test_a_donation_from_the_widget_returns_with_thanks_and_no_more_appeals(
    sandbox_live_app: Flask, sandbox_server: LiveServer, page: Any
) -> None:
    seed(sandbox_live_app)
    article = f"{sandbox_server.url}/demo/article"
    open_article(page, article)
    top = page.locator(TOP)
    top.locator("button.cta").click()
    # Readers click the visible labels; the radio buttons themselves are visually hidden.
    top.get_by_text("Once-off", exact=True).click()
    top.get_by_text("€10", exact=True).click()
    assert top.get_by_role("radio", name="€10").is_checked()
    top.get_by_role("button", name="Continue to payment").click()

    page.wait_for_url("**/c/pay/**")
    page.get_by_label("Email").fill("reader@example.com")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry date").fill("12 / 34")
    page.get_by_label("Security code (CVC)").fill("123")
    # Stripe brings the reader to our thank-you, which sends them straight back with the
    # signed pass in the fragment; the widget keeps it and takes it out of the address bar.
    with page.expect_response(lambda r: "/support/thank-you?" in r.url) as returned:
        page.get_by_role("button", name="Donate").click()
    assert returned.value.status == 303
    assert returned.value.headers["location"].startswith(f"{article}#rc_pass=")

    thanks = page.locator("aside[data-thanks]")
    thanks.wait_for()
    assert "Thank you for supporting us" in thanks.inner_text()
    assert page.url == article  # nothing of the pass or the session is left in the address
    assert page.locator("aside:not([data-thanks])").count() == 0
    assert page.evaluate("localStorage.getItem('rc_pass')").count(".") == 1

    appeal_requests: list[str] = []
    page.on("request", lambda r: appeal_requests.append(r.url) if "/api/v1/" in r.url else None)
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.locator("aside").count() == 0
    # Only the site document (the same cached one; a campaign may target supporters).
    assert appeal_requests == [f"{sandbox_server.url}/api/v1/appeals/site?lang=en"]


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "body": '{"code": 500}'},
        {"status": 200, "body": "<html>not json</html>"},
        {"status": 200, "body": '{"top": {"show": true}, "bottom": null}'},
        {"status": 200, "body": '{"available": true, "campaigns": [{"slug": 1}]}'},
        {"status": 200, "body": '{"available": true, "campaigns": [null], "supporters": 3}'},
    ],
)
def test_a_broken_answer_never_breaks_the_publishers_page(
    live_app: Flask, live_server: LiveServer, page: Any, answer: dict[str, Any]
) -> None:
    seed(live_app)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route(
        f"**{SITE}**",
        lambda route: route.fulfill(content_type="application/json", **answer),
    )
    with page.expect_response(lambda r: SITE in r.url):
        page.goto(f"{live_server.url}/demo/article")
    page.wait_for_load_state("networkidle")
    assert errors == []
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.locator("aside").count() == 0


def test_a_retried_donation_sends_the_same_idempotency_key(
    live_app: Flask, live_server: LiveServer, page: Any
) -> None:
    seed(live_app)
    keys: list[str | None] = []

    def answer_502(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        route.fulfill(status=502, json={"code": 502, "message": "Stripe is away"})

    page.route("**/api/v1/checkout", answer_502)
    open_article(page, f"{live_server.url}/demo/article")
    top = page.locator(TOP)
    top.locator("button.cta").click()
    go = top.get_by_role("button", name="Continue to payment")

    def donate() -> None:
        sent = len(keys)
        go.click()
        deadline = time.monotonic() + 15
        while len(keys) == sent and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert len(keys) == sent + 1
        # The failure is shown and the button is back for another try.
        top.get_by_role("button", name="Continue to payment").wait_for()

    donate()
    donate()  # the same gift again: a retry
    top.get_by_text("Once-off", exact=True).click()  # a different gift: a new attempt
    donate()

    assert len(keys) == 3
    assert keys[0] and keys[0] == keys[1]
    assert keys[2] and keys[2] != keys[0]
    assert all(len(key or "") == 36 for key in keys)
