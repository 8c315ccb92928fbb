"""Staff sessions kept server-side, so they can be ended.

The cookie carries only a random identifier (`secrets.token_urlsafe`); the table keeps its
SHA-256, so a copy of the table opens no session. Flask-Login's user loader looks the
identifier up: a deleted row (sign-out, a password change or reset, a removed account)
ends that session wherever the cookie went, and a row id in an old cookie matches nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.staff.models import StaffSession, StaffUser

# 32 random bytes: far beyond guessing; SHA-256 (not a slow hash) is enough for that.
TOKEN_BYTES = 32
# A session ends by itself after this long, signed out or not (the cookie's own limit).
SESSION_LIFETIME = timedelta(days=31)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: StaffUser) -> str:
    """Record a new session for `user`; the returned identifier goes in the cookie only."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(StaffSession(token_hash=_digest(token), user_id=user.id))
    session.flush()
    return token


def session_user(
    session: Session, token: str, *, lifetime: timedelta = SESSION_LIFETIME
) -> StaffUser | None:
    """The account whose live session this identifier is, or None."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(StaffSession).where(StaffSession.token_hash == _digest(token)))
    if row is None or row.created_at < utcnow() - lifetime:
        return None
    return session.get(StaffUser, row.user_id)


def end_session(session: Session, token: str) -> None:
    """End one session (signing out)."""
    session.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))


def end_all_sessions(session: Session, user_id: int) -> int:
    """End every session of an account; how many there were."""
    result = session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def forget_expired_sessions(session: Session, now: datetime | None = None) -> None:
    """Delete sessions past their lifetime (they already open nothing)."""
    cutoff = (now or utcnow()) - SESSION_LIFETIME
    session.execute(delete(StaffSession).where(StaffSession.created_at < cutoff))
