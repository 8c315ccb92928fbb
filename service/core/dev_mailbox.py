"""Development only: a local SMTP capture (aiosmtpd) and the mailbox pages that show it.

`make run` and the browser tests start a `MailCapture` and register `mailbox_blueprint`
on their app; `create_app` never does, so production has no /dev/mailbox.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue

_LINK = re.compile(r"https?://[^\s<>\"')\]]+")


@dataclass(frozen=True)
class CapturedMail:
    """One message as the mailbox shows it."""

    to: list[str]
    subject: str
    text: str
    html: str
    links: list[str]


def parse_message(raw: bytes, recipients: list[str]) -> CapturedMail:
    """The recipients, subject, both parts and every link of one raw message."""
    message = message_from_bytes(raw, policy=policy.default)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    # SMTP carries CRLF line ends; show them as the service wrote them.
    text = text_part.get_content().replace("\r\n", "\n") if text_part is not None else ""
    html = html_part.get_content().replace("\r\n", "\n") if html_part is not None else ""
    links = list(dict.fromkeys(_LINK.findall(text)))
    return CapturedMail(
        to=recipients, subject=str(message["Subject"] or ""), text=text, html=html, links=links
    )


class _Handler:
    def __init__(self, capture: MailCapture) -> None:
        self.capture = capture

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content or "").encode()
        self.capture.add(parse_message(raw, [str(to) for to in envelope.rcpt_tos]))
        return "250 Message accepted for delivery"


class MailCapture:
    """An SMTP server on 127.0.0.1 that keeps every message it receives, newest last."""

    def __init__(self, port: int = 0) -> None:
        self._lock = threading.Lock()
        self._messages: list[CapturedMail] = []
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    @property
    def port(self) -> int:
        return int(self.controller.port)

    @property
    def smtp_url(self) -> str:
        """What to put in SMTP_URL to send here (no TLS: it is local)."""
        return f"smtp://127.0.0.1:{self.port}?starttls=off"

    def start(self) -> MailCapture:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> MailCapture:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def add(self, mail: CapturedMail) -> None:
        with self._lock:
            self._messages.append(mail)

    def messages(self) -> list[CapturedMail]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


def mailbox_blueprint(capture: MailCapture) -> Blueprint:
    """`/dev/mailbox` (HTML) and `/dev/mailbox.json` over one capture; development only."""
    bp = Blueprint("dev_mailbox", __name__)

    @bp.get("/dev/mailbox")
    def mailbox() -> ResponseReturnValue:
        """Every captured message, newest first, with its HTML part in a sandboxed frame."""
        return render_template("dev_mailbox.html", messages=list(reversed(capture.messages())))

    @bp.get("/dev/mailbox.json")
    def mailbox_json() -> ResponseReturnValue:
        """Every captured message, oldest first: to, subject, text, html and links."""
        data: list[dict[str, Any]] = [asdict(mail) for mail in capture.messages()]
        response = jsonify(data)
        response.headers["Cache-Control"] = "no-store"
        return response

    return bp
