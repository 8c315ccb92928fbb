"""The Stripe event inbox: failed and ignored events, and replaying a failed one."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.core.extensions import db
from service.ledger import EventOutcome, StripeEvent, replay_event
from service.staff import reports
from service.staff.accounts import require_role
from service.staff.forms import ConfirmForm
from service.staff.views.common import page_number, query_without_page, require_valid, settings


def events() -> ResponseReturnValue:
    """List the failed and ignored Stripe events, newest first."""
    wanted = request.args.get("outcome", "")
    outcomes = (
        [EventOutcome(wanted)]
        if wanted in {EventOutcome.FAILED.value, EventOutcome.IGNORED.value}
        else [EventOutcome.FAILED, EventOutcome.IGNORED]
    )
    page = page_number()
    rows, has_next = reports.page_of(
        db.session, reports.events_statement(outcomes), page, scalars=True
    )
    return render_template(
        "staff/events.html",
        rows=rows,
        outcome=wanted,
        page=page,
        has_next=has_next,
        query=query_without_page(),
        replay_form=ConfirmForm(),
        pretty=lambda payload: json.dumps(payload, indent=2, sort_keys=True)[:20_000],
    )


@require_role("admin")
def replay(event_id: int) -> ResponseReturnValue:
    """Run a failed event through its handler again."""
    form = ConfirmForm()
    require_valid(form)
    row = db.session.get(StripeEvent, event_id)
    if row is None:
        abort(404)
    if row.outcome != EventOutcome.FAILED:
        flash(f"Event {row.stripe_event_id} is {row.outcome.value}; only failed events replay.")
        return redirect(url_for("staff.events"))
    outcome = replay_event(db.session, row, settings())
    flash(f"Replayed {row.stripe_event_id}: {EventOutcome(outcome).value}.", "ok")
    return redirect(url_for("staff.events"))
