"""Operator commands: `flask --app service <command>`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from service.core.jobs.cli import worker_command
from service.core.migrations import downgrade_database, upgrade_database

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


def init_app(app: Flask) -> None:
    """Register the core's commands; features add their own."""
    app.cli.add_command(db_cli)
    app.cli.add_command(worker_command)
