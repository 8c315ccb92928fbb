"""Cumulative Layout Shift of an article page with the widget, measured in Chromium.

Used by the browser test that guards it (tests/appeals/test_layout_shift.py) and by
`make bench`, which writes the numbers into bench/RESULTS.md.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
GOOD_CLS = 0.01

# Registered before any page script runs, so every shift from the first paint is seen.
_OBSERVE = """
window.__cls = 0;
window.__shifts = [];
new PerformanceObserver(list => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    window.__cls += entry.value;
    window.__shifts.push(entry.value);
  }
}).observe({type: "layout-shift", buffered: true});
"""


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless (CHROMIUM_PATH overrides where it is)."""
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        raise RuntimeError("Chromium is needed: install Debian's chromium or set CHROMIUM_PATH")
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)


# The placements of the boxes the widget rendered (inside its shadow roots).
_BOXES = (
    "[...document.querySelectorAll('[data-support-appeal],[data-support-appeal-slot]')]"
    ".flatMap(s => s.shadowRoot ? [...s.shadowRoot.querySelectorAll('[data-placement]')]"
    ".map(b => b.dataset.placement) : [])"
)


@dataclass(frozen=True)
class LayoutShift:
    cls: float
    shifts: list[float]
    boxes: list[str]  # data-placement of each box the widget rendered


def measure_layout_shift(browser: Any, url: str, viewport: dict[str, int]) -> LayoutShift:
    """Load url in a fresh context at this viewport; CLS once the widget has rendered."""
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.add_init_script(_OBSERVE)
        with page.expect_response(lambda r: "/api/v1/appeals/site" in r.url):
            page.goto(url)
        page.wait_for_load_state("networkidle")
        # On a busy machine the boxes may come a little after the answer: wait for one
        # (a page that shows none simply waits the five seconds).
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(_BOXES + ".length > 0", timeout=5_000)
        # Let the boxes' entrance animation and any late layout settle.
        page.wait_for_timeout(600)
        cls = float(page.evaluate("window.__cls"))
        shifts = [float(v) for v in page.evaluate("window.__shifts")]
        boxes = page.evaluate(_BOXES)
        # (The header's button and its panel both name the placement.)
        return LayoutShift(cls, shifts, sorted(set(boxes)))
    finally:
        context.close()
