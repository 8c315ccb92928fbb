"""The supporter definition, kept per person, and the public count endpoint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.ledger.models import (
    FOREVER,
    Donation,
    DonationStatus,
    Frequency,
    MonthlyDonation,
    MonthlyStatus,
    Supporter,
)
from service.ledger.supporters import count_supporters, recount, refresh_supporter
from tests.ledger.stripe_events import deliver, event, new_id, one_off_session


def _supporter(session: Session) -> Supporter:
    supporter = Supporter(email=f"{new_id('p')}@example.com")
    session.add(supporter)
    session.flush()
    return supporter


def _one_off(session: Session, supporter: Supporter, days_ago: int, **values: Any) -> Donation:
    donation = Donation(
        frequency=Frequency.ONE_OFF,
        supporter_id=supporter.id,
        amount_minor=values.pop("amount_minor", 1000),
        currency="eur",
        paid_at=utcnow() - timedelta(days=days_ago),
        stripe_payment_intent_id=new_id("pi_"),
        **values,
    )
    session.add(donation)
    session.flush()
    return donation


def _monthly(session: Session, supporter: Supporter, status: MonthlyStatus) -> MonthlyDonation:
    gift = MonthlyDonation(
        stripe_subscription_id=new_id("sub_"),
        supporter_id=supporter.id,
        status=status,
        amount_minor=500,
        currency="eur",
        started_at=utcnow() - timedelta(days=400),
    )
    session.add(gift)
    session.flush()
    return gift


@pytest.mark.parametrize(
    ("monthly", "one_offs", "expected_days"),
    [
        (None, [], None),
        (MonthlyStatus.ACTIVE, [], "forever"),
        (MonthlyStatus.PAST_DUE, [], "forever"),
        (MonthlyStatus.CANCELED, [], None),
        (MonthlyStatus.INCOMPLETE, [], None),
        (MonthlyStatus.CANCELED, [(10, DonationStatus.SUCCEEDED)], 355),
        (None, [(10, DonationStatus.SUCCEEDED), (40, DonationStatus.SUCCEEDED)], 355),
        (None, [(10, DonationStatus.REFUNDED), (40, DonationStatus.SUCCEEDED)], 325),
        (None, [(10, DonationStatus.PARTIALLY_REFUNDED)], 355),
        (None, [(10, DonationStatus.DISPUTED)], None),
        (None, [(10, DonationStatus.DISPUTE_LOST)], None),
        (None, [(400, DonationStatus.SUCCEEDED)], -35),
    ],
)
def test_supported_until_follows_the_definition(
    app: Flask,
    session: Session,
    monthly: MonthlyStatus | None,
    one_offs: list[tuple[int, DonationStatus]],
    expected_days: int | str | None,
) -> None:
    settings = app.extensions["settings"]
    supporter = _supporter(session)
    if monthly:
        _monthly(session, supporter, monthly)
    for days_ago, status in one_offs:
        _one_off(session, supporter, days_ago, status=status)

    refresh_supporter(session, supporter, settings)

    if expected_days is None:
        assert supporter.supported_until is None
    elif expected_days == "forever":
        assert supporter.supported_until == FOREVER
    else:
        assert isinstance(expected_days, int)
        remaining = supporter.supported_until - utcnow()  # type: ignore[operator]
        assert abs(remaining - timedelta(days=expected_days)) < timedelta(minutes=1)
    counted = expected_days is not None and (expected_days == "forever" or expected_days > 0)
    assert count_supporters(session, settings) == int(counted)
    assert recount(session, settings).changes == []


def test_monthly_payments_alone_do_not_extend_a_canceled_gift(app: Flask, session: Session) -> None:
    supporter = _supporter(session)
    gift = _monthly(session, supporter, MonthlyStatus.CANCELED)
    session.add(
        Donation(
            frequency=Frequency.MONTHLY,
            supporter_id=supporter.id,
            monthly_donation_id=gift.id,
            amount_minor=500,
            currency="eur",
            paid_at=utcnow() - timedelta(days=3),
            stripe_invoice_id=new_id("in_"),
        )
    )
    session.flush()

    refresh_supporter(session, supporter, app.extensions["settings"])

    assert supporter.supported_until is None


class TestCountEndpoint:
    @pytest.fixture
    def app_overrides(self, app_overrides: dict[str, Any]) -> dict[str, Any]:
        return app_overrides | {"supporter_count_offset": 5400}

    def test_count_display_and_definition(self, client: FlaskClient, session: Session) -> None:
        for n in range(3):
            checkout = one_off_session(email=f"count{n}@example.com")
            assert deliver(client, event("checkout.session.completed", checkout)).status_code == 200

        response = client.get("/api/v1/supporters/count")

        assert response.status_code == 200
        assert response.json["count"] == 5403
        assert response.json["display"] == "over 5,400"
        assert "5,400 supporters from before this service" in response.json["definition"]
        assert "365 days" in response.json["definition"]
        assert set(response.json) == {"count", "display", "definition"}
        assert "public" in response.headers["Cache-Control"]

    def test_reading_the_count_never_touches_the_ledger(
        self, app: Flask, client: FlaskClient, session: Session
    ) -> None:
        from sqlalchemy import event as sa_event

        statements: list[str] = []
        connection = session.connection()

        def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        sa_event.listen(connection, "before_cursor_execute", remember)
        try:
            assert client.get("/api/v1/supporters/count").status_code == 200
        finally:
            sa_event.remove(connection, "before_cursor_execute", remember)
        assert statements, "the count was read from the database"
        assert all("donations" not in s and "monthly_donations" not in s for s in statements)

    def test_the_endpoint_is_in_the_openapi_document(self, client: FlaskClient) -> None:
        spec = client.get("/api/openapi.json").json
        assert "/api/v1/supporters/count" in spec["paths"]


def test_supporters_are_one_per_person_across_customers(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    for customer in ("cus_a", "cus_b", "cus_a"):
        checkout = one_off_session(customer=customer, email="One@Example.com")
        assert deliver(client, event("checkout.session.completed", checkout)).status_code == 200

    assert session.scalar(select(func.count()).select_from(Supporter)) == 1
    assert session.scalar(select(func.count()).select_from(Donation)) == 3
    assert count_supporters(session, app.extensions["settings"]) == 1
