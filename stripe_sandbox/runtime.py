"""The parts of one running sandbox, as the Flask app holds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app, request

from .config import SandboxConfig
from .simulator import Simulator
from .state import SandboxState

if TYPE_CHECKING:
    from .webhooks import WebhookDeliverer

EXTENSION = "stripe_sandbox"


@dataclass
class Sandbox:
    """Config, state, business rules and webhook delivery of one sandbox app."""

    config: SandboxConfig
    state: SandboxState
    sim: Simulator
    webhooks: WebhookDeliverer

    def public_url(self) -> str:
        """Where hosted pages live: the configured URL, else the one this request used."""
        if self.config.public_url:
            return self.config.public_url
        return request.host_url.rstrip("/")


def current_sandbox() -> Sandbox:
    """The sandbox of the app handling the current request."""
    sandbox: Sandbox = current_app.extensions[EXTENSION]
    return sandbox
