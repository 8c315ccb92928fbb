"""The ledger: what Stripe told us about money, and who that makes a supporter.

Checkout attempts, payments, recurring gifts, supporters and the Stripe event inbox; the
webhook endpoint, the supporter count API, and the recount and reconcile commands.
"""

from __future__ import annotations

from flask import Flask

from service.core.extensions import api_of


def init_app(app: Flask) -> None:
    """Register the webhook endpoint, the count API and the ledger's commands."""
    from service.ledger import api, cli, webhook_endpoint

    api_of(app).register_blueprint(api.blp)
    app.register_blueprint(webhook_endpoint.bp)
    app.cli.add_command(cli.recount_command)
    app.cli.add_command(cli.reconcile_command)
