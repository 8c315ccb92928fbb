"""`flask --app service trends backfill --from YYYY-MM-DD`: past days' trend snapshots."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from service.core.extensions import db
from service.core.models import utcnow
from service.staff.reports.trends import snapshot_days, write_snapshot


@click.group("trends")
def trends_group() -> None:
    """Daily snapshots of the supporter count and recurring revenue."""


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@trends_group.command("backfill")
@click.option(
    "--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day."
)
@click.option(
    "--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="Last day (default: yesterday)."
)
@with_appcontext
def backfill_command(first: datetime, last: datetime | None) -> None:
    """Compute each day's snapshot from the ledger's dates (again: it replaces, idempotent)."""
    settings = current_app.extensions["settings"]
    yesterday = utcnow().date() - timedelta(days=1)
    start, end = first.date(), _day(last) or yesterday
    if end > yesterday:
        raise click.BadParameter(
            f"today and later are not over yet; the last day is {yesterday}", param_hint="--to"
        )
    if start > end:
        raise click.BadParameter(f"{start} is after {end}", param_hint="--from")
    days = snapshot_days(start, end)
    for day in days:
        # A transaction per day: a long back-fill holds no lock for long.
        with db.unit_of_work() as session:
            snapshot = write_snapshot(session, settings, day)
        click.echo(
            f"{day}: {snapshot.supporters:,} supporters, {snapshot.active_recurring:,} "
            f"recurring gifts"
        )
    click.echo(f"trends: {len(days)} day(s) written")
