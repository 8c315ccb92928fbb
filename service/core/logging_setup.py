"""Logging that never prints a secret or a reader's personal data."""

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
# Readers' personal data: emails (also form-encoded, as the stripe package logs its posts),
# names in dict, JSON and form renderings, and Checkout Session ids (one is enough to
# learn whether a stranger paid and, until now, to reach their portal).
_EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_QUOTED_NAME_PATTERN = re.compile(
    r"""(["']?\b(?:name|customer_name|cardholder_name)["']?\s*[:=]\s*)(["'])(?:(?!\2).)*\2"""
)
_FORM_NAME_PATTERN = re.compile(r"((?:\[name\]|\bname)=)[^&\s'\"]+")
_CHECKOUT_SESSION_PATTERN = re.compile(r"\bcs_(?:test|live)_[0-9A-Za-z]+")
# Every configured secret of every app in this process, masked wherever it appears.
_known_secrets: set[str] = set()
_install_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """Mask secrets, emails, names and Checkout Session ids in a log line."""
    text = _SECRET_PATTERN.sub(lambda m: (m.group(3) or "") + "[redacted]", text)
    for secret in _known_secrets:
        text = text.replace(secret, "[redacted]")
    text = _EMAIL_PATTERN.sub("[email]", text)
    text = _QUOTED_NAME_PATTERN.sub(lambda m: f"{m.group(1)}{m.group(2)}[name]{m.group(2)}", text)
    text = _FORM_NAME_PATTERN.sub(r"\1[name]", text)
    return _CHECKOUT_SESSION_PATTERN.sub("cs_[redacted]", text)


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
