"""Sign-in links: "email me my link", answered the same whether or not we know the email.

A request only enqueues a job (the same work for every address, so neither the answer
nor its timing tells whether an email is known). The job looks the email up; for a
supporter it stores the SHA-256 of a fresh random token, valid for one hour and once,
and queues the email carrying the token. Opening the link spends it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.core.i18n import normalise_language
from service.core.jobs import JobRun, enqueue, register
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger import Supporter
from service.readers.mail import absolute, queue_message
from service.readers.models import SignInLink

REQUEST_KIND = "readers.sign-in-request"
LINK_LIFETIME = timedelta(hours=1)


class LinkExpired(Exception):
    """The link was used already or is past its hour."""


class LinkInvalid(Exception):
    """No such link (mistyped, cut short, or made up)."""


@dataclass(frozen=True)
class SignedIn:
    supporter_id: int
    return_url: str | None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_link(
    session: Session, email: str, return_url: str | None, language: str | None = None
) -> None:
    """Ask for a sign-in link in the caller's transaction; the same work for any email."""
    enqueue(
        session,
        REQUEST_KIND,
        {"email": normalise_email(email), "return_url": return_url, "language": language},
        key=f"sign-in-request:{uuid.uuid4()}",
    )


def issue_link(
    session: Session, settings: Settings, supporter: Supporter, return_url: str | None
) -> str:
    """Store a new single-use link for a supporter and queue its email; return the URL."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    link = SignInLink(
        token_hash=hash_token(token),
        supporter_id=supporter.id,
        return_url=return_url,
        created_at=now,
        expires_at=now + LINK_LIFETIME,
    )
    session.add(link)
    session.flush()
    url = absolute(settings, f"/support/sign-in/{token}")
    assert supporter.email is not None
    queue_message(
        session,
        settings,
        key=f"sign-in:{link.id}",
        template="sign_in",
        to=supporter.email,
        supporter_id=supporter.id,
        context={"link": url},
        language=supporter.language,
    )
    return url


def _handle_request(run: JobRun) -> None:
    """Send a link to a known supporter; for an unknown email do nothing at all."""
    email = run.payload.get("email")
    if not isinstance(email, str):
        return  # erased while it waited
    supporter = run.session.scalars(select(Supporter).where(Supporter.email == email)).first()
    if supporter is None:
        return
    # The reader asked in this language: the link, and our next emails, are in it.
    language = normalise_language(run.payload.get("language"))
    if language:
        supporter.language = language
    issue_link(run.session, run.settings, supporter, run.payload.get("return_url"))


def peek(session: Session, token: str) -> SignInLink:
    """The link for a token if it can still be used; raise LinkExpired or LinkInvalid."""
    link = session.scalars(
        select(SignInLink).where(SignInLink.token_hash == hash_token(token))
    ).one_or_none()
    if link is None:
        raise LinkInvalid
    if link.used_at is not None or link.expires_at <= utcnow():
        raise LinkExpired
    return link


def spend(session: Session, token: str) -> SignedIn:
    """Use a link once: the conditional update lets exactly one of two racing clicks win."""
    link = peek(session, token)
    now = utcnow()
    result = session.execute(
        update(SignInLink)
        .where(
            SignInLink.id == link.id,
            SignInLink.used_at.is_(None),
            SignInLink.expires_at > now,
        )
        .values(used_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkExpired
    return SignedIn(supporter_id=link.supporter_id, return_url=link.return_url)


def register_jobs() -> None:
    register(REQUEST_KIND, _handle_request)
