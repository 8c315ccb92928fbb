"""The ledger's operator commands: recount, reconcile and `stripe-webhook register`."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from service.core.extensions import db
from service.ledger.reconcile import reconcile_events
from service.ledger.supporters import describe_count, recount
from service.ledger.webhook_registration import RegistrationRefused, register_webhook_endpoint
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
        report = reconcile_events(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            settings,
            since=since.replace(tzinfo=UTC) if since else None,
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


@click.group("stripe-webhook")
def stripe_webhook_group() -> None:
    """Our webhook endpoint at Stripe."""


@stripe_webhook_group.command("register")
@click.argument("url")
@click.option(
    "--replace",
    is_flag=True,
    help="Delete an endpoint at URL pinned to another API version and create it again.",
)
@with_appcontext
def register_command(url: str, replace: bool) -> None:
    """Create or update the webhook endpoint at URL (e.g. https://SERVICE/webhooks/stripe)
    with the pinned API version and exactly the events the service handles."""

    settings = current_app.extensions["settings"]
    try:
        registration = register_webhook_endpoint(settings, url, replace=replace)
    except RegistrationRefused as error:
        click.echo(f"stripe-webhook register: {error}", err=True)
        raise SystemExit(2) from None
    except GatewayError as error:
        raise click.ClickException(f"Stripe said: {error.message}") from None
    endpoint = registration.endpoint
    events = len(endpoint.enabled_events)
    if registration.replaced is not None:
        old = registration.replaced
        click.echo(f"deleted webhook endpoint {old.id} (API version {old.api_version})")
    click.echo(
        f"{'created' if registration.created else 'updated'} webhook endpoint {endpoint.id} "
        f"for {endpoint.url}: API version {endpoint.api_version}, {events} event types"
    )
    if registration.created and endpoint.secret:
        click.echo("signing secret (shown once: put it in STRIPE_WEBHOOK_SECRET now):")
        click.echo(endpoint.secret)
    else:
        click.echo(
            "Stripe shows an endpoint's signing secret only when it is created: keep the "
            "STRIPE_WEBHOOK_SECRET you have (or roll the secret in the Stripe dashboard)"
        )
