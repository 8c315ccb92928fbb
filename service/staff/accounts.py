"""Staff accounts: argon2 password hashes, sign-in with lockout, roles, password changes
and resets, Flask-Login glue (sessions live in service.staff.sessions)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import abort
from flask_login import UserMixin, current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.staff.models import StaffRole, StaffUser
from service.staff.sessions import end_all_sessions, session_user

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
# After this many wrong passwords in a row the account is locked for LOCKOUT; the per-IP
# limit on the sign-in view slows down guessing across many accounts.
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
SIGN_IN_RATE_LIMIT = "10 per minute;100 per hour"

_hasher = PasswordHasher()
# Verifying against this keeps an unknown email as slow as a wrong password, so response
# time does not reveal which emails have accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password-just-for-timing")

F = TypeVar("F", bound=Callable[..., Any])


OWN_ACCOUNT_MESSAGE = "You cannot change your own account here; ask another admin."
LAST_ADMIN_MESSAGE = "The service must keep at least one admin."


class StaffError(ValueError):
    """A staff account could not be created or changed; the message says why."""


class StaffUserNotFound(StaffError):
    """No staff account has that id."""


class StaffConflict(StaffError):
    """The change would break a rule about who may do what (own account, last admin)."""


class PasswordRefused(StaffError):
    """A password change was refused; `field` names the form field the reason is about."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class SignedInStaff(UserMixin):  # type: ignore[misc]
    """The Flask-Login user: a detached snapshot of the staff row and the session's
    identifier, which is what the cookie carries (never the row id)."""

    def __init__(self, user: StaffUser, session_token: str) -> None:
        self.id = user.id
        self.email = user.email
        self.role = StaffRole(user.role)
        self.session_token = session_token

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_admin(self) -> bool:
        return self.role is StaffRole.ADMIN


def normalise_email(email: str) -> str:
    """Lower-case and trim an email so one person has one account."""
    return email.strip().lower()


def check_password_strength(password: str) -> None:
    """Raise StaffError unless the password is long enough to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StaffError(f"the password must be at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    """Hash a password with argon2id and a random salt."""
    return _hasher.hash(password)


def find_staff_user(session: Session, email: str) -> StaffUser | None:
    """The staff user with this email (case-insensitive), if any."""
    return session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def create_staff_user(session: Session, email: str, password: str, role: StaffRole) -> StaffUser:
    """Add a staff user with a hashed password; refuse weak passwords and duplicates."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 320:
        raise StaffError("give an email address")
    check_password_strength(password)
    if find_staff_user(session, email) is not None:
        raise StaffError(f"{email} already has a staff account")
    user = StaffUser(email=email, password_hash=hash_password(password), role=StaffRole(role))
    session.add(user)
    session.flush()
    return user


def list_staff_users(session: Session) -> list[StaffUser]:
    """Return every staff account, by email."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.email)))


def _other_account(session: Session, actor_id: int, user_id: int) -> StaffUser:
    """Return the account an admin acts on, which is never their own."""
    user = session.get(StaffUser, user_id)
    if user is None:
        raise StaffUserNotFound(f"there is no staff account {user_id}")
    if user.id == actor_id:
        raise StaffConflict(OWN_ACCOUNT_MESSAGE)
    return user


def _lock_admins(session: Session) -> set[int]:
    """Lock the admin rows until the transaction ends and return their ids.

    Two admins demoting or removing each other at the same moment would each see the
    other still an admin and leave none. Locking the admin rows first serialises such
    changes (PostgreSQL re-reads a locked row's role once the other transaction ends;
    SQLite allows one writer at a time anyway), so the count below is current.
    """
    stmt = select(StaffUser.id).where(StaffUser.role == StaffRole.ADMIN).with_for_update()
    return set(session.scalars(stmt))


def _keep_an_admin(admins: set[int], user: StaffUser) -> None:
    """Refuse to take away the only admin that is left."""
    if admins == {user.id}:
        raise StaffConflict(LAST_ADMIN_MESSAGE)


def change_staff_role(session: Session, actor_id: int, user_id: int, role: StaffRole) -> StaffUser:
    """Give another staff account a role, never leaving the service without an admin."""
    user = _other_account(session, actor_id, user_id)
    if role is not StaffRole.ADMIN:
        _keep_an_admin(_lock_admins(session), user)
    user.role = role
    session.flush()
    return user


def remove_staff_user(session: Session, actor_id: int, user_id: int) -> StaffUser:
    """Delete another staff account, never leaving the service without an admin."""
    user = _other_account(session, actor_id, user_id)
    _keep_an_admin(_lock_admins(session), user)
    end_all_sessions(session, user.id)
    session.delete(user)
    session.flush()
    return user


def generate_password() -> str:
    """A random password of 20 characters (120 bits), for a reset."""
    return secrets.token_urlsafe(15)


def set_password(session: Session, user: StaffUser, password: str) -> None:
    """Give an account a new password: its lockout is lifted and every session ended."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.failed_sign_ins = 0
    user.locked_until = None
    end_all_sessions(session, user.id)
    session.flush()


def change_own_password(
    session: Session, user_id: int, current: str, new: str, again: str
) -> StaffUser:
    """A staff member changes their password: the current one first, the same rules as
    ever for the new one. Every session of theirs ends (the caller starts a fresh one)."""
    user = session.get(StaffUser, user_id)
    if user is None:
        raise StaffUserNotFound(f"there is no staff account {user_id}")
    if len(current) > MAX_PASSWORD_LENGTH or not _verify(user.password_hash, current):
        raise PasswordRefused("the current password is not right", "current_password")
    if new != again:
        raise PasswordRefused("the two new passwords are not the same", "new_password_again")
    if new == current:
        raise PasswordRefused("choose a password different from the current one", "new_password")
    try:
        set_password(session, user, new)
    except StaffError as exc:
        raise PasswordRefused(str(exc), "new_password") from None
    return user


def reset_staff_password(session: Session, actor_id: int, user_id: int) -> tuple[StaffUser, str]:
    """An admin resets another account's password to a generated one, shown once."""
    user = _other_account(session, actor_id, user_id)
    password = generate_password()
    set_password(session, user, password)
    return user, password


def unlock_staff_user(session: Session, actor_id: int, user_id: int) -> StaffUser:
    """End another staff account's lockout and forget its wrong passwords."""
    user = _other_account(session, actor_id, user_id)
    user.locked_until = None
    user.failed_sign_ins = 0
    session.flush()
    return user


def is_locked(user: StaffUser, now: datetime) -> bool:
    """True while the account is in a temporary lockout."""
    return user.locked_until is not None and user.locked_until > now


def authenticate(
    session: Session, email: str, password: str, now: datetime | None = None
) -> StaffUser | None:
    """Return the user when email and password match and the account is not locked.

    Wrong passwords are counted per account; the MAX_FAILED_SIGN_INS-th locks it for
    LOCKOUT. A locked account refuses even the right password until the lock expires.
    """
    now = now or utcnow()
    user = find_staff_user(session, email)
    if user is None or len(password) > MAX_PASSWORD_LENGTH:
        _verify(_DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
        return None
    if is_locked(user, now):
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password):
        user.failed_sign_ins += 1
        if user.failed_sign_ins >= MAX_FAILED_SIGN_INS:
            user.locked_until = now + LOCKOUT
            user.failed_sign_ins = 0
        session.flush()
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_sign_ins = 0
    user.locked_until = None
    user.last_sign_in_at = now
    session.flush()
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def load_staff_user(session: Session, session_token: str) -> SignedInStaff | None:
    """Flask-Login's user loader: the staff member whose live session the cookie names,
    or None (signed out, session ended, account gone)."""
    user = session_user(session, session_token)
    return SignedInStaff(user, session_token) if user is not None else None


def require_role(role: str) -> Callable[[F], F]:
    """Allow the view only to signed-in staff with this role (admins may do anything)."""
    wanted = StaffRole(role)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                from service.core.extensions import login_manager

                return login_manager.unauthorized()
            if wanted is StaffRole.ADMIN and not current_user.is_admin:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
