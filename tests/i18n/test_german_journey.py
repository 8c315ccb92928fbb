"""A reader on a German-language publisher's page gives through the widget, in German,
from the appeal to the email, on `make run`'s own server (sandbox and mailbox included).

Screenshots of each step go to $SHOTS_DIR (default /tmp/shots/i18n).
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.donations.test_devserver_sandbox import (  # noqa: F401  (fixtures)
    DevServer,
    devserver,
    devserver_env,
)

pytestmark = pytest.mark.browser

TOP = '[data-support-appeal="top"] aside, [data-support-appeal-slot="top"] aside'
SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots/i18n"))


def _json(url: str) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return json.loads(response.read())


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.mark.parametrize(
    "devserver_env", [{"DEFAULT_CURRENCY": "gbp", "SUPPORTER_COUNT_OFFSET": "847"}]
)
def test_a_german_reader_gives_in_pounds_and_everything_speaks_german(
    devserver: DevServer,  # noqa: F811  (the fixture imported above)
    page: Any,
) -> None:
    article = f"{devserver.base}/demo/article?lang=de"
    with page.expect_response(lambda r: "/api/v1/appeals/site?lang=de" in r.url) as answer:
        page.goto(article)
    assert answer.value.status == 200
    assert page.evaluate("document.documentElement.lang") == "de"

    # The appeal: the newsroom's German copy, the count as German readers write it.
    top = page.locator(TOP)
    top.wait_for()
    top.scroll_into_view_if_needed()
    assert top.get_by_role("heading", level=2).inner_text() == (
        "Lokaljournalismus braucht jetzt Ihre Hilfe"
    )
    cta = top.locator("button.cta")
    assert cta.inner_text() in {"Beitragen", "Jetzt helfen"}
    _shot(page, "1-appeal")

    # The picker: German words, pound amounts written the German way.
    cta.click()
    assert top.get_by_text("Wie oft?").is_visible()
    assert top.get_by_text("Monatlich", exact=True).is_visible()
    top.get_by_text("Monatlich", exact=True).click()
    top.get_by_text("10\u00a0£", exact=True).click()
    assert top.get_by_role("radio", name="10\u00a0£").is_checked()
    assert (
        top.get_by_role("textbox", name="Anderer Betrag in GBP").count()
        + top.get_by_role("spinbutton", name="Anderer Betrag in GBP").count()
        == 1
    )
    _shot(page, "2-picker")
    top.get_by_role("button", name="Weiter zur Zahlung").click()

    # Stripe's page (the sandbox stands in for it), asked for in German: paid in pounds.
    page.wait_for_url("**/c/pay/**")
    assert page.evaluate("document.documentElement.lang") == "de"
    assert "Monatliche Spende" in page.locator("h1").inner_text()
    assert "10,00\u00a0£" in page.locator(".amount").inner_text()
    email = "leserin@example.com"
    page.get_by_label("E-Mail").fill(email)
    page.get_by_label("Kartennummer").fill("4242 4242 4242 4242")
    page.get_by_label("Ablaufdatum").fill("12 / 34")
    page.get_by_label("Prüfnummer (CVC)").fill("123")
    _shot(page, "3-sandbox-checkout")
    # Stripe brings the reader to our thank-you, in German (?lang=de), which sends them
    # straight back to the article with the supporter pass in the fragment.
    with page.expect_response(lambda r: "/support/thank-you?" in r.url) as returned:
        page.get_by_role("button", name="Abonnieren 10,00\u00a0£").click()
    assert returned.value.status == 303
    assert "lang=de" in returned.value.url
    assert returned.value.headers["location"].startswith(f"{article}#rc_pass=")

    # Back on the article: the widget's thank-you, in German.
    thanks = page.locator("aside[data-thanks]")
    thanks.wait_for()
    thanks.scroll_into_view_if_needed()
    text = thanks.inner_text()
    assert "Vielen Dank für Ihre Unterstützung" in text
    assert "Ihre Spende hält unsere Berichterstattung für alle frei zugänglich" in text
    _shot(page, "4-thank-you-on-the-article")

    # The service's own thank-you page for the same checkout, in the reader's language.
    session_id = returned.value.url.split("session_id=", 1)[1].split("&", 1)[0]
    page.goto(f"{devserver.base}/support/thank-you?session_id={session_id}&lang=de")
    assert page.locator("h1").inner_text() == "Vielen Dank"
    assert "10,00\u00a0£ im Monat" in page.locator("[data-gift-amount]").inner_text()
    _shot(page, "5-thank-you-page")

    # The receipt, from make run's mailbox: German, in pounds.
    deadline = time.monotonic() + 20
    mails: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        mails = [m for m in _json(f"{devserver.base}/dev/mailbox.json") if email in m["to"]]
        if mails:
            break
        time.sleep(0.2)
    (receipt,) = mails
    assert receipt["subject"] == "Danke, dass Sie The Harbour Courier unterstützen: Ihre Quittung"
    assert "Vielen Dank. Ihre monatliche Spende hält unsere Berichterstattung" in receipt["text"]
    assert "Betrag: 10,00\u00a0£ im Monat" in receipt["text"]
    page.goto(f"{devserver.base}/dev/mailbox")
    _shot(page, "6-receipt-in-the-mailbox")
