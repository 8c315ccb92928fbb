"""CSV exports: streamed, every cell a spreadsheet will not run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from service.core.models import utcnow
from service.staff.csv_export import FORMULA_TRIGGERS, iter_csv, neutralise_cell
from service.staff.models import StaffRole
from tests.staff import factories
from tests.staff.helpers import arranged, sign_in


def test_cells_that_start_like_formulas_become_text() -> None:
    assert neutralise_cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    for trigger in FORMULA_TRIGGERS:
        assert neutralise_cell(f"{trigger}1+1") == f"'{trigger}1+1"
    assert neutralise_cell("reader@mail.example") == "reader@mail.example"
    assert neutralise_cell(None) == ""
    assert neutralise_cell(42) == "42"
    assert neutralise_cell(-700) == "-700"  # an amount, not a formula
    assert neutralise_cell("-700") == "'-700"  # text typed in by someone stays neutralised


@given(st.text())
def test_no_cell_ever_starts_with_a_formula_trigger(text: str) -> None:
    assert not neutralise_cell(text).startswith(FORMULA_TRIGGERS)


def test_iter_csv_yields_in_chunks_and_round_trips() -> None:
    rows = [[i, f"row {i}", "=cmd"] for i in range(2000)]
    chunks = list(iter_csv(["id", "text", "evil"], rows))
    assert len(chunks) > 1
    parsed = list(csv.reader(io.StringIO("".join(chunks))))
    assert parsed[0] == ["id", "text", "evil"]
    assert parsed[1999 + 1] == ["1999", "row 1999", "'=cmd"]


def test_donations_csv_streams_the_filtered_rows(app: Flask, client: FlaskClient) -> None:
    now = utcnow()
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.VIEWER)
        factories.donation(
            session,
            email="=cmd|'/C calc'!A0@mail.example",
            amount_minor=1250,
            campaign="spring",
            paid_at=now,
        )
        factories.donation(
            session, email="other@mail.example", currency="gbp", paid_at=now - timedelta(days=1)
        )
    sign_in(client, user.email)
    response = client.get("/staff/reports/donations.csv?currency=eur")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="donations-')
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert rows[0]["email"] == "'=cmd|'/C calc'!A0@mail.example"
    assert (rows[0]["amount"], rows[0]["currency"], rows[0]["campaign"]) == (
        "12.50",
        "eur",
        "spring",
    )


def test_supporters_csv_lists_supporters_with_their_gifts(app: Flask, client: FlaskClient) -> None:
    now = utcnow()
    with arranged(app) as session:
        user = factories.staff_user(session, StaffRole.VIEWER)
        person = factories.supporter(
            session, email="+1@mail.example", supported_until=now + timedelta(days=3)
        )
        factories.donation(session, supporter_id=person.id, paid_at=now)
        factories.donation(session, supporter_id=person.id, paid_at=now - timedelta(days=2))
        factories.supporter(session, email="gone@mail.example")
    sign_in(client, user.email)
    text = client.get("/staff/reports/supporters.csv?state=supporting").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["email"], r["supporting_now"], r["donations"]) for r in rows] == [
        ("'+1@mail.example", "yes", "2")
    ]
