"""The payouts reports: the list's range and totals, a payout's lines, and the month end."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from service.ledger import Donation, Payout, PayoutItem
from service.staff.reports import month_end, payout_lines, payout_totals, payouts_between
from tests.staff import factories


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def _payout(
    session: Session, name: str, status: str, made: str, arrives: str, **sums: Any
) -> Payout:
    row = Payout(
        stripe_payout_id=f"po_{name}",
        status=status,
        amount_minor=sums.pop("amount_minor"),
        currency=sums.pop("currency", "eur"),
        arrival_at=datetime.fromisoformat(arrives).replace(tzinfo=UTC),
        stripe_created_at=_at(made),
        stripe_state_at=_at(made),
        contents_at=_at(made),
        **sums,
    )
    session.add(row)
    session.flush()
    return row


def _item(payout: Payout, donation: Donation | None, kind: str, amount: int, **extra: Any) -> None:
    fee = extra.pop("fee", 0)
    payout.items.append(
        PayoutItem(
            stripe_balance_transaction_id=f"txn_{payout.stripe_payout_id}_{len(payout.items)}",
            kind=kind,
            type=extra.pop("type", "charge" if kind == "gift" else kind),
            reporting_category=extra.pop("category", "charge" if kind == "gift" else kind),
            amount_minor=amount,
            fee_minor=fee,
            net_minor=amount - fee,
            currency=payout.currency,
            donation_id=donation.id if donation else None,
            stripe_created_at=payout.stripe_created_at,
            **extra,
        )
    )
    if donation is not None and kind == "gift":
        donation.payout_id = payout.id


def _gift(session: Session, amount: int, fee: int, day: str) -> Donation:
    return factories.donation(
        session, amount_minor=amount, fee_minor=fee, net_minor=amount - fee, paid_at=_at(day)
    )


def test_the_month_end_view_of_received_paid_out_in_transit_and_failed(session: Session) -> None:
    older = _gift(session, 900, 30, "2026-09-28")
    paid = _gift(session, 1000, 40, "2026-10-02")
    failed_then_repaid = _gift(session, 2000, 55, "2026-10-10")
    failed_only = _gift(session, 3000, 70, "2026-10-20")
    waiting = _gift(session, 4000, 85, "2026-10-30")
    september = _payout(session, "sep", "paid", "2026-09-29", "2026-09-30", amount_minor=870)
    _item(september, older, "gift", 900, fee=30)
    arrived = _payout(session, "a", "paid", "2026-10-04", "2026-10-06", amount_minor=960)
    _item(arrived, paid, "gift", 1000, fee=40)
    failed = _payout(session, "f", "failed", "2026-10-12", "2026-10-14", amount_minor=1945)
    _item(failed, failed_then_repaid, "gift", 2000, fee=55)
    again = _payout(session, "again", "in_transit", "2026-10-31", "2026-11-02", amount_minor=1945)
    _item(
        again,
        None,
        "other",
        1945,
        type="payout_failure",
        category="payout_reversal",
        stripe_source_id="po_f",
    )
    lost = _payout(session, "lost", "failed", "2026-10-22", "2026-10-24", amount_minor=2930)
    _item(lost, failed_only, "gift", 3000, fee=70)
    session.flush()

    [row] = month_end(session, date(2026, 10, 1))
    assert row.currency == "eur"
    assert row.received is not None and row.received.gross_minor == 1000 + 2000 + 3000 + 4000
    assert row.received.fees_minor == 40 + 55 + 70 + 85
    assert [p.stripe_payout_id for p in row.paid_out] == ["po_a"] and row.paid_out_minor == 960
    assert [p.stripe_payout_id for p in row.in_transit] == ["po_again"]
    assert row.in_transit_minor == 1945
    assert sorted(p.stripe_payout_id for p in row.failed) == ["po_f", "po_lost"]
    assert row.failed_minor == 1945 + 2930
    # The failed payout's gift went out again; the lost one's and the newest have not.
    assert row.not_paid_out == 2
    assert row.not_paid_out_minor == (3000 - 70) + (4000 - 85)
    assert waiting.id not in {i.donation_id for p in (arrived, again) for i in p.items}

    [november] = month_end(session, date(2026, 11, 1))
    assert november.received is None and november.in_transit == [again]
    assert november.paid_out == []  # it arrives only once Stripe says it is paid
    again.status = "paid"
    [november] = month_end(session, date(2026, 11, 1))
    assert november.paid_out_minor == 1945 and november.in_transit == []

    lines = payout_lines(session, again)
    assert [line.failed_payout for line in lines] == [failed]
    [line] = payout_lines(session, arrived)
    assert line.donation is not None and line.donation.id == paid.id
    assert (line.item.kind, line.item.amount_minor, line.item.fee_minor) == ("gift", 1000, 40)
    assert (line.donation.amount_minor, line.donation.frequency) == (1000, "one_off")


def test_the_list_keeps_to_its_range_and_totals_leave_failed_payouts_out(
    session: Session,
) -> None:
    sums = {"gifts": 1, "gross_minor": 1000, "fees_minor": 40, "net_minor": 960}
    _payout(session, "early", "paid", "2026-10-31", "2026-11-02", amount_minor=960, **sums)
    _payout(session, "in", "paid", "2026-11-01", "2026-11-03", amount_minor=960, **sums)
    _payout(session, "bad", "failed", "2026-11-02", "2026-11-04", amount_minor=960, **sums)
    _payout(
        session,
        "usd",
        "in_transit",
        "2026-11-03",
        "2026-11-05",
        amount_minor=500,
        currency="usd",
        gifts=1,
        gross_minor=520,
        fees_minor=20,
        net_minor=500,
    )
    found = payouts_between(session, date(2026, 11, 1), date(2026, 11, 30))
    assert [p.stripe_payout_id for p in found] == ["po_usd", "po_bad", "po_in"]
    assert [
        p.stripe_payout_id
        for p in payouts_between(session, date(2026, 11, 1), date(2026, 11, 30), "usd")
    ] == ["po_usd"]
    eur, usd = payout_totals(found)
    assert (eur.currency, eur.payouts, eur.amount_minor, eur.gross_minor) == ("eur", 1, 960, 1000)
    assert (usd.currency, usd.amount_minor, usd.fees_minor) == ("usd", 500, 20)
