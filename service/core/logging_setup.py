"""Logging that never prints a secret."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from flask import Flask

from service.core.settings import Settings

# Anything shaped like a Stripe secret, webhook secret or bearer token is masked.
_SECRET_PATTERN = re.compile(
    r"(sk|rk)_(live|test)_[0-9A-Za-z]+|whsec_[0-9A-Za-z+/=]+|(Bearer\s+)\S+"
)
# Every configured secret of every app in this process, masked wherever it appears.
_known_secrets: set[str] = set()
_install_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """Mask secrets in a log line."""
    text = _SECRET_PATTERN.sub(lambda m: (m.group(3) or "") + "[redacted]", text)
    for secret in _known_secrets:
        text = text.replace(secret, "[redacted]")
    return text


def redact_record(record: logging.LogRecord, secrets: tuple[str, ...] = ()) -> None:
    """Rewrite a record's message and traceback text with secrets masked."""
    try:
        message = redact(record.getMessage())
    except Exception:  # a malformed call: leave it for logging to report
        return
    for secret in secrets:
        message = message.replace(secret, "[redacted]")
    record.msg, record.args = message, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))


def _install_record_factory() -> None:
    """Redact every record as it is made, whichever logger or handler it goes to.

    Filters on loggers do not apply to records propagated from child loggers
    (service.checkout, stripe's, urllib3's), and handlers added later (gunicorn's,
    Flask's default one) would have none, so masking at record creation is the one
    place that cannot be bypassed.
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redact_record(record)
            return record

        logging.setLogRecordFactory(make_record)
        _installed = True


def configure(app: Flask, settings: Settings) -> None:
    """Mask this app's secrets in every log record of the process, the stripe package's too."""
    secrets = (settings.secret_key, settings.stripe_secret_key, *settings.stripe_webhook_secrets)
    _known_secrets.update(s for s in secrets if s)
    _install_record_factory()
    app.logger.setLevel(settings.log_level)
    logging.getLogger("service").setLevel(settings.log_level)
