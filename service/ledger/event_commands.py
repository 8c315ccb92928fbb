"""`flask --app service replay-events`: queue failed Stripe events to be applied again."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from service.core.extensions import db
from service.ledger.inbox import replay_event
from service.ledger.models import EventOutcome, StripeEvent


@click.command("replay-events")
@click.argument("event_ids", nargs=-1)
@click.option("--failed", "all_failed", is_flag=True, help="Every event whose outcome is failed.")
@with_appcontext
def replay_events_command(event_ids: tuple[str, ...], all_failed: bool) -> None:
    """Queue the given Stripe events (evt_…), or every failed one, for a worker to apply
    again with fresh tries; applied and ignored events stay as they are."""
    if not event_ids and not all_failed:
        raise click.UsageError("name the events to replay (evt_…), or pass --failed")
    settings = current_app.extensions["settings"]
    with db.unit_of_work() as session:
        query = select(StripeEvent).order_by(StripeEvent.id)
        if all_failed:
            query = query.where(StripeEvent.outcome == EventOutcome.FAILED)
        if event_ids:
            query = query.where(StripeEvent.stripe_event_id.in_(event_ids))
        rows = list(session.scalars(query))
        unknown = sorted(set(event_ids) - {row.stripe_event_id for row in rows})
        if unknown:
            raise click.ClickException(f"no such event in the inbox: {', '.join(unknown)}")
        for row in rows:
            outcome = replay_event(session, row, settings)
            click.echo(f"{row.stripe_event_id} ({row.type}): {outcome.value}")
    queued = sum(1 for row in rows if row.outcome is EventOutcome.PENDING)
    click.echo(f"{queued} queued for the worker; {len(rows) - queued} already settled")
