"""`flask --app service outbound-endpoint add URL`: register an endpoint, print its secret."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from service.core.extensions import db
from service.outbound.endpoints import EndpointRefused, add_endpoint, all_endpoints, rotate_secret
from service.outbound.models import OutboundEndpoint


@click.group("outbound-endpoint")
def endpoint_group() -> None:
    """Endpoints of the newsroom's systems that receive signed events."""


@endpoint_group.command("add")
@click.argument("url")
@click.option("--description", default="", help="What the system is, for staff.")
@with_appcontext
def add_command(url: str, description: str) -> None:
    """Register URL; prints its signing secret once (store it in the receiving system)."""
    try:
        with db.unit_of_work() as session:
            endpoint, secret = add_endpoint(
                session, current_app.extensions["settings"], url, description
            )
            endpoint_id = endpoint.id
    except EndpointRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"endpoint {endpoint_id}: {url.strip()}")
    click.echo(f"signing secret (shown once): {secret}")


@endpoint_group.command("rotate")
@click.argument("endpoint_id", type=int)
@with_appcontext
def rotate_command(endpoint_id: int) -> None:
    """A new secret for an endpoint, printed once; the old one signs too for 24 hours."""
    with db.unit_of_work() as session:
        endpoint = session.get(OutboundEndpoint, endpoint_id)
        if endpoint is None:
            raise click.ClickException(f"no endpoint {endpoint_id}")
        secret = rotate_secret(session, endpoint)
    click.echo(f"new signing secret (shown once): {secret}")


@endpoint_group.command("list")
@with_appcontext
def list_command() -> None:
    """The registered endpoints (never their secrets)."""
    for endpoint in all_endpoints(db.session):
        state = "active" if endpoint.active else "paused"
        click.echo(f"{endpoint.id}\t{state}\t{endpoint.url}\t{endpoint.description}")
