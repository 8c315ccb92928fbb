"""Whole stories over HTTP: the sandbox pays, renews, refunds and disputes, and delivers
its signed webhooks to the running service; the supporter count follows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ledger.models import (
    Donation,
    DonationStatus,
    EventOutcome,
    Frequency,
    Interval,
    MonthlyDonation,
    MonthlyStatus,
    StripeEvent,
)
from tests.ledger.conftest import Stack, charge_of_invoice, pay


def _donations(stack: Stack) -> list[Donation]:
    with Session(stack.engine) as session:
        return list(session.scalars(select(Donation).order_by(Donation.id)))


def _monthly(stack: Stack, subscription_id: str) -> MonthlyDonation:
    with Session(stack.engine) as session:
        return session.scalars(
            select(MonthlyDonation).where(MonthlyDonation.stripe_subscription_id == subscription_id)
        ).one()


def test_one_off_counts_once_paid_and_leaves_the_count_when_refunded(stack: Stack) -> None:
    assert stack.count() == 0

    donor = pay(stack.sandbox, stack.settings, amount=2500)
    stack.settle()

    assert stack.count() == 1
    [donation] = _donations(stack)
    assert donation.frequency is Frequency.ONE_OFF
    assert (donation.amount_minor, donation.currency) == (2500, "eur")
    assert donation.stripe_payment_intent_id == donor.payment_intent_id
    assert donation.stripe_checkout_session_id == donor.session_id
    assert donation.stripe_customer_id == donor.customer_id
    assert donation.email == donor.email
    assert donation.campaign == "spring"
    assert donation.variant == "a"
    assert donation.status is DonationStatus.SUCCEEDED

    stack.sandbox.sim.refund(charge_id=donor.charge_id)
    stack.settle()

    assert stack.count() == 0
    [donation] = _donations(stack)
    assert donation.status is DonationStatus.REFUNDED
    assert donation.amount_refunded_minor == 2500
    assert donation.stripe_charge_id == donor.charge_id
    with Session(stack.engine) as session:
        outcomes = set(session.scalars(select(StripeEvent.outcome)))
    # Events we do not handle (customer.created, charge.succeeded, ...) are kept as ignored.
    assert outcomes == {EventOutcome.APPLIED, EventOutcome.IGNORED}


def test_partial_refund_keeps_the_supporter(stack: Stack) -> None:
    donor = pay(stack.sandbox, stack.settings, amount=3000)
    stack.sandbox.sim.refund(charge_id=donor.charge_id, amount=1000)
    stack.settle()

    [donation] = _donations(stack)
    assert donation.status is DonationStatus.PARTIALLY_REFUNDED
    assert donation.amount_refunded_minor == 1000
    assert stack.count() == 1


def test_dispute_removes_the_payment_and_a_won_dispute_restores_it(stack: Stack) -> None:
    lost = pay(stack.sandbox, stack.settings)
    won = pay(stack.sandbox, stack.settings)
    stack.settle()
    assert stack.count() == 2

    lost_dispute = stack.sandbox.sim.dispute(lost.charge_id).object
    won_dispute = stack.sandbox.sim.dispute(won.charge_id).object
    stack.settle()
    assert stack.count() == 0
    assert {d.status for d in _donations(stack)} == {DonationStatus.DISPUTED}

    stack.sandbox.sim.close_dispute(lost_dispute["id"], "lost")
    stack.sandbox.sim.close_dispute(won_dispute["id"], "won")
    stack.settle()

    by_charge = {d.stripe_charge_id: d for d in _donations(stack)}
    assert by_charge[lost.charge_id].status is DonationStatus.DISPUTE_LOST
    assert by_charge[won.charge_id].status is DonationStatus.SUCCEEDED
    assert by_charge[lost.charge_id].disputed_at is not None
    assert stack.count() == 1


def test_monthly_gift_through_renewals_a_failure_and_cancellation(stack: Stack) -> None:
    sim = stack.sandbox.sim
    donor = pay(stack.sandbox, stack.settings, frequency="monthly", amount=500)
    stack.settle()
    assert donor.subscription_id
    assert stack.count() == 1
    monthly = _monthly(stack, donor.subscription_id)
    assert (monthly.status, monthly.amount_minor) == (MonthlyStatus.ACTIVE, 500)
    assert monthly.campaign == "spring"

    sim.renew_subscription(donor.subscription_id, "paid")
    stack.settle()
    sim.renew_subscription(donor.subscription_id, "failed")
    stack.settle()
    assert _monthly(stack, donor.subscription_id).status is MonthlyStatus.PAST_DUE
    assert stack.count() == 1, "a past_due monthly gift still counts"

    sim.renew_subscription(donor.subscription_id, "paid")
    stack.settle()
    monthly = _monthly(stack, donor.subscription_id)
    assert monthly.status is MonthlyStatus.ACTIVE
    donations = _donations(stack)
    assert len(donations) == 3, "the first payment and two paid renewals"
    assert {d.frequency for d in donations} == {Frequency.MONTHLY}
    assert {d.monthly_donation_id for d in donations} == {monthly.id}
    assert all(d.stripe_invoice_id and d.stripe_charge_id for d in donations)
    assert len({d.stripe_invoice_id for d in donations}) == 3

    sim.change_amount(donor.subscription_id, 1500)
    stack.settle()
    assert _monthly(stack, donor.subscription_id).amount_minor == 1500

    sim.cancel_subscription(donor.subscription_id, at_period_end=True)
    stack.settle()
    monthly = _monthly(stack, donor.subscription_id)
    assert monthly.cancel_at_period_end
    assert monthly.status is MonthlyStatus.ACTIVE
    assert stack.count() == 1, "counts until the paid month ends"

    sim.renew_subscription(donor.subscription_id)  # the period ends: Stripe cancels it
    stack.settle()
    monthly = _monthly(stack, donor.subscription_id)
    assert monthly.status is MonthlyStatus.CANCELED
    assert monthly.ended_at is not None
    assert stack.count() == 0


def test_annual_gift_renews_yearly_counts_while_past_due_and_ends(stack: Stack) -> None:
    sim = stack.sandbox.sim
    donor = pay(stack.sandbox, stack.settings, frequency="annual", amount=12000)
    stack.settle()
    assert donor.subscription_id
    price = stack.sandbox.state.get(donor.subscription_id)["items"]["data"][0]["price"]
    assert price["recurring"]["interval"] == "year"
    annual = _monthly(stack, donor.subscription_id)
    assert (annual.status, annual.interval, annual.amount_minor) == (
        MonthlyStatus.ACTIVE,
        Interval.YEAR,
        12000,
    )
    assert annual.frequency is Frequency.ANNUAL
    assert annual.started_at and annual.current_period_end
    assert 365 <= (annual.current_period_end - annual.started_at).days <= 366
    assert stack.count() == 1

    first_end = annual.current_period_end
    sim.renew_subscription(donor.subscription_id, "failed")
    stack.settle()
    assert _monthly(stack, donor.subscription_id).status is MonthlyStatus.PAST_DUE
    assert stack.count() == 1, "a past-due annual gift still counts"

    sim.renew_subscription(donor.subscription_id, "paid")
    stack.settle()
    annual = _monthly(stack, donor.subscription_id)
    assert annual.status is MonthlyStatus.ACTIVE
    assert annual.current_period_end and annual.current_period_end > first_end
    donations = _donations(stack)
    assert len(donations) == 2, "the first year and one paid renewal"
    assert {d.frequency for d in donations} == {Frequency.ANNUAL}
    assert {d.amount_minor for d in donations} == {12000}
    assert {d.monthly_donation_id for d in donations} == {annual.id}

    sim.cancel_subscription(donor.subscription_id)
    stack.settle()
    assert _monthly(stack, donor.subscription_id).status is MonthlyStatus.CANCELED
    assert stack.count() == 0


def test_refund_of_a_monthly_payment_marks_that_month(stack: Stack) -> None:
    donor = pay(stack.sandbox, stack.settings, frequency="monthly", amount=700)
    assert donor.subscription_id
    invoice_id = stack.sandbox.state.get(donor.subscription_id)["latest_invoice"]
    stack.sandbox.sim.refund(charge_id=charge_of_invoice(stack.sandbox, invoice_id))
    stack.settle()

    [donation] = _donations(stack)
    assert donation.status is DonationStatus.REFUNDED
    assert stack.count() == 1, "the monthly gift itself is still active"


def test_one_person_with_two_customers_counts_once(stack: Stack) -> None:
    pay(stack.sandbox, stack.settings, email="same@example.com")
    pay(stack.sandbox, stack.settings, frequency="monthly", email="Same@Example.com")
    stack.settle()

    assert len(_donations(stack)) == 2
    assert stack.count() == 1
