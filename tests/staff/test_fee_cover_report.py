"""Staff see fee cover apart: what readers added to cover the processing fees."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.ledger.models import AttemptStatus, CheckoutAttempt, Frequency
from service.staff.models import StaffRole
from service.staff.reports import fee_cover_rows
from tests.staff import factories
from tests.staff.helpers import arranged, sign_in


def _attempt(session: Session, fee: int, status: AttemptStatus, **fields: object) -> None:
    values: dict[str, object] = {
        "frequency": Frequency.ONE_OFF,
        "amount_minor": 1000 + fee,
        "fee_cover_minor": fee,
        "currency": "eur",
        "status": status,
        "campaign": "spring",
    }
    values.update(fields)
    session.add(CheckoutAttempt(**values))


def _seed(session: Session) -> None:
    _attempt(session, 41, AttemptStatus.COMPLETED)
    _attempt(session, 41, AttemptStatus.COMPLETED)
    _attempt(session, 0, AttemptStatus.COMPLETED)
    _attempt(session, 41, AttemptStatus.EXPIRED)  # never paid: no fee cover
    _attempt(session, 33, AttemptStatus.COMPLETED, currency="gbp", campaign=None)
    _attempt(session, 41, AttemptStatus.COMPLETED, created_at=utcnow() - timedelta(days=60))


def test_fee_cover_per_campaign_and_currency(session: Session) -> None:
    _seed(session)
    session.flush()
    since = utcnow() - timedelta(days=30)
    rows = {(r.campaign, r.currency): r for r in fee_cover_rows(session, since)}
    assert set(rows) == {("spring", "eur"), (None, "gbp")}
    assert (rows[("spring", "eur")].gifts, rows[("spring", "eur")].fee_cover_minor) == (2, 82)
    assert rows[(None, "gbp")].fee_cover_minor == 33


def test_the_campaigns_page_shows_fee_cover(app: Flask, client: FlaskClient) -> None:
    with arranged(app) as session:
        _seed(session)
        user = factories.staff_user(session, StaffRole.VIEWER)
    assert sign_in(client, user.email).status_code == 302
    page = client.get("/staff/campaigns").get_data(as_text=True)
    assert 'data-fee-cover="spring-eur"' in page and "€0.82" in page
    assert "(not from an appeal)" in page and "£0.33" in page
