"""Self-service for every donor: sign in with an emailed link, see and manage every gift.

The reader's session is a short-lived mark in the service's own signed session cookie
(HttpOnly, SameSite=Lax), set only by spending a sign-in link. Everything here answers
with `Cache-Control: no-store` and no Referer.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from service import stripe_gateway
from service.core.extensions import db
from service.core.i18n import current_language, gettext, money
from service.core.settings import Settings
from service.donations import is_allowed_return_url
from service.ledger import Donation, DonationStatus, MonthlyDonation, MonthlyStatus, Supporter
from service.readers.api import per_email, per_ip
from service.readers.mail import kind_of, queue_message
from service.readers.passes import pass_for_supporter, with_pass
from service.readers.schemas import SignInLinkRequestSchema
from service.readers.sign_in import LinkExpired, LinkInvalid, peek, request_link, spend

bp = Blueprint("self_service", __name__)

READER_KEY = "reader"
# Long enough to look through one's gifts and open the portal; short on a shared computer.
READER_SESSION_SECONDS = 3600
COUNTING = (DonationStatus.SUCCEEDED, DonationStatus.PARTIALLY_REFUNDED)


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return _private(current_app.make_response((render_template(template, **context), status)))


def sign_reader_in(supporter_id: int) -> None:
    """Mark this browser's session as the supporter's, for READER_SESSION_SECONDS."""
    session[READER_KEY] = {"id": supporter_id, "until": int(time.time()) + READER_SESSION_SECONDS}


def current_reader() -> Supporter | None:
    """The signed-in supporter, or None (no mark, or an expired one)."""
    mark = session.get(READER_KEY)
    if not isinstance(mark, dict) or int(mark.get("until", 0)) <= time.time():
        return None
    return db.session.get(Supporter, int(mark["id"]))


def _reader_or_sign_in() -> Supporter:
    reader = current_reader()
    if reader is None:
        abort(_page("manage_sign_in.html", 401, state="signed_out", values={}))
    return reader


# -- sign-in links -------------------------------------------------------------------------


@bp.get("/support/sign-in/<token>")
def open_sign_in_link(token: str) -> ResponseReturnValue:
    """Ask the reader to confirm: mail scanners follow links, and must not spend them."""
    try:
        peek(db.session, token)
    except LinkExpired:
        return _page("manage_sign_in.html", 410, state="expired", values={})
    except LinkInvalid:
        return _page("manage_sign_in.html", 404, state="invalid", values={})
    return _page("sign_in_confirm.html", token=token)


@bp.post("/support/sign-in/<token>")
def use_sign_in_link(token: str) -> ResponseReturnValue:
    """Spend the link once, sign the reader in and open their page."""
    try:
        signed_in = spend(db.session, token)
    except LinkExpired:
        return _page("manage_sign_in.html", 410, state="expired", values={})
    except LinkInvalid:
        return _page("manage_sign_in.html", 404, state="invalid", values={})
    sign_reader_in(signed_in.supporter_id)
    reader = db.session.get(Supporter, signed_in.supporter_id)
    if signed_in.return_url and reader is not None:
        # Started in the widget: back to that page, which keeps the pass (in the fragment,
        # never a query string) and offers this self-service, signed in for the hour.
        supporter_pass = pass_for_supporter(db.session, _settings(), reader)
        if supporter_pass:
            back = with_pass(signed_in.return_url, supporter_pass, rc_manage="1")
            return _private(redirect(back, 303))
    return _private(redirect(url_for("self_service.manage"), 303))


@bp.post("/support/sign-in")
@per_ip
@per_email
def ask_for_link() -> ResponseReturnValue:
    """The no-JavaScript "email me my link" form; the same answer for any address."""
    form = {key: value for key, value in request.form.items() if key in {"email", "return_url"}}
    form = {key: value for key, value in form.items() if value}
    try:
        body = SignInLinkRequestSchema().load(form)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {}
        problem = (
            messages.get("email") or messages.get("return_url") or [gettext("Check the address.")]
        )
        message = problem[0] if isinstance(problem, list) else str(problem)
        return _page(
            "manage_sign_in.html", 422, state="signed_out", values=form, error=str(message)
        )
    request_link(db.session, body["email"], body.get("return_url"), current_language())
    return _page("manage_sign_in.html", 202, state="sent", values={})


@bp.post("/support/sign-out")
def sign_out() -> ResponseReturnValue:
    session.pop(READER_KEY, None)
    return _private(redirect(url_for("self_service.manage"), 303))


# -- the reader's page ---------------------------------------------------------------------


def _gift_row(donation: Donation) -> dict[str, Any]:
    return {
        "id": donation.id,
        "date": donation.paid_at,
        "amount": money(donation.amount_minor, donation.currency),
        "kind": kind_of(donation.frequency),
        "frequency": donation.frequency.value,
        "status": donation.status,
        "refunded": money(donation.amount_refunded_minor, donation.currency)
        if donation.amount_refunded_minor
        else None,
    }


def _donations(reader: Supporter) -> list[Donation]:
    return list(
        db.session.scalars(
            select(Donation)
            .where(Donation.supporter_id == reader.id)
            .order_by(Donation.paid_at.desc(), Donation.id.desc())
        )
    )


def _monthlies(reader: Supporter) -> list[MonthlyDonation]:
    return list(
        db.session.scalars(
            select(MonthlyDonation)
            .where(MonthlyDonation.supporter_id == reader.id)
            .order_by(MonthlyDonation.id.desc())
        )
    )


@bp.get("/support/manage")
def manage() -> ResponseReturnValue:
    """Every gift with its date and amount, receipts, statements and the monthly gifts."""
    reader = current_reader()
    return_url = request.args.get("return_url", "")
    if not (0 < len(return_url) <= 2048 and is_allowed_return_url(_settings(), return_url)):
        return_url = ""
    if reader is None:
        # From the widget's "Already a supporter?": the link will bring them back there.
        values = {"return_url": return_url} if return_url else {}
        return _page("manage_sign_in.html", state="signed_out", values=values)
    if return_url:
        supporter_pass = pass_for_supporter(db.session, _settings(), reader)
        if supporter_pass:
            return _private(redirect(with_pass(return_url, supporter_pass, rc_manage="1"), 303))
    donations = _donations(reader)
    years = sorted({d.paid_at.year for d in donations}, reverse=True)
    monthlies = [
        {
            "id": monthly.id,
            "amount": money(monthly.amount_minor, monthly.currency),
            "kind": kind_of(monthly.frequency),
            "frequency": monthly.frequency.value,
            "status": monthly.status.value,
            "canceled": monthly.status is MonthlyStatus.CANCELED,
            "past_due": monthly.status is MonthlyStatus.PAST_DUE,
            "ends": monthly.current_period_end if monthly.cancel_at_period_end else None,
        }
        for monthly in _monthlies(reader)
    ]
    settings = _settings()
    way_back = None
    if settings.publication_url:
        way_back = with_pass(
            settings.publication_url, pass_for_supporter(db.session, settings, reader)
        )
    return _page(
        "manage.html",
        way_back=way_back,
        publication=settings.publication_name,
        reader=reader,
        gifts=[_gift_row(d) for d in donations],
        years=years,
        monthlies=monthlies,
    )


def _own_donation(reader: Supporter, donation_id: int) -> Donation:
    donation = db.session.get(Donation, donation_id)
    if donation is None or donation.supporter_id != reader.id:
        abort(404)
    return donation


@bp.get("/support/manage/receipts/<int:donation_id>")
def receipt(donation_id: int) -> ResponseReturnValue:
    """A printable receipt for one of the reader's own gifts."""
    reader = _reader_or_sign_in()
    donation = _own_donation(reader, donation_id)
    return _page("receipt.html", reader=reader, gift=_gift_row(donation))


def _statement(reader: Supporter, year: int) -> dict[str, Any]:
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    gifts = [d for d in _donations(reader) if start <= d.paid_at < end and d.status in COUNTING]
    gifts.reverse()
    totals: dict[str, int] = {}
    for gift in gifts:
        net = gift.amount_minor - gift.amount_refunded_minor
        totals[gift.currency] = totals.get(gift.currency, 0) + net
    return {
        "year": year,
        "gifts": [_gift_row(d) for d in gifts],
        "totals": [money(amount, currency) for currency, amount in sorted(totals.items())],
    }


@bp.get("/support/manage/statement/<int:year>")
def statement(year: int) -> ResponseReturnValue:
    """The year's gifts and totals per currency, printable, for tax."""
    reader = _reader_or_sign_in()
    if not 2000 <= year <= 9999:
        abort(404)
    return _page("statement.html", reader=reader, **_statement(reader, year))


@bp.post("/support/manage/statement/<int:year>")
def email_statement(year: int) -> ResponseReturnValue:
    """Email the year's statement to the reader."""
    reader = _reader_or_sign_in()
    if not 2000 <= year <= 9999 or reader.email is None:
        abort(404)
    settings = _settings()
    queue_message(
        db.session,
        settings,
        # Each request is its own message (a reader may ask again after a refund).
        key=f"statement:{reader.id}:{year}:{uuid.uuid4()}",
        template="statement",
        to=reader.email,
        supporter_id=reader.id,
        language=current_language(),
        context=_statement(reader, year)
        | {"statement_url": f"{settings.public_base_url}/support/manage/statement/{year}"},
    )
    return _page("statement.html", reader=reader, emailed=True, **_statement(reader, year))


@bp.post("/support/manage/monthly/<int:monthly_id>/portal")
def open_portal(monthly_id: int) -> ResponseReturnValue:
    """Open Stripe's Customer Portal for one of the reader's live monthly gifts."""
    reader = _reader_or_sign_in()
    monthly = db.session.get(MonthlyDonation, monthly_id)
    if monthly is None or monthly.supporter_id != reader.id:
        abort(404)
    if monthly.status is MonthlyStatus.CANCELED or not monthly.stripe_customer_id:
        abort(409, gettext("This gift has ended; there is nothing left to change."))
    settings = _settings()
    try:
        url = stripe_gateway.create_portal_session(
            settings,
            customer_id=monthly.stripe_customer_id,
            return_url=f"{settings.public_base_url}/support/manage",
            request_id=str(uuid.uuid4()),
        )
    except stripe_gateway.GatewayError:
        return _page("manage_link.html", 502, state="unavailable")
    # Minted per click for a signed-in reader; Stripe's portal sessions are short-lived.
    return _private(redirect(url, 303))
