"""Staff accounts: adding them, changing roles, unlocking, resetting passwords and
removing (admins only).

The rules (not your own account, never the last admin) belong to service.staff.accounts;
these views turn its refusals into 404 and 409 answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn, TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from service.core.extensions import db
from service.core.models import utcnow
from service.staff.accounts import (
    StaffConflict,
    StaffError,
    StaffUserNotFound,
    change_staff_role,
    create_staff_user,
    list_staff_users,
    remove_staff_user,
    require_role,
    reset_staff_password,
    unlock_staff_user,
)
from service.staff.forms import ChangeRoleForm, ConfirmForm, NewStaffForm
from service.staff.models import StaffRole
from service.staff.views.common import require_valid

T = TypeVar("T")


@require_role("admin")
def users() -> ResponseReturnValue:
    """List the staff accounts; add one."""
    form = NewStaffForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = create_staff_user(
                db.session, form.email.data, form.password.data, StaffRole(form.role.data)
            )
        except StaffError as exc:
            form.email.errors.append(str(exc))
            status = 422
        else:
            flash(f"Added {user.email} as {user.role.value}.", "ok")
            return redirect(url_for("staff.users"))
    elif request.method == "POST":
        if form.csrf_token.errors:
            abort(400, "The form expired. Please reload the page and try again.")
        status = 422
    return render_template(
        "staff/users.html",
        form=form,
        rows=list_staff_users(db.session),
        role_form=ChangeRoleForm(),
        confirm_form=ConfirmForm(),
        now=utcnow(),
    ), status


def _refuse(exc: StaffError) -> NoReturn:
    abort(404 if isinstance(exc, StaffUserNotFound) else 409, str(exc))


def _change(change: Callable[[], T]) -> T:
    """Run an account change, answering the domain's refusals with 404 or 409."""
    try:
        return change()
    except (StaffUserNotFound, StaffConflict) as exc:
        _refuse(exc)


@require_role("admin")
def change_role(user_id: int) -> ResponseReturnValue:
    """Give another staff account a role."""
    form = ChangeRoleForm()
    require_valid(form)
    role = StaffRole(form.role.data)
    user = _change(lambda: change_staff_role(db.session, current_user.id, user_id, role))
    flash(f"{user.email} is now {user.role.value}.", "ok")
    return redirect(url_for("staff.users"))


@require_role("admin")
def unlock_user(user_id: int) -> ResponseReturnValue:
    """End another staff account's lockout."""
    require_valid(ConfirmForm())
    user = _change(lambda: unlock_staff_user(db.session, current_user.id, user_id))
    flash(f"Unlocked {user.email}.", "ok")
    return redirect(url_for("staff.users"))


@require_role("admin")
def remove_user(user_id: int) -> ResponseReturnValue:
    """Delete another staff account."""
    require_valid(ConfirmForm())
    user = _change(lambda: remove_staff_user(db.session, current_user.id, user_id))
    flash(f"Removed {user.email}.", "ok")
    return redirect(url_for("staff.users"))


@require_role("admin")
def reset_password(user_id: int) -> ResponseReturnValue:
    """Give another account a generated password, shown once on this page (never put in
    the cookie, a flash message or a log), and end every session of theirs."""
    require_valid(ConfirmForm())
    user, password = _change(lambda: reset_staff_password(db.session, current_user.id, user_id))
    return render_template("staff/password_reset.html", user=user, password=password)
