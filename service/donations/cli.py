"""The donations' operator command: sweep checkout attempts left half-done."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from service.core.extensions import db
from service.donations.stale_attempts import STALE_AFTER, apply, look_up, stale_attempts
from service.ledger import CheckoutAttempt
from service.stripe_gateway import GatewayError


@click.command("sweep-attempts")
@click.option(
    "--older-than-minutes",
    default=int(STALE_AFTER.total_seconds() // 60),
    show_default=True,
    help="Attempts untouched for this long are looked up in Stripe.",
)
@click.option("--limit", default=1000, show_default=True, help="At most this many per run.")
@with_appcontext
def sweep_attempts_command(older_than_minutes: int, limit: int) -> None:
    """Resolve checkout attempts stuck in created/session_created from Stripe's state."""
    settings = current_app.extensions["settings"]
    with db.unit_of_work() as session:
        stale = stale_attempts(session, timedelta(minutes=older_than_minutes), limit)
    resolved = left = failed = 0
    for attempt_id in stale:
        with db.unit_of_work() as session:
            attempt = session.scalars(
                select(CheckoutAttempt).where(CheckoutAttempt.id == attempt_id)
            ).one()
            status, session_id = attempt.status, attempt.stripe_checkout_session_id
        # Stripe is asked with no transaction open; the write is a short one after.
        try:
            resolution = look_up(settings, status, session_id)
        except GatewayError as error:
            click.echo(f"attempt {attempt_id}: Stripe could not say ({error.message})")
            failed += 1
            continue
        with db.unit_of_work() as session:
            attempt = session.scalars(
                select(CheckoutAttempt).where(CheckoutAttempt.id == attempt_id)
            ).one()
            if apply(session, attempt, resolution):
                resolved += 1
                click.echo(f"attempt {attempt_id}: {attempt.status.value}")
            else:
                left += 1
    click.echo(
        f"{len(stale)} stale attempts: {resolved} resolved, {left} still open, {failed} unknown"
    )
    if failed:
        raise SystemExit(1)
