"""The staff's operator commands: create-staff and reset-staff-password."""

from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from service.core.extensions import db
from service.staff.accounts import (
    StaffError,
    check_password_strength,
    create_staff_user,
    find_staff_user,
    generate_password,
    set_password,
)
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


@click.command("reset-staff-password")
@click.argument("email")
@click.option(
    "--prompt",
    "prompt",
    is_flag=True,
    help="Type the new password (twice) instead of getting a generated one.",
)
@with_appcontext
def reset_staff_password_command(email: str, prompt: bool) -> None:
    """Give a staff account a new password and end every session of theirs.

    Without --prompt a random password is generated and printed once (never logged).
    """
    password = (
        click.prompt("New password", hide_input=True, confirmation_prompt=True)
        if prompt
        else generate_password()
    )
    try:
        with db.unit_of_work() as session:
            user = find_staff_user(session, email)
            if user is None:
                raise StaffError(f"there is no staff account for {email.strip().lower()}")
            set_password(session, user, password)
            address = user.email
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"reset the password of {address}; every session of theirs has ended")
    if not prompt:
        click.echo("new password (shown once):")
        click.echo(password)
