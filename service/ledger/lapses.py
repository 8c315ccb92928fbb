"""Supporters whose support ran out with time (a one-off gift's window ended): a daily job.

A refund or a cancellation that ends someone's support is announced where it is
recorded; support that simply runs out changes no row, so each day the job announces
the supporters whose `supported_until` fell in the day before, keyed like the other
path so one lapse is announced once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from service.core.jobs import JobRun
from service.core.models import utcnow
from service.ledger.changes import Change, announce_supporter
from service.ledger.models import Supporter
from service.ledger.recording import lapse_key

LAPSES_KIND = "ledger.lapses"


def announce_lapses(run: JobRun) -> None:
    """Announce each supporter whose support ended during the payload's day."""
    day = date.fromisoformat(str(run.payload["day"]))
    start = datetime.combine(day, time.min, tzinfo=UTC)
    end = min(start + timedelta(days=1), utcnow())
    lapsed = run.session.scalars(
        select(Supporter)
        .where(Supporter.supported_until >= start, Supporter.supported_until < end)
        .order_by(Supporter.id)
    )
    for supporter in lapsed:
        assert supporter.supported_until is not None
        announce_supporter(
            run.session,
            Change.SUPPORTER_LAPSED,
            supporter,
            lapse_key(supporter),
            supporter.supported_until,
        )
