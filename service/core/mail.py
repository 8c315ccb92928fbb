"""Sending one email over SMTP, configured by SMTP_URL and MAIL_FROM (any provider)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from service.core.settings import Settings


class MailNotConfigured(RuntimeError):
    """SMTP_URL is empty: messages wait in the outbox until it is set."""


@dataclass(frozen=True)
class Email:
    """One message with a plain-text and an HTML part."""

    to: str
    subject: str
    text: str
    html: str
    # Stable per logical message (from its job key), so a resend after a crash carries
    # the same Message-ID and receiving systems can tell it is the same message.
    message_id: str


def build_message(settings: Settings, email: Email) -> EmailMessage:
    """The MIME message: text first, HTML as the alternative readers' apps prefer."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = email.message_id
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


def send(settings: Settings, email: Email) -> None:
    """Hand one message to the SMTP server in SMTP_URL; raise when it is not accepted."""
    if not settings.smtp_url:
        raise MailNotConfigured("SMTP_URL is not set")
    url = urlsplit(settings.smtp_url)
    options = {key: values[-1] for key, values in parse_qs(url.query).items()}
    host = url.hostname or "localhost"
    timeout = settings.smtp_timeout_seconds
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if url.scheme == "smtps":
        client = smtplib.SMTP_SSL(host, url.port or 465, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, url.port or 587, timeout=timeout)
    with client:
        client.ehlo()
        # STARTTLS whenever the server offers it, unless ?starttls=off (a local capture).
        if url.scheme == "smtp" and options.get("starttls", "auto") != "off":
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif options.get("starttls") == "required":
                raise smtplib.SMTPNotSupportedError("the SMTP server does not offer STARTTLS")
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(build_message(settings, email))
