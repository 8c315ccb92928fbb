"""The supporter and donation lists and their CSV downloads (same filters for both)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from service.core.extensions import db
from service.core.models import utcnow
from service.core.money import format_plain
from service.ledger import DonationStatus, Frequency
from service.staff import reports
from service.staff.csv_export import csv_response
from service.staff.views.common import date_arg, page_number, settings


def _supporter_filters() -> reports.SupporterFilters:
    state = request.args.get("state", "")
    return reports.SupporterFilters(
        q=request.args.get("q", "")[:200],
        state=state if state in {"supporting", "lapsed"} else "",
    )


def _donation_filters() -> reports.DonationFilters:
    frequency = request.args.get("frequency", "")
    status = request.args.get("status", "")
    currency = request.args.get("currency", "").lower()
    return reports.DonationFilters(
        q=request.args.get("q", "")[:200],
        frequency=frequency if frequency in {f.value for f in Frequency} else "",
        status=status if status in {s.value for s in DonationStatus} else "",
        currency=currency if currency in settings().supported_currencies else "",
        campaign=request.args.get("campaign", "")[:80],
        paid_from=date_arg("from"),
        paid_to=date_arg("to"),
    )


def _query_withoutpage_number() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "page" and v}


def supporters() -> ResponseReturnValue:
    """List supporters, filtered and paged."""
    now = utcnow()
    filters = _supporter_filters()
    page = page_number()
    rows, has_next = reports.page_of(
        db.session, reports.supporters_statement(filters, now), page, scalars=False
    )
    return render_template(
        "staff/supporters.html",
        rows=rows,
        filters=filters,
        page=page,
        has_next=has_next,
        query=_query_withoutpage_number(),
        now=now,
    )


def donations() -> ResponseReturnValue:
    """List donations, filtered and paged."""
    filters = _donation_filters()
    page = page_number()
    rows, has_next = reports.page_of(
        db.session, reports.donations_statement(filters), page, scalars=True
    )
    return render_template(
        "staff/donations.html",
        rows=rows,
        filters=filters,
        page=page,
        has_next=has_next,
        query=_query_withoutpage_number(),
        frequencies=[f.value for f in Frequency],
        statuses=[s.value for s in DonationStatus],
        currencies=settings().supported_currencies,
    )


def supporters_csv() -> ResponseReturnValue:
    """Download the filtered supporters as CSV."""
    filters = _supporter_filters()
    now = utcnow()

    def rows() -> Iterator[list[Any]]:
        stmt = reports.supporters_statement(filters, now).execution_options(yield_per=1000)
        for supporter, gifts, last_paid_at, monthly_gifts in db.session.execute(stmt):
            supporting = supporter.supported_until is not None and supporter.supported_until > now
            yield [
                supporter.id,
                supporter.email,
                "yes" if supporting else "no",
                supporter.first_supported_at,
                supporter.supported_until,
                gifts,
                last_paid_at,
                monthly_gifts,
            ]

    header = [
        "supporter_id",
        "email",
        "supporting_now",
        "first_supported_at",
        "supported_until",
        "donations",
        "last_donation_at",
        "active_monthly_gifts",
    ]
    return csv_response(f"supporters-{now:%Y%m%d}.csv", header, rows)


def donations_csv() -> ResponseReturnValue:
    """Download the filtered donations as CSV."""
    filters = _donation_filters()

    def rows() -> Iterator[list[Any]]:
        stmt = reports.donations_statement(filters).execution_options(yield_per=1000)
        for donation in db.session.scalars(stmt):
            yield [
                donation.id,
                donation.paid_at,
                donation.frequency.value,
                donation.status.value,
                format_plain(donation.amount_minor, donation.currency),
                format_plain(donation.amount_refunded_minor, donation.currency),
                donation.currency,
                donation.email,
                donation.campaign,
                donation.variant,
                donation.placement,
                donation.stripe_customer_id,
                donation.stripe_payment_intent_id or donation.stripe_invoice_id,
                donation.supporter_id,
            ]

    header = [
        "donation_id",
        "paid_at",
        "frequency",
        "status",
        "amount",
        "refunded",
        "currency",
        "email",
        "campaign",
        "variant",
        "placement",
        "stripe_customer_id",
        "stripe_payment_or_invoice_id",
        "supporter_id",
    ]
    return csv_response(f"donations-{utcnow():%Y%m%d}.csv", header, rows)
