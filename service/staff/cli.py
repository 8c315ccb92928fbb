"""The staff's operator command: create-staff."""

from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from service.core.extensions import db
from service.staff.accounts import StaffError, check_password_strength, create_staff_user
from service.staff.models import StaffRole


@click.command("create-staff")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "viewer"]),
    default="viewer",
    show_default=True,
    help="Admins also edit campaigns, replay events and manage staff.",
)
@with_appcontext
def create_staff_command(email: str, role: str) -> None:
    """Add a staff account; the password comes from a prompt or STAFF_PASSWORD."""
    # Never an argument: arguments end up in shell history and in `ps` for everyone.
    password = os.environ.get("STAFF_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    try:
        check_password_strength(password)
        with db.unit_of_work() as session:
            user = create_staff_user(session, email, password, StaffRole(role))
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role.value} {user.email}")
