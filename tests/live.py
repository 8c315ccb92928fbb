"""Fixtures for tests that need a real server and a real browser.

`live_app` commits for real (no wrapping transaction) on the run's database and empties
every table afterwards; `live_server` serves it over HTTP on a free loopback port from a
background thread; `browser` is Debian's Chromium driven by Playwright.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from werkzeug.serving import BaseWSGIServer, make_server

from tests.conftest import make_test_app, truncate_all

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LiveServer:
    """Serve a WSGI app on 127.0.0.1:<free port> from a background thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        # Closing waits for requests still in flight (a page's last beacon, sent as it
        # closes), so none uses the app's database after the test has disposed of it.
        self.server.daemon_threads = False  # type: ignore[attr-defined]
        self.server.block_on_close = True  # type: ignore[attr-defined]
        self.url = f"http://{host}:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def reserve_port() -> int:
    """A free loopback port (for settings that must know the URL before serving)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_app_overrides() -> dict[str, Any]:
    """Override in a test module to change the live app's settings."""
    return {}


@pytest.fixture
def live_app(
    database_url: str, engine: Engine, live_app_overrides: dict[str, Any]
) -> Iterator[Flask]:
    """An app that commits for real; every table is emptied after the test.

    Its PUBLIC_BASE_URL is where `live_server` will serve it: absolute URLs come from
    that setting, never from the request.
    """
    port = reserve_port()
    overrides = {"public_base_url": f"http://127.0.0.1:{port}", **live_app_overrides}
    app = make_test_app(database_url, **overrides)
    app.config["LIVE_SERVER_PORT"] = port
    try:
        yield app
    finally:
        # A request still in flight when the server stopped (a page's last beacon, sent as
        # it closes) holds a connection that dispose() would leave open: let it finish.
        live_engine = app.extensions["database"]["engine"]
        deadline = time.monotonic() + 5
        while live_engine.pool.checkedout() and time.monotonic() < deadline:
            time.sleep(0.05)
        live_engine.dispose()
        truncate_all(engine)


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(live_app, port=live_app.config.get("LIVE_SERVER_PORT", 0)) as server:
        yield server


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "Browser tests need Chromium: install Debian's 'chromium' package "
            "(make test does this when run as root) or set CHROMIUM_PATH"
        )
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium for the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies, no storage) and page per test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
