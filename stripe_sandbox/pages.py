"""Hosted pages: the test Checkout page, its 3-D Secure challenge, and the customer portal.

Plain HTML forms that post back and redirect, so they work without JavaScript; a few
lines of inline script only format the card fields and stop double submits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from . import cards
from .errors import StripeError
from .locales import language_of, localized_amount, translator
from .money import format_amount, minimum_charge, parse_major
from .runtime import current_sandbox
from .simulator import CheckoutResult

Obj = dict[str, Any]

bp = Blueprint("pages", __name__)

_NOTICES = {
    "cancel_scheduled": "Your monthly donation will end at the end of the current period.",
    "resumed": "Your monthly donation will continue.",
    "ended": "Your monthly donation has ended.",
    "amount_changed": "Your monthly donation amount was changed.",
    "card_updated": "Your card was updated.",
}


@bp.app_template_filter("date")
def format_date(timestamp: int | None) -> str:
    """``12 March 2026`` for a Unix timestamp."""
    if not timestamp:
        return ""
    day = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    return f"{day.day} {day:%B %Y}"


def _session_or_404(session_id: str) -> Obj:
    session = current_sandbox().state.live(session_id, "checkout.session")
    if session is None:
        abort(404, description="This checkout page does not exist.")
    return session


def _summary(session: Obj) -> Obj:
    sandbox = current_sandbox()
    items = sandbox.sim.line_items(session["id"])
    recurring = items[0]["price"]["recurring"] if items else None
    interval = recurring["interval"] if recurring else None
    if session["submit_type"] == "donate":
        button = "Donate"
    elif session["mode"] == "subscription":
        button = "Subscribe"
    else:
        button = "Pay"
    words = translator(session.get("locale"))
    return {
        "items": items,
        "amount": localized_amount(
            session["amount_total"], session["currency"], session.get("locale")
        ),
        "interval": interval,
        "button": words(button),
        # The page's words in the session's locale (Stripe's page follows `locale`).
        "t": words,
        "lang": language_of(session.get("locale")),
        "fixed_email": sandbox.sim.checkout_email(session),
    }


@bp.get("/c/pay/<session_id>")
def checkout(session_id: str) -> str:
    """The test Checkout page."""
    session = _session_or_404(session_id)
    return _render_checkout(session, form={}, result=None)


def _render_checkout(session: Obj, form: dict[str, str], result: CheckoutResult | None) -> str:
    return render_template(
        "checkout.html",
        session=session,
        summary=_summary(session),
        form=form,
        error=result if result is not None and result.status == "failed" else None,
        test_cards=cards.TEST_CARDS.values(),
    )


@bp.post("/c/pay/<session_id>")
def pay(session_id: str) -> Response | str:
    """Submit the Checkout form."""
    session = _session_or_404(session_id)
    form = {
        "email": request.form.get("email", ""),
        "number": request.form.get("card_number", ""),
        "exp": request.form.get("card_expiry", ""),
        "cvc": request.form.get("card_cvc", ""),
    }
    try:
        result = current_sandbox().sim.complete_checkout(
            session_id, form["number"], email=form["email"], exp=form["exp"], cvc=form["cvc"]
        )
    except StripeError:
        return _render_checkout(session, form={}, result=None)
    return _after_payment(session, form, result)


def _after_payment(session: Obj, form: dict[str, str], result: CheckoutResult) -> Response | str:
    if result.status == "requires_action":
        return redirect(url_for("pages.challenge", session_id=session["id"]), 303)
    if result.status == "failed":
        return _render_checkout(session, form=form, result=result)
    if result.redirect_url:
        return redirect(result.redirect_url, 303)
    return render_template("done.html", session=session, summary=_summary(session))


@bp.get("/c/pay/<session_id>/authenticate")
def challenge(session_id: str) -> Response | str:
    """The 3-D Secure test challenge."""
    session = _session_or_404(session_id)
    if not current_sandbox().sim.pending_authentication(session_id):
        return redirect(url_for("pages.checkout", session_id=session_id), 303)
    return render_template("challenge.html", session=session, summary=_summary(session))


@bp.post("/c/pay/<session_id>/authenticate")
def answer_challenge(session_id: str) -> Response | str:
    """Complete or fail the 3-D Secure challenge."""
    session = _session_or_404(session_id)
    succeed = request.form.get("action") == "complete"
    try:
        result = current_sandbox().sim.authenticate_checkout(session_id, succeed=succeed)
    except StripeError:
        return redirect(url_for("pages.checkout", session_id=session_id), 303)
    return _after_payment(session, {"email": "", "number": "", "exp": "", "cvc": ""}, result)


# -- customer portal ----------------------------------------------------------------------


def _portal_or_404(portal_id: str) -> Obj:
    portal = current_sandbox().state.live(portal_id, "billing_portal.session")
    if portal is None:
        abort(404, description="This customer portal session does not exist.")
    return portal


def _owned_subscription(portal: Obj, subscription_id: str) -> Obj:
    sub = current_sandbox().state.live(subscription_id, "subscription")
    if sub is None or sub["customer"] != portal["customer"]:
        abort(404, description="This subscription does not exist.")
    return sub


def _render_portal(portal: Obj, *, error: str | None = None, error_for: str | None = None) -> str:
    sandbox = current_sandbox()
    cust = sandbox.state.get(portal["customer"])
    subs = sandbox.sim.customer_subscriptions(portal["customer"])
    card = None
    pm_id = cust["invoice_settings"]["default_payment_method"] or next(
        (sub["default_payment_method"] for sub in subs if sub["default_payment_method"]), None
    )
    if pm_id:
        card = sandbox.state.get(pm_id)["card"]
    return_url = portal.get("return_url")
    site = urlsplit(return_url).hostname if return_url else None
    return render_template(
        "portal.html",
        portal=portal,
        customer=cust,
        subscriptions=subs,
        card=card,
        site=site,
        notice=_NOTICES.get(request.args.get("notice", "")),
        error=error,
        error_for=error_for,
    )


@bp.get("/p/session/<portal_id>")
def portal(portal_id: str) -> str:
    """The test customer portal."""
    return _render_portal(_portal_or_404(portal_id))


def _back(portal_id: str, notice: str) -> Response:
    return redirect(url_for("pages.portal", portal_id=portal_id, notice=notice), 303)


@bp.post("/p/session/<portal_id>/subscriptions/<subscription_id>/cancel")
def portal_cancel(portal_id: str, subscription_id: str) -> Response:
    """Cancel at period end, as Stripe's portal does by default."""
    _owned_subscription(_portal_or_404(portal_id), subscription_id)
    current_sandbox().sim.update_subscription(subscription_id, cancel_at_period_end=True)
    return _back(portal_id, "cancel_scheduled")


@bp.post("/p/session/<portal_id>/subscriptions/<subscription_id>/resume")
def portal_resume(portal_id: str, subscription_id: str) -> Response:
    """Undo a cancellation that has not taken effect yet."""
    _owned_subscription(_portal_or_404(portal_id), subscription_id)
    current_sandbox().sim.update_subscription(subscription_id, cancel_at_period_end=False)
    return _back(portal_id, "resumed")


@bp.post("/p/session/<portal_id>/subscriptions/<subscription_id>/end")
def portal_end(portal_id: str, subscription_id: str) -> Response:
    """End the subscription now (the portal's "cancel immediately" setting)."""
    sub = _owned_subscription(_portal_or_404(portal_id), subscription_id)
    if sub["status"] != "canceled":
        current_sandbox().sim.cancel_subscription(subscription_id)
    return _back(portal_id, "ended")


@bp.post("/p/session/<portal_id>/subscriptions/<subscription_id>/amount")
def portal_amount(portal_id: str, subscription_id: str) -> Response | str:
    """Change the monthly amount."""
    portal_obj = _portal_or_404(portal_id)
    sub = _owned_subscription(portal_obj, subscription_id)
    currency = sub["currency"]
    amount = parse_major(request.form.get("amount", ""), currency)
    if amount is None or amount < minimum_charge(currency):
        least = format_amount(minimum_charge(currency), currency)
        return _render_portal(
            portal_obj, error=f"Enter an amount of at least {least}.", error_for=subscription_id
        )
    if sub["status"] == "canceled":
        return _render_portal(
            portal_obj, error="This donation has ended.", error_for=subscription_id
        )
    current_sandbox().sim.change_amount(subscription_id, amount)
    return _back(portal_id, "amount_changed")


@bp.post("/p/session/<portal_id>/card")
def portal_card(portal_id: str) -> Response | str:
    """Replace the card used for future payments."""
    portal_obj = _portal_or_404(portal_id)
    try:
        card = cards.read_card(
            request.form.get("card_number", ""),
            request.form.get("card_expiry", ""),
            request.form.get("card_cvc", ""),
        )
    except cards.CardProblem as problem:
        return _render_portal(portal_obj, error=problem.message, error_for="card")
    if card.test_card.behaviour == "decline":
        return _render_portal(portal_obj, error=card.test_card.message, error_for="card")
    current_sandbox().sim.update_card(portal_obj["customer"], card)
    return _back(portal_id, "card_updated")
