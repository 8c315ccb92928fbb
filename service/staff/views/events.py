"""The Stripe event inbox: what needs attention first, every outcome a click away, replay."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.core.extensions import db
from service.core.input_guard import refuse_parameter
from service.core.models import utcnow
from service.ledger import EventOutcome, StripeEvent, replay_event, why_ignored
from service.staff import reports
from service.staff.accounts import require_role
from service.staff.forms import ConfirmForm
from service.staff.views.common import page_number, query_without_page, require_valid, settings


def events() -> ResponseReturnValue:
    """List the inbox's events that need attention (or another view), newest first."""
    wanted = request.args.get("view", "")
    view = wanted if wanted in reports.INBOX_VIEWS else "attention"
    if wanted and wanted != view:
        refuse_parameter("view", "No such view of the inbox; showing what needs attention.")
    now = utcnow()
    page = page_number()
    rows, has_next = reports.page_of(
        db.session, reports.events_statement(view, now), page, scalars=True
    )
    return render_template(
        "staff/events.html",
        rows=rows,
        view=view,
        page=page,
        has_next=has_next,
        query=query_without_page(),
        replay_form=ConfirmForm(),
        pretty=lambda payload: json.dumps(payload, indent=2, sort_keys=True)[:20_000],
        why_ignored=why_ignored,
        dead_after=reports.DEAD_AFTER_ATTEMPTS,
        recent_hours=reports.RECENT_APPLIED_HOURS,
    )


@require_role("admin")
def replay(event_id: int) -> ResponseReturnValue:
    """Queue a failed event to be applied again by a worker (with fresh tries)."""
    form = ConfirmForm()
    require_valid(form)
    row = db.session.get(StripeEvent, event_id)
    if row is None:
        abort(404)
    if row.outcome != EventOutcome.FAILED:
        flash(f"Event {row.stripe_event_id} is {row.outcome.value}; only failed events replay.")
        return redirect(url_for("staff.events"))
    outcome = replay_event(db.session, row, settings())
    flash(
        f"Queued {row.stripe_event_id} to be applied again; it is "
        f"{EventOutcome(outcome).value} until a worker applies it.",
        "ok",
    )
    return redirect(url_for("staff.events"))
