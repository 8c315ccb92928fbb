"""Email to readers: rendered from templates/email/, written with its cause, sent by a job.

`queue_message` renders a message, stores it in `reader_messages` and enqueues the job
that sends it, all in the caller's transaction. The send job hands it to SMTP in its
`prepare` step (no lock held) and marks it sent in its `handle` step; while SMTP is down
the job fails and retries with backoff, so nothing is lost. A message's key (its cause
and template) is unique, so a repeated cause (a redelivered webhook, a restarted worker)
adds no second message; the Message-ID derives from the key too, so the one window
left (SMTP accepted it and the worker died before recording that) resends the very same
message, which mail systems recognise.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import render_template
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from service.core import mail
from service.core.brand import brand_of
from service.core.db import insert_ignoring_conflicts
from service.core.erasure import register_eraser
from service.core.i18n import gettext, in_language, long_date, money
from service.core.jobs import JobRun, enqueue, register
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger import (
    NOTICE_KIND,
    Donation,
    Frequency,
    MonthlyDonation,
    Notice,
    Supporter,
)
from service.readers.models import MessageStatus, ReaderMessage

log = logging.getLogger(__name__)

SEND_KIND = "readers.send-message"
SEND_ATTEMPTS = 60


def subject(template: str, values: dict[str, Any]) -> str:
    """A message's subject in the language in force (whole sentences, for translators)."""
    publication = values["publication"]
    yearly = values.get("frequency") == Frequency.ANNUAL.value
    if template == "receipt":
        return gettext("Thank you for supporting %(publication)s: your receipt", **values)
    if template == "sign_in":
        return gettext("Your sign-in link for %(publication)s", publication=publication)
    if template == "statement":
        return gettext("Your %(year)s statement of gifts to %(publication)s", **values)
    if template == "renewal_failed":
        if yearly:
            return gettext("Your yearly gift to %(publication)s didn't go through", **values)
        return gettext("Your monthly gift to %(publication)s didn't go through", **values)
    if template == "action_required":
        if yearly:
            return gettext("Please confirm your yearly gift to %(publication)s", **values)
        return gettext("Please confirm your monthly gift to %(publication)s", **values)
    if template == "monthly_canceled":
        if yearly:
            return gettext("Your yearly gift to %(publication)s has ended", **values)
        return gettext("Your monthly gift to %(publication)s has ended", **values)
    raise KeyError(template)


def kind_of(frequency: Frequency) -> str:
    """ "monthly" or "yearly" for a recurring gift, "" for a one-off, in the language in force."""
    if frequency is Frequency.MONTHLY:
        return gettext("monthly")
    if frequency is Frequency.ANNUAL:
        return gettext("yearly")
    return ""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def absolute(settings: Settings, path: str) -> str:
    """A link to this service that works from an inbox."""
    return settings.public_base_url + path


def render(
    settings: Settings, template: str, context: dict[str, Any], language: str | None = None
) -> Rendered:
    """The subject and both parts of one message in the reader's language (needs an app)."""
    brand = brand_of(settings)
    values = {"publication": brand.name, "brand": brand, **context}
    with in_language(language):
        return Rendered(
            subject=subject(template, values),
            text=render_template(f"email/{template}.txt", **values),
            html=render_template(f"email/{template}.html", **values),
        )


def queue_message(
    session: Session,
    settings: Settings,
    *,
    key: str,
    template: str,
    to: str,
    supporter_id: int | None,
    context: dict[str, Any],
    language: str | None = None,
) -> bool:
    """Render a message and enqueue its sending in the caller's transaction; False if known.

    `context` may hold callables of no argument: they are called in the message's
    language (amounts and dates are formatted by it).
    """
    with in_language(language):
        context = {key: value() if callable(value) else value for key, value in context.items()}
    rendered = render(settings, template, context, language)
    inserted = insert_ignoring_conflicts(
        session,
        ReaderMessage.__table__,  # type: ignore[arg-type]
        {
            "key": key,
            "supporter_id": supporter_id,
            "template": template,
            "to_email": to,
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
            "status": MessageStatus.QUEUED.value,
            "created_at": utcnow(),
        },
    )
    if not inserted:
        return False
    message_id = session.scalars(select(ReaderMessage.id).where(ReaderMessage.key == key)).one()
    enqueue(session, SEND_KIND, {"message_id": message_id}, key=f"send:{key}")
    return True


def message_id_header(settings: Settings, key: str) -> str:
    """A Message-ID that is the same for every try of one message."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    domain = urlsplit(settings.public_base_url).hostname or "localhost"
    return f"<{digest}@{domain}>"


def _send_prepare(run: JobRun) -> bool:
    """Hand the message to SMTP (outside any lock); raise to retry later."""
    message = run.session.get(ReaderMessage, run.payload["message_id"])
    if message is None or message.status is MessageStatus.SENT or not message.to_email:
        return False  # sent already, or its reader was erased before it went
    mail.send(
        run.settings,
        mail.Email(
            to=message.to_email,
            subject=message.subject,
            text=message.text,
            html=message.html,
            message_id=message_id_header(run.settings, message.key),
        ),
    )
    return True


def _send_handle(run: JobRun) -> None:
    """Record that SMTP accepted the message, with the job's own "done"."""
    if not run.prepared:
        return
    message = run.session.get(ReaderMessage, run.payload["message_id"])
    if message is not None:
        message.status = MessageStatus.SENT
        message.sent_at = utcnow()


# -- what each ledger notice becomes ---------------------------------------------------


def _gift_context(settings: Settings, donation: Donation) -> dict[str, Any]:
    return {
        "amount": lambda: money(donation.amount_minor, donation.currency),
        "date": lambda: long_date(donation.paid_at),
        "frequency": donation.frequency.value,
        "reference": donation.stripe_payment_intent_id or donation.stripe_invoice_id or "",
        "donation_id": donation.id,
        "manage_url": absolute(settings, "/support/manage"),
        "receipt_url": absolute(settings, f"/support/manage/receipts/{donation.id}"),
    }


def _monthly_context(settings: Settings, monthly: MonthlyDonation) -> dict[str, Any]:
    return {
        "amount": lambda: money(monthly.amount_minor, monthly.currency),
        "frequency": monthly.frequency.value,
        "manage_url": absolute(settings, "/support/manage"),
        "support_url": absolute(settings, f"/support?frequency={monthly.frequency.value}"),
    }


def _recipient(
    session: Session, supporter_id: int | None, fallback: str | None
) -> tuple[str | None, str | None]:
    """The address to write to and the reader's language (None: the default language)."""
    supporter = session.get(Supporter, supporter_id) if supporter_id else None
    if supporter is None:
        return fallback, None
    return supporter.email or fallback, supporter.language


def _handle_notice(run: JobRun) -> None:
    """Turn one ledger notice into the message it calls for (or none, without an email)."""
    session, settings, payload = run.session, run.settings, run.payload
    notice = Notice(payload["notice"])
    template: str
    if notice is Notice.GIFT_SUCCEEDED:
        donation = session.get(Donation, payload["donation_id"])
        if donation is None:
            return
        supporter_id = donation.supporter_id
        to, language = _recipient(session, supporter_id, donation.email)
        template, context = "receipt", _gift_context(settings, donation)
    else:
        monthly = session.get(MonthlyDonation, payload["monthly_id"])
        if monthly is None:
            return
        supporter_id = monthly.supporter_id
        to, language = _recipient(session, supporter_id, None)
        template = notice.value
        context = _monthly_context(settings, monthly) | {"invoice_url": payload.get("invoice_url")}
    if to is None:
        log.info("notice %s: no email address to write to", run.key)
        return
    queue_message(
        session,
        settings,
        key=f"{run.key}:{template}",
        template=template,
        to=to,
        supporter_id=supporter_id,
        context=context,
        language=language,
    )


ERASED = "[erased]"


def erase_messages(session: Session, addresses: frozenset[str], supporter_id: int | None) -> None:
    """A reader Stripe deleted: no message to them keeps their address (nor sends)."""
    conditions: list[ColumnElement[bool]] = []
    if addresses:
        conditions.append(ReaderMessage.to_email.in_(addresses))
    if supporter_id is not None:
        conditions.append(ReaderMessage.supporter_id == supporter_id)
    if not conditions:
        return
    for message in session.scalars(select(ReaderMessage).where(or_(*conditions))):
        known = addresses | ({message.to_email} - {""})
        message.to_email = ""
        for address in known:
            message.subject = message.subject.replace(address, ERASED)
            message.text = message.text.replace(address, ERASED)
            message.html = message.html.replace(address, ERASED)
    session.flush()


def register_jobs() -> None:
    """Declare the readers' job kinds (idempotent: create_app runs it per app)."""
    # SMTP can be down for a day: about 48 hours of hourly tries before a person must look.
    register(SEND_KIND, _send_handle, prepare=_send_prepare, max_attempts=SEND_ATTEMPTS)
    register(NOTICE_KIND, _handle_notice)
    register_eraser("readers.messages", erase_messages)
