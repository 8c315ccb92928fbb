"""Run a sandbox on a free loopback port in a background thread (a pytest fixture's friend)."""

from __future__ import annotations

import dataclasses
import threading
from types import TracebackType
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_app
from .config import SandboxConfig
from .runtime import EXTENSION, Sandbox
from .simulator import Simulator
from .state import SandboxState
from .webhooks import WebhookDeliverer


class _QuietHandler(WSGIRequestHandler):
    """Log errors only: a test run does not need a line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


class SandboxServer:
    """A sandbox served over HTTP from a background thread.

    ``with SandboxServer(webhook_url=..., webhook_secret=...) as sb:`` gives ``sb.url`` for
    ``stripe.StripeClient(..., base_addresses={"api": sb.url})``. Defaults suit tests:
    retries after 0.2 s, doubling, at most 5 attempts. Other ``SandboxConfig`` fields may
    be passed as keywords.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        deliver_webhooks: bool = True,
        webhook_max_attempts: int = 5,
        webhook_backoff: float = 0.2,
        webhook_backoff_max: float = 2.0,
        webhook_timeout: float = 2.0,
        quiet: bool = True,
        **settings: Any,
    ) -> None:
        self.config = SandboxConfig(
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            deliver_webhooks=deliver_webhooks,
            webhook_max_attempts=webhook_max_attempts,
            webhook_backoff=webhook_backoff,
            webhook_backoff_max=webhook_backoff_max,
            webhook_timeout=webhook_timeout,
            **settings,
        )
        self.host = host
        self.port = port
        self.quiet = quiet
        self._app: Flask | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> SandboxServer:
        """Bind, then serve from a daemon thread."""
        if self._server is not None:
            return self
        # Webhook delivery starts only once the public URL is known.
        app = create_app(dataclasses.replace(self.config, deliver_webhooks=False))
        handler = _QuietHandler if self.quiet else None
        server = make_server(self.host, self.port, app, threaded=True, request_handler=handler)
        self._app, self._server = app, server
        self.port = server.server_port
        if not self.config.public_url:
            self.sandbox.config.public_url = self.url
        if self.config.deliver_webhooks:
            self.webhooks.start()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"stripe-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop delivering and serving, and close the socket."""
        if self._server is None:
            return
        self.webhooks.stop()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- access -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the API base and the hosted pages' origin."""
        return f"http://{self.host}:{self.port}"

    @property
    def app(self) -> Flask:
        """The Flask app being served."""
        if self._app is None:
            raise RuntimeError("the sandbox server has not been started")
        return self._app

    @property
    def sandbox(self) -> Sandbox:
        """Config, state, simulator and webhook deliverer of the app."""
        sandbox: Sandbox = self.app.extensions[EXTENSION]
        return sandbox

    @property
    def state(self) -> SandboxState:
        """Objects, events (``state.events``), faults (``state.set_fault``)."""
        return self.sandbox.state

    @property
    def sim(self) -> Simulator:
        """Operations: ``complete_checkout``, ``renew_subscription``, ``refund``, ..."""
        return self.sandbox.sim

    @property
    def webhooks(self) -> WebhookDeliverer:
        """Delivery: ``wait_idle``, ``deliver``, ``deliver_pending``, ``signed``."""
        return self.sandbox.webhooks

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event so far, oldest first."""
        return self.state.events
