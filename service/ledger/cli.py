"""The ledger's operator commands: recount and reconcile."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from service.core.extensions import db
from service.ledger.reconcile import reconcile_events
from service.ledger.supporters import describe_count, recount
from service.stripe_gateway import GatewayError


@click.command("recount")
@with_appcontext
def recount_command() -> None:
    """Rebuild every supporter's standing from the ledger and print any difference."""

    settings = current_app.extensions["settings"]
    with db.unit_of_work() as session:
        report = recount(session, settings)
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

    settings = current_app.extensions["settings"]
    try:
        with db.unit_of_work() as session:
            report = reconcile_events(
                session, settings, since=since.replace(tzinfo=UTC) if since else None
            )
    except GatewayError as error:
        raise click.ClickException(f"could not list events from Stripe: {error.message}") from None
    applied = ", ".join(f"{count} {outcome}" for outcome, count in sorted(report.outcomes.items()))
    click.echo(
        f"listed {report.listed} events since {report.since.isoformat()}; "
        f"processed: {applied or 'none missing'}"
    )
    if report.failed:
        raise click.ClickException(f"{report.failed} events failed; see stripe_events.error")
