"""The ``/v1`` API: Stripe's wire protocol for the endpoints the service uses."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import functools
import json
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, request

from . import params as p
from . import parsing, schemas
from .errors import StripeError, invalid, no_such
from .expand import expand
from .forms import FormDecodeError, decode
from .objects import list_object
from .params import ListOf
from .runtime import Sandbox, current_sandbox
from .schemas import LIST_PAGING
from .state import Exchange, Fault, IdempotentResult, RequestInfo

Obj = dict[str, Any]

bp = Blueprint("stripe_api", __name__, url_prefix="/v1")

_KEY = re.compile(r"^sk_test_[A-Za-z0-9_]+$")
_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)

#: ``/v1/<collection>/<id>`` retrieves: collection -> (object name, noun in "No such ...").
RETRIEVABLE: dict[str, tuple[str, str]] = {
    "customers": ("customer", "customer"),
    "subscriptions": ("subscription", "subscription"),
    "invoices": ("invoice", "invoice"),
    "invoice_payments": ("invoice_payment", "invoice_payment"),
    "charges": ("charge", "charge"),
    "payment_intents": ("payment_intent", "payment_intent"),
    "payment_methods": ("payment_method", "PaymentMethod"),
    "refunds": ("refund", "refund"),
    "disputes": ("dispute", "dispute"),
    "prices": ("price", "price"),
    "products": ("product", "product"),
    "balance_transactions": ("balance_transaction", "balance transaction"),
}


# -- plumbing ---------------------------------------------------------------------------


def json_response(status: int, body: Obj | str, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer with the headers Stripe sends."""
    text = body if isinstance(body, str) else json.dumps(body, indent=2)
    response = Response(text + ("" if text.endswith("\n") else "\n"), status)
    response.mimetype = "application/json"
    response.headers["Request-Id"] = g.get("request_id") or _request_id()
    response.headers["Stripe-Version"] = current_sandbox().state.api_version
    response.headers["Cache-Control"] = "no-cache, no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: StripeError) -> Response:
    """Stripe's error body and status."""
    return json_response(error.status, error.body())


def _request_id() -> str:
    return "req_" + secrets.token_hex(7)


def _redact(key: str) -> str:
    return f"{key[:8]}****{key[-4:]}" if len(key) > 12 else "****"


def _authenticate(sandbox: Sandbox) -> str:
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise StripeError(401, _NO_KEY)
    scheme, _, credentials = header.partition(" ")
    key = credentials.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        raise StripeError(
            401,
            "Invalid Authorization header. Use 'Authorization: Bearer YOUR_SECRET_KEY'.",
        )
    if key.startswith(("sk_live_", "rk_live_")):
        raise StripeError(
            401,
            f"Invalid API Key provided: {_redact(key)}. This is the Stripe sandbox, a test "
            "double: it refuses live mode keys.",
        )
    if not _KEY.match(key) or key != sandbox.config.api_key:
        raise StripeError(401, f"Invalid API Key provided: {_redact(key)}")
    return key


def _fault_response(fault: Fault) -> Response:
    status = fault.status
    if status == 402:
        error = StripeError(
            402,
            "Your card was declined.",
            error_type="card_error",
            code="card_declined",
            decline_code="generic_decline",
        )
    elif status == 429:
        error = StripeError(
            429,
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            code="rate_limit",
        )
    elif status >= 500:
        error = StripeError(
            status,
            "An unknown error occurred (injected by the Stripe sandbox's fault switch).",
            error_type="api_error",
        )
    else:
        error = StripeError(status, "Injected error (Stripe sandbox fault switch).")
    return error_response(error)


@bp.before_request
def _gate() -> Response | None:
    """Faults first (an outage ignores credentials), then authentication."""
    g.request_id = _request_id()
    sandbox = current_sandbox()
    fault = sandbox.state.take_fault()
    if fault is not None:
        if fault.mode == "slow":
            time.sleep(fault.seconds)
        else:
            return _fault_response(fault)
    try:
        g.api_key = _authenticate(sandbox)
    except StripeError as error:
        return error_response(error)
    requested = request.headers.get("Stripe-Version")
    if requested and requested != sandbox.state.api_version:
        # Objects are shaped for one version only; answering another would mislead.
        return error_response(
            invalid(
                f"The Stripe sandbox (a test double) speaks API version "
                f"{sandbox.state.api_version} only; this request asked for {requested}.",
                param="Stripe-Version",
            )
        )
    return None


def _read_params() -> Obj:
    pairs = list(request.args.items(multi=True))
    if request.method == "POST":
        content_type = request.mimetype
        if content_type and content_type != "application/x-www-form-urlencoded":
            raise invalid(
                f"Invalid request: unsupported Content-Type {content_type}. "
                "Use application/x-www-form-urlencoded."
            )
        pairs = list(request.form.items(multi=True))
    try:
        return decode(pairs)
    except FormDecodeError as error:
        raise invalid(str(error), param=error.param) from error


def _lookup(sandbox: Sandbox) -> Callable[[str], Obj | None]:
    def lookup(object_id: str) -> Obj | None:
        return sandbox.state.live(object_id)

    return lookup


def _include(sandbox: Sandbox) -> Callable[[Obj, str], Obj | None]:
    def include(node: Obj, field: str) -> Obj | None:
        kind, node_id = node.get("object"), str(node.get("id"))
        if kind == "checkout.session" and field == "line_items":
            items = sandbox.sim.line_items(node_id)
            return list_object(items, f"/v1/checkout/sessions/{node_id}/line_items")
        if kind == "charge" and field == "refunds":
            refunds = sandbox.sim.charge_refunds(node_id)
            return list_object(refunds, f"/v1/charges/{node_id}/refunds")
        if kind == "invoice" and field == "payments":
            payments = sandbox.sim.invoice_payments(node_id)
            return list_object(payments, f"/v1/invoices/{node_id}/payments")
        return None

    return include


Handler = Callable[..., Obj]


def endpoint(handler: Handler) -> Callable[..., Response]:
    """Run ``handler(params, **url_values)`` as Stripe would: validated, expanded, idempotent.

    The whole call runs under the state lock, so a replayed idempotency key can never
    race its first request.
    """

    @functools.wraps(handler)
    def view(**url_values: str) -> Response:
        sandbox = current_sandbox()
        state = sandbox.state
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        with state.lock:
            try:
                params = _read_params()
                if key is not None:
                    replay = _replay(sandbox, key, params)
                    if replay is not None:
                        return replay
            except StripeError as error:
                return error_response(error)
            replayable = True
            paths: list[str] = []
            try:
                with state.api_request(RequestInfo(g.request_id, key)):
                    result = handler(params, **url_values)
                    paths = p.expand_paths(params)
                    expand(result, paths, _lookup(sandbox), _include(sandbox))
                status, body = 200, json.dumps(result, indent=2)
            except StripeError as error:
                status, body = error.status, json.dumps(error.body(), indent=2)
                replayable = error.replayable
            state.record_exchange(
                Exchange(request.method, request.path, params, status, body, tuple(paths))
            )
            if key is not None and replayable:
                state.save_idempotent_result(
                    g.api_key,
                    key,
                    IdempotentResult(
                        method=request.method,
                        path=request.path,
                        params=params,
                        status=status,
                        body=body,
                        request_id=g.request_id,
                        created=state.clock(),
                    ),
                )
            headers = {"Idempotency-Key": key} if key else None
            return json_response(status, body, headers)

    return view


def _replay(sandbox: Sandbox, key: str, params: Obj) -> Response | None:
    if len(key) > 255:
        raise invalid("Idempotency-Key must be at most 255 characters.", param="Idempotency-Key")
    saved = sandbox.state.idempotent_result(g.api_key, key)
    if saved is None:
        return None
    if saved.path != request.path or saved.method != request.method:
        raise StripeError(
            400,
            "Keys for idempotent requests can only be used for the same endpoint they were "
            f"first used for ('{saved.method} {saved.path}' vs '{request.method} "
            f"{request.path}'). Try using a key other than '{key}' if you meant to execute a "
            "different request.",
            error_type="idempotency_error",
            replayable=False,
        )
    if saved.params != params:
        raise StripeError(
            400,
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request.",
            error_type="idempotency_error",
            replayable=False,
        )
    return json_response(
        saved.status,
        saved.body,
        {
            "Idempotency-Key": key,
            "Idempotent-Replayed": "true",
            "Original-Request": saved.request_id,
        },
    )


# -- lists ------------------------------------------------------------------------------


def paginate(items: list[Obj], params: Obj, url: str, noun: str) -> Obj:
    """Cut a newest-first list into the page that limit and the cursors ask for."""
    limit = p.integer(params.get("limit"), "limit", minimum=1, maximum=100) or 10
    after = p.string(params.get("starting_after"), "starting_after")
    before = p.string(params.get("ending_before"), "ending_before")
    if after and before:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after."
        )
    ids = [item["id"] for item in items]
    cursor = after or before
    if cursor and cursor not in ids:
        raise no_such(
            noun, cursor, param="starting_after" if after else "ending_before", status=400
        )
    if after:
        window = items[ids.index(after) + 1 :]
        page = window[:limit]
    elif before:
        window = items[: ids.index(before)]
        page = window[-limit:]
    else:
        window = items
        page = window[:limit]
    return list_object(page, url, has_more=len(window) > limit)


def _created_filter(value: Any) -> Callable[[int], bool]:
    if value is None or value == "":
        return lambda _created: True
    if isinstance(value, str):
        exact = p.integer(value, "created")
        return lambda created: created == exact
    bounds = p.hash_value(value, "created") or {}
    p.check(bounds, {"gt": None, "gte": None, "lt": None, "lte": None}, "created")
    limits = {op: p.integer(bounds.get(op), f"created[{op}]") for op in ("gt", "gte", "lt", "lte")}

    def accept(created: int) -> bool:
        return (
            (limits["gt"] is None or created > limits["gt"])
            and (limits["gte"] is None or created >= limits["gte"])
            and (limits["lt"] is None or created < limits["lt"])
            and (limits["lte"] is None or created <= limits["lte"])
        )

    return accept


# -- events -----------------------------------------------------------------------------


@bp.get("/events")
@endpoint
def list_events(params: Obj) -> Obj:
    """``GET /v1/events``: newest first, filtered by type(s), creation time and delivery."""
    p.check(
        params,
        {
            **LIST_PAGING,
            "type": None,
            "types": ListOf(None),
            "created": None,
            "delivery_success": None,
        },
    )
    event_type = p.string(params.get("type"), "type")
    types = params.get("types")
    if event_type and types:
        raise invalid("You may only specify one of these parameters: type, types.")
    if types is not None and (not isinstance(types, list) or len(types) > 20):
        raise invalid("types must be an array of at most 20 event types.", param="types")
    patterns = [event_type] if event_type else list(types or [])
    created = _created_filter(params.get("created"))
    delivered = p.boolean(params.get("delivery_success"), "delivery_success")
    state = current_sandbox().state
    chosen = []
    for record in reversed(state.event_records()):
        event = record.event
        if patterns and not any(fnmatch.fnmatchcase(event["type"], pat) for pat in patterns):
            continue
        if not created(event["created"]):
            continue
        if delivered is not None and record.delivered != delivered:
            continue
        chosen.append(event)
    page = paginate(chosen, params, "/v1/events", "event")
    page["data"] = json.loads(json.dumps(page["data"]))
    return page


@bp.get("/events/<event_id>")
@endpoint
def retrieve_event(params: Obj, event_id: str) -> Obj:
    """``GET /v1/events/{id}``."""
    p.check(params, {})
    record = current_sandbox().state.event_record(event_id)
    if record is None:
        raise no_such("event", event_id)
    event: Obj = json.loads(json.dumps(record.event))
    return event


# -- retrieves --------------------------------------------------------------------------


@bp.get("/<any(" + ",".join(RETRIEVABLE) + "):collection>/<object_id>")
@endpoint
def retrieve(params: Obj, collection: str, object_id: str) -> Obj:
    """``GET /v1/{customers,subscriptions,invoices,charges,...}/{id}``."""
    p.check(params, {})
    object_name, noun = RETRIEVABLE[collection]
    state = current_sandbox().state
    obj = state.live(object_id, object_name)
    if obj is None:
        raise no_such(noun, object_id)
    return state.get(object_id)


@bp.get("/invoice_payments")
@endpoint
def list_invoice_payments(params: Obj) -> Obj:
    """``GET /v1/invoice_payments?invoice=in_...``: how an invoice was paid."""
    p.check(params, {**LIST_PAGING, "invoice": None, "status": None, "payment": None})
    invoice_id = p.string(params.get("invoice"), "invoice")
    status = p.string(params.get("status"), "status")
    payments = [
        payment
        for payment in reversed(current_sandbox().state.objects("invoice_payment"))
        if (invoice_id is None or payment["invoice"] == invoice_id)
        and (status is None or payment["status"] == status)
    ]
    return paginate(payments, params, "/v1/invoice_payments", "invoice_payment")


@bp.get("/refunds")
@endpoint
def list_refunds(params: Obj) -> Obj:
    """``GET /v1/refunds?charge=ch_...``: a charge's refunds, newest first."""
    p.check(params, {**LIST_PAGING, "charge": None, "payment_intent": None, "created": None})
    charge_id = p.string(params.get("charge"), "charge")
    intent_id = p.string(params.get("payment_intent"), "payment_intent")
    created = _created_filter(params.get("created"))
    refunds = [
        refund
        for refund in reversed(current_sandbox().state.objects("refund"))
        if (charge_id is None or refund["charge"] == charge_id)
        and (intent_id is None or refund["payment_intent"] == intent_id)
        and created(refund["created"])
    ]
    return paginate(refunds, params, "/v1/refunds", "refund")


@bp.post("/checkout/sessions/<session_id>/expire")
@endpoint
def expire_checkout_session(params: Obj, session_id: str) -> Obj:
    """``POST /v1/checkout/sessions/{id}/expire``."""
    p.check(params, {})
    return current_sandbox().sim.expire_checkout(session_id).object


# -- checkout ---------------------------------------------------------------------------


@bp.post("/checkout/sessions")
@endpoint
def create_checkout_session(params: Obj) -> Obj:
    """``POST /v1/checkout/sessions`` in ``payment`` or ``subscription`` mode."""
    sandbox = current_sandbox()
    spec = parsing.checkout_spec(params, sandbox.state.now())
    return sandbox.sim.create_checkout_session(spec, public_url=sandbox.public_url())


@bp.get("/checkout/sessions/<session_id>")
@endpoint
def retrieve_checkout_session(params: Obj, session_id: str) -> Obj:
    """``GET /v1/checkout/sessions/{id}``."""
    p.check(params, {})
    state = current_sandbox().state
    if state.live(session_id, "checkout.session") is None:
        raise no_such("checkout.session", session_id)
    return state.get(session_id)


@bp.get("/checkout/sessions/<session_id>/line_items")
@endpoint
def list_line_items(params: Obj, session_id: str) -> Obj:
    """``GET /v1/checkout/sessions/{id}/line_items``."""
    p.check(params, LIST_PAGING)
    items = current_sandbox().sim.line_items(session_id)
    return paginate(items, params, f"/v1/checkout/sessions/{session_id}/line_items", "item")


@bp.get("/checkout/sessions")
@endpoint
def list_checkout_sessions(params: Obj) -> Obj:
    """``GET /v1/checkout/sessions`` filtered by payment intent, subscription or customer."""
    p.check(
        params,
        {
            **LIST_PAGING,
            "created": None,
            "customer": None,
            "customer_details": {"email": None},
            "payment_intent": None,
            "payment_link": None,
            "status": None,
            "subscription": None,
        },
    )
    filters = {
        name: p.string(params.get(name), name)
        for name in ("customer", "payment_intent", "subscription", "status", "payment_link")
    }
    details = p.hash_value(params.get("customer_details"), "customer_details") or {}
    email = p.string(details.get("email"), "customer_details[email]")
    created = _created_filter(params.get("created"))
    sessions = []
    for session in reversed(current_sandbox().state.objects("checkout.session")):
        if any(value and session.get(name) != value for name, value in filters.items()):
            continue
        if email and (session.get("customer_details") or {}).get("email") != email:
            continue
        if not created(session["created"]):
            continue
        sessions.append(session)
    return paginate(sessions, params, "/v1/checkout/sessions", "checkout.session")


# -- customer portal --------------------------------------------------------------------


@bp.post("/billing_portal/sessions")
@endpoint
def create_portal_session(params: Obj) -> Obj:
    """``POST /v1/billing_portal/sessions`` for an existing customer."""
    p.check(params, schemas.PORTAL_CREATE)
    p.not_emulated(params, schemas.PORTAL_NOT_EMULATED)
    customer = p.string(params.get("customer"), "customer", required=True) or ""
    return_url = p.url(params.get("return_url"), "return_url")
    sandbox = current_sandbox()
    session = sandbox.sim.create_portal_session(
        customer, return_url, public_url=sandbox.public_url()
    )
    locale = p.string(params.get("locale"), "locale")
    if locale:
        live = sandbox.state.live(session["id"])
        assert live is not None
        live["locale"] = session["locale"] = locale
    return session


# -- subscriptions ----------------------------------------------------------------------


@bp.post("/subscriptions/<subscription_id>")
@endpoint
def update_subscription(params: Obj, subscription_id: str) -> Obj:
    """``POST /v1/subscriptions/{id}``: cancel at period end, metadata, amount (items)."""
    changes = parsing.subscription_update(params)
    return current_sandbox().sim.update_subscription(subscription_id, **changes)


@bp.delete("/subscriptions/<subscription_id>")
@endpoint
def cancel_subscription(params: Obj, subscription_id: str) -> Obj:
    """``DELETE /v1/subscriptions/{id}``: cancel at once (``customer.subscription.deleted``)."""
    p.check(params, schemas.SUBSCRIPTION_CANCEL)
    p.boolean(params.get("invoice_now"), "invoice_now")
    p.boolean(params.get("prorate"), "prorate")
    details = p.hash_value(params.get("cancellation_details"), "cancellation_details") or {}
    parsed = parsing.cancellation_details(details)
    outcome = current_sandbox().sim.cancel_subscription(
        subscription_id, feedback=parsed.get("feedback"), comment=parsed.get("comment")
    )
    return outcome.object


# -- refunds ----------------------------------------------------------------------------


@bp.post("/refunds")
@endpoint
def create_refund(params: Obj) -> Obj:
    """``POST /v1/refunds`` of a charge or a payment intent's charge."""
    return current_sandbox().sim.refund(**parsing.refund(params)).object


# -- anything else under /v1 --------------------------------------------------------------


@bp.route("/<path:rest>", methods=["GET", "POST", "DELETE"])
def unrecognized(rest: str) -> Response:
    """Stripe's answer to a URL it does not know."""
    return error_response(
        StripeError(
            404,
            f"Unrecognized request URL ({request.method}: {request.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/. "
            "(This is the Stripe sandbox, a test double, which has only the endpoints the "
            "service uses.)",
        )
    )
