"""insert_ignoring_conflicts tells whether its row went in, on SQLite and PostgreSQL.

It used to read the cursor's rowcount, which on PostgreSQL is -1 whether a row went in
or not (SQLAlchemy returns the new primary key implicitly), so every call said True there.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.db import insert_ignoring_conflicts
from service.core.jobs.models import Job, jobs_table


def test_the_second_insert_of_a_key_says_it_inserted_nothing(session: Session) -> None:
    row = {"kind": "probe", "key": "probe:once", "payload": {}}
    assert insert_ignoring_conflicts(session, jobs_table, row) is True
    assert insert_ignoring_conflicts(session, jobs_table, {**row, "kind": "other"}) is False
    assert session.scalar(select(func.count()).select_from(Job)) == 1
    assert session.scalar(select(Job.kind)) == "probe"
