"""A reader gives through a real browser: support page → sandbox Checkout → thank-you.

The Stripe sandbox (a test double of Stripe) serves the hosted checkout and portal
pages; the service is served over HTTP and receives the sandbox's webhooks.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from service.core.dev_mailbox import MailCapture
from service.ledger.models import AttemptStatus, Donation, DonationStatus
from tests.conftest import drain_jobs
from tests.donations.helpers import only_attempt, sandbox_sessions
from tests.live import LiveServer, reserve_port

pytestmark = pytest.mark.browser

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


def _pay(page: Any, card: str, email: str = "reader@example.com") -> None:
    """Fill in the sandbox's hosted checkout page the way a reader would."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry date").fill("12 / 34")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name="Donate").or_(page.get_by_role("button", name="Subscribe")).or_(
        page.get_by_role("button", name="Pay")
    ).first.click()


def _give_monthly(page: Any, server: LiveServer, sandbox: Any) -> None:
    page.goto(f"{server.url}/support")
    page.get_by_text("Monthly", exact=True).click()
    page.get_by_text("€10 a month", exact=True).click()
    button = page.get_by_role("button", name="Give €10 a month")
    button.click()
    page.wait_for_url(f"{sandbox.url}/**")
    _pay(page, GOOD_CARD)
    page.wait_for_url(f"{server.url}/support/thank-you?session_id=*")


def test_monthly_gift_from_support_page_to_thank_you(
    sandbox_server: LiveServer, sandbox: Any, page: Any, engine: Engine
) -> None:
    _give_monthly(page, sandbox_server, sandbox)

    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    assert page.locator("[data-gift-amount]").inner_text() == "€10.00 a month"
    # The signed pass, kept for this origin's widget; no unsigned flag, no cookie.
    assert page.evaluate("window.localStorage.getItem('rc_pass')").count(".") == 1
    assert "rc_supporter" not in {c["name"] for c in page.context.cookies()}
    assert page.get_by_role("link", name="Manage my monthly gift").is_visible()
    attempt = only_attempt(engine)
    assert attempt["status"] in {AttemptStatus.SESSION_CREATED.value, AttemptStatus.COMPLETED.value}
    assert (attempt["frequency"], attempt["amount_minor"]) == ("monthly", 1000)
    [subscription] = sandbox.state.objects("subscription")
    assert subscription["status"] == "active"
    assert subscription["metadata"]["checkout_attempt"] == attempt["public_id"]


def test_one_off_gift_with_a_custom_amount(
    sandbox_server: LiveServer, sandbox: Any, page: Any, engine: Engine
) -> None:
    page.goto(f"{sandbox_server.url}/support")
    page.get_by_text("Once-off", exact=True).click()
    page.get_by_label("Or enter your own amount").fill("12.50")
    page.get_by_role("button", name="Give €12.50 once").click()
    page.wait_for_url(f"{sandbox.url}/**")
    _pay(page, GOOD_CARD)
    page.wait_for_url(f"{sandbox_server.url}/support/thank-you?session_id=*")

    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    assert page.locator("[data-gift-amount]").inner_text() == "€12.50"
    assert page.get_by_role("link", name="Manage my monthly gift").count() == 0
    assert page.evaluate("window.localStorage.getItem('rc_pass')").count(".") == 1
    attempt = only_attempt(engine)
    assert (attempt["frequency"], attempt["amount_minor"]) == ("one_off", 1250)
    [intent] = sandbox.state.objects("payment_intent")
    assert intent["status"] == "succeeded"


def test_a_declined_card_shows_the_decline_and_records_no_donation(
    sandbox_server: LiveServer, sandbox: Any, page: Any, engine: Engine
) -> None:
    page.goto(f"{sandbox_server.url}/support")
    page.get_by_text("Once-off", exact=True).click()
    page.get_by_role("button", name="Give €25 once").click()
    page.wait_for_url(f"{sandbox.url}/**")

    _pay(page, DECLINED_CARD)

    assert page.get_by_role("alert").inner_text() == "Your card was declined."
    assert page.url.startswith(sandbox.url)
    sandbox.webhooks.wait_idle(timeout=5)
    [stripe_session] = sandbox_sessions(sandbox)
    assert stripe_session["status"] == "open"
    attempt = only_attempt(engine)
    assert attempt["status"] == AttemptStatus.SESSION_CREATED.value
    with engine.connect() as connection:
        succeeded = connection.scalar(
            select(func.count())
            .select_from(Donation)
            .where(Donation.status == DonationStatus.SUCCEEDED)
        )
    assert succeeded == 0
    # Coming back with the session id (say, by editing the URL) proves nothing.
    page.goto(f"{sandbox_server.url}/support/thank-you?session_id={stripe_session['id']}")
    assert page.get_by_role("heading", level=1).inner_text() == "Your payment isn't complete"
    assert page.evaluate("window.localStorage.getItem('rc_pass')") is None


@pytest.fixture
def mailbox() -> Iterator[MailCapture]:
    with MailCapture(port=reserve_port()) as capture:
        yield capture


@pytest.fixture
def live_app_overrides(mailbox: MailCapture) -> dict[str, Any]:
    return {"smtp_url": mailbox.smtp_url}


def test_a_monthly_supporter_signs_in_by_email_and_cancels_in_the_portal(
    sandbox_server: LiveServer, sandbox: Any, page: Any, sandbox_live_app: Any, mailbox: MailCapture
) -> None:
    _give_monthly(page, sandbox_server, sandbox)

    page.get_by_role("link", name="Manage my monthly gift").click()
    page.get_by_label("Email").fill("reader@example.com")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    sandbox.webhooks.wait_idle(timeout=5)
    drain_jobs(sandbox_live_app)
    [link] = [
        link
        for mail in mailbox.messages()
        if mail.subject.startswith("Your sign-in link")
        for link in mail.links
    ]
    page.goto(link)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Your gifts").wait_for()
    page.get_by_role("button", name="Change amount or card, or cancel").click()
    page.wait_for_url(f"{sandbox.url}/p/session/**")
    page.get_by_role("button", name="Cancel monthly donation").click()

    page.get_by_role("button", name="Don't cancel").wait_for()
    [subscription] = sandbox.state.objects("subscription")
    assert subscription["cancel_at_period_end"] is True
    page.get_by_role("button", name="End now").click()
    page.get_by_text("Ended on").wait_for()
    [subscription] = sandbox.state.objects("subscription")
    assert subscription["status"] == "canceled"
    page.get_by_role("link", name="Return to").first.click()
    page.wait_for_url(f"{sandbox_server.url}/support/manage")


def test_giving_works_without_javascript(
    sandbox_server: LiveServer, sandbox: Any, browser: Any
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{sandbox_server.url}/support")
        page.get_by_text("Once-off", exact=True).click()
        page.get_by_text("€50", exact=True).click()
        page.get_by_role("button", name="Continue to secure payment").click()
        page.wait_for_url(f"{sandbox.url}/**")
        _pay(page, GOOD_CARD)
        page.wait_for_url(f"{sandbox_server.url}/support/thank-you?session_id=*")
        assert page.locator("[data-gift-amount]").inner_text() == "€50.00"
        assert page.locator("[data-supporter-pass]").count() == 1
    finally:
        context.close()


def test_amount_problems_are_announced_before_anything_is_sent(
    sandbox_server: LiveServer, sandbox: Any, page: Any
) -> None:
    page.goto(f"{sandbox_server.url}/support")
    page.get_by_label("Or enter your own amount").fill("0.50")
    page.get_by_role("button", name="Continue to secure payment").click()

    assert page.get_by_role("alert").inner_text() == "The smallest gift is €1.00."
    assert page.get_by_label("Or enter your own amount").get_attribute("aria-invalid") == "true"
    assert page.url == f"{sandbox_server.url}/support"
    assert sandbox_sessions(sandbox) == []


def test_the_form_works_from_the_keyboard_on_a_phone(
    sandbox_server: LiveServer, sandbox: Any, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{sandbox_server.url}/support")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_role("radio", name="Monthly").focus()
        page.keyboard.press("ArrowDown")  # to Once-off
        assert page.get_by_role("radio", name="Once-off").is_checked()
        focused = page.evaluate(
            "getComputedStyle(document.activeElement.closest('label')).outlineStyle"
        )
        assert focused != "none"
        page.get_by_label("Or enter your own amount").focus()
        page.keyboard.type("15")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{sandbox.url}/**")
        [stripe_session] = sandbox_sessions(sandbox)
        assert (stripe_session["mode"], stripe_session["amount_total"]) == ("payment", 1500)
    finally:
        context.close()
