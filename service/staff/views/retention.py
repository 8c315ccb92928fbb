"""Churn per month and retention by cohort."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from service.core.extensions import db
from service.core.models import utcnow
from service.staff import reports


def retention() -> ResponseReturnValue:
    """Show churn of recurring gifts per month and supporters' retention by cohort."""
    now = utcnow()
    cohorts = reports.cohort_retention(db.session, now)
    return render_template(
        "staff/retention.html",
        now=now,
        churn=reports.churn_by_month(db.session, now),
        cohorts=cohorts,
        columns=max((len(c.giving) for c in cohorts), default=0),
        definition=reports.RETENTION_DEFINITION,
    )
