"""The ledger: what Stripe told us about money, and who that makes a supporter.

Checkout attempts, payments, recurring gifts, supporters and the Stripe event inbox; the
webhook endpoint, the supporter count API, and the recount and reconcile commands.
Other features import only what this package exports below.
"""

from __future__ import annotations

from flask import Flask

from service.core.extensions import api_of
from service.core.jobs import every_day, register
from service.ledger import api, applying, cli, event_commands, payouts, webhook_endpoint
from service.ledger.changes import Change, LedgerChange, on_change
from service.ledger.inbox import replay_event, why_ignored
from service.ledger.lapses import LAPSES_KIND, announce_lapses
from service.ledger.models import (
    AttemptStatus,
    CheckoutAttempt,
    Donation,
    DonationStatus,
    EventOutcome,
    Frequency,
    Interval,
    MonthlyDonation,
    MonthlyStatus,
    StripeEvent,
    Supporter,
)
from service.ledger.notices import NOTICE_KIND, Notice
from service.ledger.payout_models import ItemKind, Payout, PayoutItem, PayoutStatus
from service.ledger.supporters import count_supporters, describe_count, display_count
from service.ledger.webhook_registration import (
    Registration,
    RegistrationRefused,
    handled_event_types,
    register_webhook_endpoint,
)

__all__ = [
    "NOTICE_KIND",
    "AttemptStatus",
    "Change",
    "CheckoutAttempt",
    "Donation",
    "DonationStatus",
    "EventOutcome",
    "Frequency",
    "Interval",
    "ItemKind",
    "LedgerChange",
    "MonthlyDonation",
    "MonthlyStatus",
    "Notice",
    "Payout",
    "PayoutItem",
    "PayoutStatus",
    "Registration",
    "RegistrationRefused",
    "StripeEvent",
    "Supporter",
    "count_supporters",
    "describe_count",
    "display_count",
    "handled_event_types",
    "init_app",
    "on_change",
    "register_webhook_endpoint",
    "replay_event",
    "why_ignored",
]


def init_app(app: Flask) -> None:
    """Register the webhook endpoint, the job that applies its events, the count API, the
    ledger's commands and jobs."""
    api_of(app).register_blueprint(api.blp)
    app.register_blueprint(webhook_endpoint.bp)
    register(
        applying.APPLY_KIND,
        applying.handle_job,
        prepare=applying.prepare_job,
        on_failure=applying.on_job_failure,
    )
    app.cli.add_command(cli.recount_command)
    app.cli.add_command(cli.reconcile_command)
    app.cli.add_command(cli.stripe_webhook_group)
    app.cli.add_command(event_commands.replay_events_command)
    # Support that runs out with time changes no row: a daily job announces it.
    register(LAPSES_KIND, announce_lapses)
    every_day(LAPSES_KIND)
    payouts.init_app()
