"""One supporter: gifts, monthly gifts, the messages we sent them, and a sign-in link."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from service.core.extensions import db
from service.core.jobs import Job
from service.ledger import Donation, MonthlyDonation, Supporter
from service.readers import ReaderMessage, issue_link
from service.staff.forms import ConfirmForm
from service.staff.views.common import require_valid, settings

# How many of each list the page shows (newest first); the lists page has the rest.
SHOWN = 200


def supporter(supporter_id: int) -> ResponseReturnValue:
    """Everything about one supporter that staff may need to help them."""
    person = db.session.get(Supporter, supporter_id)
    if person is None:
        abort(404)
    donations = db.session.scalars(
        select(Donation)
        .where(Donation.supporter_id == person.id)
        .order_by(Donation.paid_at.desc())
        .limit(SHOWN)
    ).all()
    monthlies = db.session.scalars(
        select(MonthlyDonation)
        .where(MonthlyDonation.supporter_id == person.id)
        .order_by(MonthlyDonation.id.desc())
    ).all()
    messages = db.session.scalars(
        select(ReaderMessage)
        .where(ReaderMessage.supporter_id == person.id)
        .order_by(ReaderMessage.id.desc())
        .limit(SHOWN)
    ).all()
    # A queued message's delivery state is its send job's: waiting, retrying, given up.
    jobs = {
        job.key: job
        for job in db.session.scalars(
            select(Job).where(Job.key.in_([f"send:{m.key}" for m in messages]))
        )
    }
    return render_template(
        "staff/supporter.html",
        person=person,
        donations=donations,
        monthlies=monthlies,
        messages=[(m, jobs.get(f"send:{m.key}")) for m in messages],
        send_form=ConfirmForm(),
    )


def send_sign_in_link(supporter_id: int) -> ResponseReturnValue:
    """Email the supporter a sign-in link (they asked staff for help)."""
    require_valid(ConfirmForm())
    person = db.session.get(Supporter, supporter_id)
    if person is None:
        abort(404)
    if person.email is None:
        flash("This supporter has no email address to send a link to.")
    else:
        issue_link(db.session, settings(), person, None)
        flash(f"A sign-in link is on its way to {person.email}.", "ok")
    return redirect(url_for("staff.supporter", supporter_id=person.id), 303)
