"""Staff: accounts and roles, reports, campaign editing, CSV exports, the event inbox."""

from __future__ import annotations

from flask import Flask

from service.core.extensions import db, login_manager
from service.core.jobs import every_day, register
from service.staff import cli, trends_cli, views
from service.staff.accounts import SignedInStaff, load_staff_user, require_role
from service.staff.reports.trends import TRENDS_KIND, run_snapshot_job
from service.staff.views import page_helpers

__all__ = ["init_app", "page_helpers", "require_role"]


def init_app(app: Flask) -> None:
    """Register the staff pages, the sign-in glue and the staff commands."""
    login_manager.login_view = "staff.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    # "strong" drops the session when the client's IP or user agent changes.
    login_manager.session_protection = "strong"

    def _load_user(session_token: str) -> SignedInStaff | None:
        # The cookie names a server-side session, never an account's row id.
        return load_staff_user(db.session, session_token)

    login_manager.user_loader(_load_user)
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.create_staff_command)
    app.cli.add_command(cli.reset_staff_password_command)
    app.cli.add_command(trends_cli.trends_group)
    # Yesterday's trend snapshot, once a day (the worker enqueues it, keyed by the day).
    register(TRENDS_KIND, run_snapshot_job)
    every_day(TRENDS_KIND)
