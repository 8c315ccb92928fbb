"""Zero layout shift: the widget's boxes move nothing the reader sees on /demo/article."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from bench.layout_shift import DESKTOP, GOOD_CLS, PHONE, measure_layout_shift
from service.appeals.demo import seed_demo
from service.core.extensions import db
from tests.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("placeholders", ["", "?placeholders=none"], ids=["placeholder", "none"])
def test_the_boxes_cause_no_layout_shift(
    live_app: Flask, live_server: LiveServer, browser: Any, viewport: Any, placeholders: str
) -> None:
    with live_app.app_context():
        seed_demo(db.session)
        db.session.commit()
    url = f"{live_server.url}/demo/article{placeholders}"
    result = measure_layout_shift(browser, url, viewport)
    # Both boxes are there (below the first screen), and nothing on screen moved for them.
    assert result.boxes == ["bottom", "top"]
    assert result.cls <= GOOD_CLS, result.shifts
