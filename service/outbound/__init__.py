"""Outbound events: signed webhooks to the newsroom's own systems (CRM, email tool, warehouse).

Staff register endpoints (the staff page, or `flask outbound-endpoint add URL`); every
ledger change the ledger announces becomes a delivery per endpoint, written in the same
transaction, posted by the job worker, signed per Standard Webhooks, retried, and shown
to staff with its answer. Sits above staff: it serves staff pages with staff's helpers.
"""

from __future__ import annotations

from flask import Flask

from service import ledger
from service.core.jobs import register
from service.outbound import cli, views
from service.outbound.deliveries import DELIVER_KIND, deliver_change, prepare_try, record_try
from service.outbound.models import DeliveryStatus, OutboundDelivery, OutboundEndpoint

__all__ = [
    "DeliveryStatus",
    "OutboundDelivery",
    "OutboundEndpoint",
    "init_app",
]


def init_app(app: Flask) -> None:
    """Follow the ledger's changes; register the delivery job, the pages and the command."""
    ledger.on_change(deliver_change)
    # Tries are chained by the delivery itself (with its own pauses and dead letter);
    # the job's own retries only cover a try whose answer could not be recorded.
    register(DELIVER_KIND, record_try, prepare=prepare_try, max_attempts=3)
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.endpoint_group)
