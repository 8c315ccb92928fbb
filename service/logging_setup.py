"""Logging that never prints a secret."""

from __future__ import annotations

import logging
import re

from flask import Flask

from service.settings import Settings

# Anything shaped like a Stripe secret, webhook secret or bearer token is masked.
_SECRET_PATTERN = re.compile(
    r"(sk|rk)_(live|test)_[0-9A-Za-z]+|whsec_[0-9A-Za-z+/=]+|(Bearer\s+)\S+"
)


def redact(text: str) -> str:
    """Mask secrets in a log line."""
    return _SECRET_PATTERN.sub(lambda m: (m.group(3) or "") + "[redacted]", text)


class RedactingFilter(logging.Filter):
    """Rewrite each record's message with secrets masked."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        for secret in self._secrets:
            message = message.replace(secret, "[redacted]")
        record.msg, record.args = message, None
        return True


def configure(app: Flask, settings: Settings) -> None:
    """Route the app's and the stripe package's logs through one redacting handler."""
    secrets = (settings.secret_key, settings.stripe_secret_key, *settings.stripe_webhook_secrets)
    redacting = RedactingFilter(secrets)
    for name in ("service", "stripe", "werkzeug", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(redacting)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)
    app.logger.setLevel(settings.log_level)
    logging.getLogger("service").setLevel(settings.log_level)
