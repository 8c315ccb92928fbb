"""``/_sandbox``: the operator's view and the levers tests and demos pull.

Every POST takes JSON or a form; JSON callers get JSON back, browsers are sent back to
the overview page with a message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response

from .errors import StripeError
from .runtime import current_sandbox
from .simulator import CheckoutResult, Outcome

Obj = dict[str, Any]

bp = Blueprint("controls", __name__, url_prefix="/_sandbox")


def _payload() -> Obj:
    data = request.get_json(silent=True) if request.is_json else None
    if isinstance(data, dict):
        return data
    return {key: value for key, value in request.form.items() if value != ""}


def _wants_json() -> bool:
    """Browsers post forms and get the overview back; everything else gets JSON."""
    return request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data")


def _reply(body: Obj, message: str, status: int = 200) -> Response:
    if _wants_json():
        response = jsonify(body)
        response.status_code = status
        return response
    return redirect(f"/_sandbox?message={quote(message)}", 303)


def _error(error: StripeError) -> Response:
    return _reply(error.body(), f"Error: {error.message}", error.status)


def _outcome(outcome: Outcome, message: str) -> Response:
    events = [{"id": event["id"], "type": event["type"]} for event in outcome.events]
    return _reply({"object": outcome.object, "events": events}, message)


def _checkout(result: CheckoutResult) -> Response:
    body = {
        "status": result.status,
        "code": result.code,
        "message": result.message,
        "redirect_url": result.redirect_url,
        "session": result.session,
        "events": [{"id": event["id"], "type": event["type"]} for event in result.events],
    }
    return _reply(body, f"Checkout {result.session['id']}: {result.status}")


def _number(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise StripeError(400, f"{name} must be a number", param=name) from error


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("1", "true", "on", "yes"))


@bp.errorhandler(StripeError)
def _stripe_error(error: StripeError) -> Response:
    return _error(error)


@bp.get("")
@bp.get("/")
def overview() -> str:
    """Every object and event, with buttons for the controls."""
    sandbox = current_sandbox()
    state = sandbox.state
    with state.lock:
        records = list(reversed(state.event_records()))
        events = [
            {
                "id": record.id,
                "type": record.event["type"],
                "created": record.event["created"],
                "delivered": record.delivered,
                "gave_up": record.gave_up,
                "scheduled": record.next_attempt_at is not None,
                "attempts": list(record.attempts),
            }
            for record in records
        ]
    return render_template(
        "controls.html",
        config=sandbox.config,
        fault=state.fault,
        sessions=list(reversed(state.objects("checkout.session"))),
        customers=list(reversed(state.objects("customer"))),
        subscriptions=list(reversed(state.objects("subscription"))),
        charges=list(reversed(state.objects("charge"))),
        disputes=list(reversed(state.objects("dispute"))),
        payouts=list(reversed(state.objects("payout"))),
        balance=sandbox.sim.balance,
        events=events,
        webhooks=sandbox.webhooks,
        endpoints=state.webhook_endpoints(),
        message=request.args.get("message"),
    )


@bp.post("/faults")
def faults() -> Response:
    """``{"mode": "error"|"slow"|"off", "seconds": 2, "count": 3, "status": 500}``."""
    data = _payload()
    mode = str(data.get("mode", "off"))
    seconds = _number(data.get("seconds"), "seconds") or 0.0
    count = _number(data.get("count"), "count")
    status = _number(data.get("status"), "status") or 500
    try:
        current_sandbox().state.set_fault(
            mode,  # type: ignore[arg-type]  # checked by set_fault
            seconds=seconds,
            count=int(count) if count is not None else None,
            status=int(status),
        )
    except ValueError as error:
        raise StripeError(400, str(error), param="mode") from error
    fault = current_sandbox().state.fault
    body = {"fault": None if fault is None else fault.__dict__}
    return _reply(body, f"Faults: {mode}")


@bp.post("/checkout/<session_id>/complete")
def complete_checkout(session_id: str) -> Response:
    """``{"card": "4242 4242 4242 4242", "email"?, "exp"?, "cvc"?}``: pay without a browser."""
    data = _payload()
    result = current_sandbox().sim.complete_checkout(
        session_id,
        str(data.get("card", "4242424242424242")),
        email=data.get("email"),
        exp=data.get("exp"),
        cvc=data.get("cvc"),
    )
    return _checkout(result)


@bp.post("/checkout/<session_id>/authenticate")
def authenticate_checkout(session_id: str) -> Response:
    """``{"outcome": "complete"|"fail"}``: answer a pending 3-D Secure challenge."""
    outcome = str(_payload().get("outcome", "complete"))
    if outcome not in ("complete", "fail"):
        raise StripeError(400, "outcome must be 'complete' or 'fail'", param="outcome")
    result = current_sandbox().sim.authenticate_checkout(session_id, succeed=outcome == "complete")
    return _checkout(result)


@bp.post("/subscriptions/<subscription_id>/renew")
def renew(subscription_id: str) -> Response:
    """``{"outcome": "paid"|"failed"}``: bill the next period."""
    outcome = str(_payload().get("outcome", "paid"))
    result = current_sandbox().sim.renew_subscription(
        subscription_id,
        outcome,  # type: ignore[arg-type]  # checked by renew_subscription
    )
    return _outcome(result, f"Renewed {subscription_id}: {outcome}")


@bp.post("/subscriptions/<subscription_id>/cancel")
def cancel(subscription_id: str) -> Response:
    """``{"at_period_end": false}``: cancel now (default) or at the period's end."""
    at_period_end = _flag(_payload().get("at_period_end"))
    result = current_sandbox().sim.cancel_subscription(subscription_id, at_period_end=at_period_end)
    return _outcome(result, f"Canceled {subscription_id}")


@bp.post("/charges/<charge_id>/refund")
def refund(charge_id: str) -> Response:
    """``{"amount"?: 500}``: refund all or part of a charge."""
    amount = _number(_payload().get("amount"), "amount")
    result = current_sandbox().sim.refund(
        charge_id=charge_id, amount=int(amount) if amount is not None else None
    )
    return _outcome(result, f"Refunded {charge_id}")


@bp.post("/charges/<charge_id>/dispute")
def dispute(charge_id: str) -> Response:
    """``{"reason"?: "fraudulent", "inquiry"?: true}``: the cardholder disputes the charge
    (or the card network opens an inquiry, which withdraws no funds)."""
    payload = _payload()
    reason = str(payload.get("reason", "fraudulent"))
    inquiry = _flag(payload.get("inquiry"))
    result = current_sandbox().sim.dispute(charge_id, reason=reason, inquiry=inquiry)
    return _outcome(result, f"{'Inquiry on' if inquiry else 'Disputed'} {charge_id}")


@bp.post("/checkout/<session_id>/expire")
def expire_checkout(session_id: str) -> Response:
    """Let an open Checkout Session expire (``checkout.session.expired``)."""
    result = current_sandbox().sim.expire_checkout(session_id)
    return _outcome(result, f"Expired {session_id}")


@bp.post("/refunds/<refund_id>/fail")
def fail_refund(refund_id: str) -> Response:
    """The bank returns a refund (``charge.refund.updated``, ``refund.failed``)."""
    result = current_sandbox().sim.fail_refund(refund_id)
    return _outcome(result, f"Refund {refund_id} failed")


@bp.post("/customers/<customer_id>/update")
def update_customer(customer_id: str) -> Response:
    """``{"email": "new@example.com"}``: change a customer's email (``customer.updated``)."""
    email = str(_payload().get("email") or "")
    if "@" not in email:
        raise StripeError(400, "email is required", param="email")
    result = current_sandbox().sim.update_customer(customer_id, email=email)
    return _outcome(result, f"Updated {customer_id}")


@bp.post("/customers/<customer_id>/delete")
def delete_customer(customer_id: str) -> Response:
    """Delete a customer (its subscriptions end; ``customer.deleted``)."""
    result = current_sandbox().sim.delete_customer(customer_id)
    return _outcome(result, f"Deleted {customer_id}")


@bp.post("/disputes/<dispute_id>/close")
def close_dispute(dispute_id: str) -> Response:
    """``{"outcome": "won"|"lost"}``."""
    outcome = str(_payload().get("outcome", "won"))
    result = current_sandbox().sim.close_dispute(
        dispute_id,
        outcome,  # type: ignore[arg-type]  # checked by close_dispute
    )
    return _outcome(result, f"Closed {dispute_id}: {outcome}")


@bp.post("/events/<event_id>/redeliver")
def redeliver(event_id: str) -> Response:
    """Send an event to the webhook endpoint again."""
    webhooks = current_sandbox().webhooks
    if not webhooks.configured:
        raise StripeError(409, "No webhook endpoint is configured.")
    try:
        attempt = webhooks.redeliver(event_id)
    except KeyError as error:
        raise StripeError(404, f"No such event: '{event_id}'", code="resource_missing") from error
    body: Obj = {"queued": attempt is None}
    if attempt is not None:
        body["attempt"] = attempt.__dict__ | {"ok": attempt.ok}
    return _reply(body, f"Redelivering {event_id}", 202 if attempt is None else 200)


@bp.post("/customers/<customer_id>/portal")
def open_portal(customer_id: str) -> Response:
    """Create a portal session for a customer and, in a browser, go there."""
    sandbox = current_sandbox()
    return_url = _payload().get("return_url")
    session = sandbox.sim.create_portal_session(
        customer_id, return_url, public_url=sandbox.public_url()
    )
    if _wants_json():
        return jsonify(session)
    return redirect(session["url"], 303)


@bp.post("/reset")
def reset() -> Response:
    """Forget everything."""
    current_sandbox().state.reset()
    return _reply({"reset": True}, "Sandbox reset")
