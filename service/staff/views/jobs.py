"""Background jobs: what is queued, running, failing or dead, and retrying one."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from service.core.extensions import db
from service.core.jobs import Job, JobStatus, retry_job, status_counts
from service.staff import reports
from service.staff.accounts import require_role
from service.staff.forms import ConfirmForm
from service.staff.views.common import page_number, query_without_page, require_valid

# Done jobs are counted, not listed: the page is for what needs watching.
LISTED = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.DEAD)
RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.DEAD})


def jobs() -> ResponseReturnValue:
    """List queued, running, failed and dead jobs (or one status), newest change first."""
    wanted = request.args.get("status", "")
    statuses = [JobStatus(wanted)] if wanted in {s.value for s in LISTED} else list(LISTED)
    page = page_number()
    statement = (
        select(Job).where(Job.status.in_(statuses)).order_by(Job.updated_at.desc(), Job.id.desc())
    )
    rows, has_next = reports.page_of(db.session, statement, page, scalars=True)
    return render_template(
        "staff/jobs.html",
        rows=rows,
        counts=status_counts(db.session),
        done=JobStatus.DONE,
        listed=LISTED,
        status=wanted,
        retryable=RETRYABLE,
        page=page,
        has_next=has_next,
        query=query_without_page(),
        retry_form=ConfirmForm(),
        pretty=lambda payload: json.dumps(payload, indent=2, sort_keys=True)[:20_000],
    )


@require_role("admin")
def retry(job_id: int) -> ResponseReturnValue:
    """Queue a failed or dead job to run again now, with a fresh set of tries."""
    require_valid(ConfirmForm())
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    if retry_job(db.session, job.id):
        flash(f"Job {job.id} ({job.kind}) is queued to run again.", "ok")
    else:
        flash(f"Job {job.id} is {job.status.value}; only failed and dead jobs are retried.")
    return redirect(url_for("staff.jobs"))
