"""Operator commands: `flask --app service <command>`."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from service.migrations import downgrade_database, upgrade_database

db_cli = AppGroup("db", help="Database migrations.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    upgrade_database(current_app.extensions["settings"].database_url, revision)
    click.echo(f"database upgraded to {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION ("base" empties it)."""
    downgrade_database(current_app.extensions["settings"].database_url, revision)
    click.echo(f"database downgraded to {revision}")


@click.command("recount")
@with_appcontext
def recount_command() -> None:
    """Rebuild every supporter's standing from the ledger and print any difference."""
    from service.extensions import db
    from service.supporters import describe_count, recount

    settings = current_app.extensions["settings"]
    report = recount(db.session, settings)
    db.session.commit()
    for change in report.changes[:50]:
        click.echo(f"supporter {change.supporter_id}: supported_until {change.was} -> {change.now}")
    if len(report.changes) > 50:
        click.echo(f"... and {len(report.changes) - 50} more")
    click.echo(
        f"supporters: {report.count_before} before, {report.count_after} after; "
        f"{len(report.changes)} corrected"
    )
    click.echo(describe_count(settings))


@click.command("reconcile")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="List events from this UTC time (default: shortly before the newest applied event).",
)
@with_appcontext
def reconcile_command(since: datetime | None) -> None:
    """Fetch events from Stripe that we missed and apply them through the webhook inbox."""
    from service.extensions import db
    from service.stripe_gateway import GatewayError
    from service.webhooks import reconcile_events

    settings = current_app.extensions["settings"]
    try:
        report = reconcile_events(
            db.session, settings, since=since.replace(tzinfo=UTC) if since else None
        )
    except GatewayError as error:
        db.session.rollback()
        raise click.ClickException(f"could not list events from Stripe: {error.message}") from None
    db.session.commit()
    applied = ", ".join(f"{count} {outcome}" for outcome, count in sorted(report.outcomes.items()))
    click.echo(
        f"listed {report.listed} events since {report.since.isoformat()}; "
        f"processed: {applied or 'none missing'}"
    )
    if report.failed:
        raise click.ClickException(f"{report.failed} events failed; see stripe_events.error")


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
    import os

    from service.extensions import db
    from service.models import StaffRole
    from service.staff_auth import StaffError, check_password_strength, create_staff_user

    # Never an argument: arguments end up in shell history and in `ps` for everyone.
    password = os.environ.get("STAFF_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    try:
        check_password_strength(password)
        user = create_staff_user(db.session, email, password, StaffRole(role))
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email}")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(recount_command)
    app.cli.add_command(reconcile_command)
    app.cli.add_command(create_staff_command)
