"""Signing staff in and out, and changing one's own password."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from service.core.extensions import db, limiter
from service.staff.accounts import (
    SIGN_IN_RATE_LIMIT,
    PasswordRefused,
    SignedInStaff,
    authenticate,
    change_own_password,
)
from service.staff.forms import ChangePasswordForm, ConfirmForm, SignInForm
from service.staff.models import StaffUser
from service.staff.sessions import end_session, forget_expired_sessions, start_session
from service.staff.views.common import require_valid, safe_next


@limiter.limit(SIGN_IN_RATE_LIMIT, methods=["POST"])
def sign_in() -> ResponseReturnValue:
    """Show the sign-in form; sign in with a matching email and password."""
    form = SignInForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("staff.dashboard"))
    error = None
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            # A fresh session on sign-in: nothing from before survives (session fixation).
            cookie_session.clear()
            forget_expired_sessions(db.session)
            _sign_in_as(user)
            return redirect(safe_next(request.args.get("next")))
        # One message for every failure, so the page never says which emails exist.
        error = (
            "That email and password did not match, or the account is locked for a while "
            "after too many attempts."
        )
    elif request.method == "POST" and form.csrf_token.errors:
        error = "The form expired. Please try again."
    # 200 so the failed-attempt count is committed with the request.
    return render_template("staff/sign_in.html", form=form, error=error)


def _sign_in_as(user: StaffUser) -> None:
    """Start a server-side session for this browser; the cookie names only it."""
    login_user(SignedInStaff(user, start_session(db.session, user)))


def sign_out() -> ResponseReturnValue:
    """Sign out: this session ends on the server, so a copy of the cookie opens nothing."""
    form = ConfirmForm()
    require_valid(form)
    end_session(db.session, current_user.session_token)
    logout_user()
    cookie_session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("staff.sign_in"))


@limiter.limit(SIGN_IN_RATE_LIMIT, methods=["POST"])
def change_password() -> ResponseReturnValue:
    """Change one's own password (current one first); every other session of ours ends."""
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = change_own_password(
                db.session,
                current_user.id,
                form.current_password.data,
                form.new_password.data,
                form.new_password_again.data,
            )
        except PasswordRefused as exc:
            getattr(form, exc.field).errors.append(str(exc))
            status = 422
        else:
            # Every session ended with the change; this browser goes on in a new one.
            cookie_session.clear()
            _sign_in_as(user)
            flash("Your password is changed; you were signed out everywhere else.", "ok")
            return redirect(url_for("staff.dashboard"))
    elif request.method == "POST":
        if form.csrf_token.errors:
            abort(400, "The form expired. Please reload the page and try again.")
        status = 422
    return render_template("staff/account_password.html", form=form), status
