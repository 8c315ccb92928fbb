"""Settings of one sandbox instance."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The only API version the sandbox speaks; objects are shaped for it.
API_VERSION = "2026-10-28.endive"
#: The secret key a sandbox accepts unless configured with another: like Stripe, it
#: answers 401 to every key but its own.
DEFAULT_API_KEY = "sk_test_sandbox"


@dataclass
class SandboxConfig:
    """What a sandbox needs to know; every field has a usable default."""

    #: Base URL that hosted pages are linked from. ``None``: the URL the request came in on.
    public_url: str | None = None
    #: Where events are POSTed. ``None``: events are only recorded.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    #: Deliver from a background worker; ``False`` leaves delivery to explicit calls.
    deliver_webhooks: bool = True
    webhook_max_attempts: int = 6
    #: Seconds before the first retry; doubled for each further one.
    webhook_backoff: float = 1.0
    webhook_backoff_max: float = 60.0
    webhook_timeout: float = 5.0
    #: The only secret key accepted (any other is answered 401, as Stripe does).
    api_key: str = DEFAULT_API_KEY
    #: The "business" that the hosted pages and receipts name.
    account_name: str = "Sandbox News"
    account_country: str = "IE"

    def __post_init__(self) -> None:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("webhook_secret is required when webhook_url is set")
        if not self.api_key.startswith("sk_test_"):
            raise ValueError("the sandbox accepts test-mode secret keys (sk_test_...) only")
        if self.webhook_max_attempts < 1:
            raise ValueError("webhook_max_attempts must be at least 1")
        if self.public_url:
            self.public_url = self.public_url.rstrip("/")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SandboxConfig:
        """Build from a mapping of field names, rejecting names that are not fields."""
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise TypeError(f"unknown sandbox settings: {', '.join(unknown)}")
        return cls(**dict(values))
