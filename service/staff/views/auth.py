"""Signing staff in and out."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from service.core.extensions import db, limiter
from service.staff.accounts import SIGN_IN_RATE_LIMIT, SignedInStaff, authenticate
from service.staff.forms import ConfirmForm, SignInForm
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
            login_user(SignedInStaff(user))
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


def sign_out() -> ResponseReturnValue:
    """Sign out and forget the session."""
    form = ConfirmForm()
    require_valid(form)
    logout_user()
    cookie_session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("staff.sign_in"))
