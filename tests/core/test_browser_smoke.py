"""The support page renders in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_support_page_renders_in_chromium(live_server: LiveServer, page: Any) -> None:
    page.goto(f"{live_server.url}/support")
    assert page.get_by_role("heading", level=1).inner_text() == "We can't do this without you"
    # With nobody counted yet the page invites rather than announcing "0 readers".
    assert page.locator("[data-supporter-count-zero]").inner_text() == (
        "Be one of the first readers to support us."
    )
