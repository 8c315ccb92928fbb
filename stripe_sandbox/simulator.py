"""What happens in the sandbox's Stripe: checkouts, renewals, cancellations, refunds, disputes.

Every operation takes the state lock for its whole run, so each one is atomic, and
emits its events in the order Stripe sends them for the same story.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from . import balance, cards, objects
from .config import SandboxConfig
from .errors import conflict, invalid, no_such
from .money import format_amount, minimum_charge
from .periods import period_boundary
from .state import SandboxState

Obj = dict[str, Any]
RenewalOutcome = Literal["paid", "failed"]
DisputeOutcome = Literal["won", "lost"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Stripe's fee for European cards, near enough for reports: 1.5% + 25 minor units.
_FEE_PERCENT, _FEE_FIXED = 1.5, 25


@dataclass(frozen=True)
class PriceSpec:
    """``price_data``: an inline price, for an existing product or a new one."""

    currency: str
    unit_amount: int
    interval: str | None = None
    interval_count: int = 1
    product_id: str | None = None
    product_name: str | None = None
    product_description: str | None = None
    product_metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LineItemSpec:
    """One line of a Checkout Session: an existing price or ``price_data``."""

    quantity: int
    price_id: str | None = None
    price_data: PriceSpec | None = None


@dataclass(frozen=True)
class CheckoutSpec:
    """A validated ``POST /v1/checkout/sessions``."""

    mode: str
    line_items: list[LineItemSpec]
    success_url: str | None = None
    cancel_url: str | None = None
    submit_type: str | None = None
    customer_id: str | None = None
    customer_email: str | None = None
    customer_creation: str | None = None
    client_reference_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    payment_intent_data: Obj = field(default_factory=dict)
    subscription_data: Obj = field(default_factory=dict)
    expires_at: int | None = None
    #: Settings shown back on the session as sent (``locale``, ``billing_address_collection``).
    echo: Obj = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The object an operation produced or changed, and the events it emitted, in order."""

    object: Obj
    events: list[Obj]

    @property
    def event_types(self) -> list[str]:
        """The types of the emitted events, in order."""
        return [str(event["type"]) for event in self.events]


@dataclass(frozen=True)
class CheckoutResult:
    """What paying on the hosted page led to.

    ``status`` is ``"succeeded"`` (go to ``redirect_url``), ``"requires_action"`` (show the
    3-D Secure challenge) or ``"failed"`` (show ``message`` next to ``field``).
    """

    status: Literal["succeeded", "requires_action", "failed"]
    session: Obj
    events: list[Obj] = field(default_factory=list)
    code: str | None = None
    message: str | None = None
    field: str | None = None
    redirect_url: str | None = None

    @property
    def event_types(self) -> list[str]:
        """The types of the emitted events, in order."""
        return [str(event["type"]) for event in self.events]


class Simulator:
    """The sandbox's business rules, over one ``SandboxState``."""

    def __init__(self, state: SandboxState, config: SandboxConfig) -> None:
        self.state = state
        self.config = config
        #: Balance transactions becoming available, and payouts (``balance.py``).
        self.balance = balance.Balance(state)

    # -- lookups ----------------------------------------------------------------------

    def require(self, object_id: str, object_name: str, noun: str, *, param: str = "id") -> Obj:
        """The live object, or Stripe's 404 ``resource_missing``."""
        obj = self.state.live(object_id, object_name)
        if obj is None:
            raise no_such(noun, object_id, param=param)
        return obj

    def _emit_all(self, start: int) -> list[Obj]:
        """Copies of the events emitted since `start` (only those: histories grow long)."""
        return [copy.deepcopy(record.event) for record in self.state.event_records()[start:]]

    def _mark(self) -> int:
        return len(self.state.event_records())

    # -- checkout ---------------------------------------------------------------------

    def create_checkout_session(self, spec: CheckoutSpec, *, public_url: str) -> Obj:
        """Create an open Checkout Session and the prices its line items need."""
        with self.state.lock:
            now = self.state.now()
            if spec.customer_id:
                self.require(spec.customer_id, "customer", "customer", param="customer")
            prices = [
                self._price_for(item, index, now) for index, item in enumerate(spec.line_items)
            ]
            currencies = {price["currency"] for price, _ in prices}
            if len(currencies) > 1:
                raise invalid("All line items must use the same currency.", param="line_items")
            currency = currencies.pop()
            recurring = [price for price, _ in prices if price["recurring"]]
            if spec.mode == "payment" and recurring:
                raise invalid(
                    "You specified `payment` mode but passed a recurring price. Either switch "
                    "to `subscription` mode or use only one-time prices.",
                    param="line_items",
                )
            if spec.mode == "subscription":
                if not recurring:
                    raise invalid(
                        "You must provide at least one recurring price in `subscription` mode "
                        "when using prices.",
                        param="line_items",
                    )
                if len(recurring) != len(prices):
                    raise invalid(
                        "The Stripe sandbox does not emulate one-time prices in "
                        "`subscription` mode.",
                        param="line_items",
                    )
                intervals = {
                    (p["recurring"]["interval"], p["recurring"]["interval_count"])
                    for p in recurring
                }
                if len(intervals) > 1:
                    raise invalid(
                        "Checkout does not support multiple prices with different billing "
                        "intervals.",
                        param="line_items",
                    )
            amount = sum(price["unit_amount"] * quantity for price, quantity in prices)
            if amount < minimum_charge(currency):
                shown = format_amount(minimum_charge(currency), currency)
                raise invalid(
                    f"The Checkout Session's total amount due must add up to at least {shown}",
                    param="line_items",
                    code="amount_too_small",
                )
            session_id = objects.new_session_id()
            values: Obj = {
                "cancel_url": spec.cancel_url,
                "client_reference_id": spec.client_reference_id,
                "customer": spec.customer_id,
                "customer_email": spec.customer_email,
                "metadata": dict(spec.metadata),
                "submit_type": spec.submit_type,
                "success_url": spec.success_url,
            }
            if spec.mode == "payment":
                values["customer_creation"] = spec.customer_creation or "if_required"
            values.update(spec.echo)
            session = objects.checkout_session(
                session_id=session_id,
                url=f"{public_url}/c/pay/{session_id}",
                mode=spec.mode,
                now=now,
                expires_at=spec.expires_at or now + 24 * 3600,
                amount=amount,
                currency=currency,
                values=values,
            )
            self.state.put(session)
            private = self.state.private(session_id)
            private["items"] = [
                objects.line_item(
                    price_obj=price,
                    quantity=quantity,
                    description=self._product_name(price["product"]),
                )
                for price, quantity in prices
            ]
            private["payment_intent_data"] = copy.deepcopy(spec.payment_intent_data)
            private["subscription_data"] = copy.deepcopy(spec.subscription_data)
            return copy.deepcopy(session)

    def _price_for(self, item: LineItemSpec, index: int, now: int) -> tuple[Obj, int]:
        if item.price_id:
            param = f"line_items[{index}][price]"
            price = self.state.live(item.price_id, "price")
            if price is None:
                raise no_such("price", item.price_id, param=param, status=400)
            return price, item.quantity
        data = item.price_data
        assert data is not None
        if data.product_id:
            param = f"line_items[{index}][price_data][product]"
            product_id = data.product_id
            if self.state.live(product_id, "product") is None:
                raise no_such("product", product_id, param=param, status=400)
        else:
            new_product = objects.product(
                name=data.product_name or "",
                description=data.product_description,
                metadata=dict(data.product_metadata),
                now=now,
            )
            product_id = self.state.put(new_product)["id"]
        price = objects.price(
            product_id=product_id,
            currency=data.currency,
            unit_amount=data.unit_amount,
            interval=data.interval,
            interval_count=data.interval_count,
            now=now,
        )
        return self.state.put(price), item.quantity

    def _product_name(self, product_id: str) -> str:
        product = self.state.live(product_id, "product")
        return str(product["name"]) if product else product_id

    def line_items(self, session_id: str) -> list[Obj]:
        """The session's line items (Checkout's includable ``line_items``)."""
        with self.state.lock:
            self.require(session_id, "checkout.session", "checkout.session")
            return copy.deepcopy(self.state.private(session_id).get("items", []))

    def checkout_email(self, session: Obj) -> str | None:
        """The email Checkout fixes for this session (from ``customer`` or ``customer_email``)."""
        with self.state.lock:
            if session.get("customer"):
                cust = self.state.live(session["customer"], "customer")
                if cust and cust.get("email"):
                    return str(cust["email"])
            email = session.get("customer_email")
            return str(email) if email else None

    def complete_checkout(
        self,
        session_id: str,
        card: str = "4242424242424242",
        *,
        email: str | None = None,
        exp: str | None = None,
        cvc: str | None = None,
    ) -> CheckoutResult:
        """Pay an open Checkout Session with a test card, as the hosted page does."""
        with self.state.lock:
            session = self.require(session_id, "checkout.session", "checkout.session")
            self._require_open(session)
            fixed = self.checkout_email(session)
            email = fixed or (email or "").strip()
            if not email:
                return self._failed(session, "email_invalid", "Enter your email address.", "email")
            if not _EMAIL.match(email):
                return self._failed(
                    session, "email_invalid", "Your email address is invalid.", "email"
                )
            try:
                entered = cards.read_card(card, exp, cvc)
            except cards.CardProblem as problem:
                return self._failed(session, problem.code, problem.message, problem.field)
            test_card = entered.test_card
            if test_card.behaviour == "decline":
                code = test_card.code or "card_declined"
                return self._failed(session, code, test_card.message or "", "number")
            if test_card.behaviour == "authenticate":
                self.state.private(session_id)["pending_authentication"] = {
                    "card": entered,
                    "email": email,
                }
                return CheckoutResult(
                    status="requires_action",
                    session=copy.deepcopy(session),
                    redirect_url=f"/c/pay/{session_id}/authenticate",
                )
            return self._fulfil(session, entered, email, three_d_secure=False)

    def authenticate_checkout(self, session_id: str, *, succeed: bool) -> CheckoutResult:
        """Answer the 3-D Secure challenge of a session waiting for it."""
        with self.state.lock:
            session = self.require(session_id, "checkout.session", "checkout.session")
            self._require_open(session)
            pending = self.state.private(session_id).pop("pending_authentication", None)
            if pending is None:
                raise conflict("No authentication is pending for this Checkout Session.")
            if not succeed:
                return self._failed(
                    session,
                    "payment_intent_authentication_failure",
                    cards.AUTHENTICATION_FAILED,
                    "number",
                )
            return self._fulfil(session, pending["card"], pending["email"], three_d_secure=True)

    def pending_authentication(self, session_id: str) -> bool:
        """Whether the session waits for a 3-D Secure answer."""
        with self.state.lock:
            return "pending_authentication" in self.state.private(session_id)

    def _require_open(self, session: Obj) -> None:
        if session["status"] != "open":
            raise conflict(
                "This Checkout Session is no longer active.", code="checkout_session_inactive"
            )

    def _failed(self, session: Obj, code: str, message: str, field_name: str) -> CheckoutResult:
        return CheckoutResult(
            status="failed",
            session=copy.deepcopy(session),
            code=code,
            message=message,
            field=field_name,
        )

    def _fulfil(
        self, session: Obj, card: cards.Card, email: str, *, three_d_secure: bool
    ) -> CheckoutResult:
        mark = self._mark()
        now = self.state.now()
        private = self.state.private(session["id"])
        subscription_mode = session["mode"] == "subscription"
        cust: Obj | None = None
        if session.get("customer"):
            cust = self.state.live(session["customer"], "customer")
        elif subscription_mode or session.get("customer_creation") == "always":
            cust = self.state.put(objects.customer(email=email, name=None, now=now))
            self.state.emit("customer.created", cust)
        pm = self.state.put(
            objects.payment_method(
                card=card.details(),
                email=email,
                customer_id=cust["id"] if cust else None,
                now=now,
            )
        )
        updates: Obj = {
            "customer": cust["id"] if cust else None,
            "customer_details": objects.customer_details(email),
            "collected_information": {
                "business_name": None,
                "individual_name": None,
                "shipping_details": None,
            },
            "status": "complete",
            "payment_status": "paid",
            "url": None,
        }
        if subscription_mode:
            assert cust is not None
            sub, inv = self._start_subscription(session, cust, pm, three_d_secure, now)
            updates["subscription"] = sub["id"]
            updates["invoice"] = inv["id"]
        else:
            pi_data = private.get("payment_intent_data", {})
            pi, _charge = self._charge(
                amount=session["amount_total"],
                currency=session["currency"],
                cust=cust,
                pm=pm,
                email=email,
                description=pi_data.get("description"),
                metadata=dict(pi_data.get("metadata", {})),
                receipt_email=pi_data.get("receipt_email"),
                statement_descriptor=pi_data.get("statement_descriptor"),
                succeed=True,
                three_d_secure=three_d_secure,
            )
            updates["payment_intent"] = pi["id"]
        session.update(updates)
        self.state.emit("checkout.session.completed", session)
        redirect = session.get("success_url")
        if redirect:
            redirect = redirect.replace("{CHECKOUT_SESSION_ID}", session["id"])
        return CheckoutResult(
            status="succeeded",
            session=copy.deepcopy(session),
            events=self._emit_all(mark),
            redirect_url=redirect,
        )

    # -- payments ---------------------------------------------------------------------

    def _charge(
        self,
        *,
        amount: int,
        currency: str,
        cust: Obj | None,
        pm: Obj,
        email: str | None,
        description: str | None,
        metadata: dict[str, str],
        receipt_email: str | None,
        statement_descriptor: str | None,
        succeed: bool,
        three_d_secure: bool = False,
    ) -> tuple[Obj, Obj]:
        """Create a payment intent and its charge, succeeded or declined, with their events."""
        now = self.state.now()
        pi = self.state.put(
            objects.payment_intent(
                amount=amount,
                currency=currency,
                customer_id=cust["id"] if cust else None,
                payment_method_id=pm["id"],
                description=description,
                metadata=metadata,
                receipt_email=receipt_email,
                statement_descriptor=statement_descriptor,
                now=now,
            )
        )
        descriptor = (statement_descriptor or self.config.account_name).upper()[:22]
        ch = self.state.put(
            objects.charge(
                pi=pi,
                pm=pm,
                email=email,
                three_d_secure=three_d_secure,
                statement_descriptor=descriptor,
                now=now,
            )
        )
        pi["latest_charge"] = ch["id"]
        if succeed:
            fee = math.floor(amount * _FEE_PERCENT / 100 + 0.5) + _FEE_FIXED
            txn = self.state.put(
                objects.balance_transaction(
                    source_id=ch["id"],
                    amount=amount,
                    fee=min(fee, amount),
                    currency=currency,
                    kind="charge",
                    now=now,
                )
            )
            ch.update(
                {
                    "amount_captured": amount,
                    "balance_transaction": txn["id"],
                    "captured": True,
                    "paid": True,
                    "status": "succeeded",
                    "outcome": _outcome(approved=True),
                }
            )
            pi.update({"amount_received": amount, "status": "succeeded"})
            self.state.emit("charge.succeeded", ch)
            self.state.emit("payment_intent.succeeded", pi)
        else:
            message = "Your card was declined."
            ch.update(
                {
                    "failure_code": "card_declined",
                    "failure_message": message,
                    "status": "failed",
                    "outcome": _outcome(approved=False),
                }
            )
            pi.update(
                {
                    "status": "requires_payment_method",
                    "last_payment_error": {
                        "charge": ch["id"],
                        "code": "card_declined",
                        "decline_code": "generic_decline",
                        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                        "message": message,
                        "payment_method": copy.deepcopy(pm),
                        "type": "card_error",
                    },
                }
            )
            self.state.emit("charge.failed", ch)
            self.state.emit("payment_intent.payment_failed", pi)
        return pi, ch

    # -- subscriptions ----------------------------------------------------------------

    def _start_subscription(
        self, session: Obj, cust: Obj, pm: Obj, three_d_secure: bool, now: int
    ) -> tuple[Obj, Obj]:
        private = self.state.private(session["id"])
        sub_data = private.get("subscription_data", {})
        sub_id = objects.new_id("sub_")
        first = private["items"][0]["price"]["recurring"]
        end = period_boundary(now, first["interval"], first["interval_count"], 1)
        items = [
            objects.subscription_item(
                subscription_id=sub_id,
                price_obj=line["price"],
                quantity=line["quantity"],
                period=(now, end),
                now=now,
            )
            for line in private["items"]
        ]
        sub = self.state.put(
            objects.subscription(
                subscription_id=sub_id,
                customer_id=cust["id"],
                currency=session["currency"],
                items=items,
                payment_method_id=pm["id"],
                description=sub_data.get("description"),
                metadata=dict(sub_data.get("metadata", {})),
                now=now,
            )
        )
        self.state.private(sub_id).update({"anchor": now, "cycle": 0})
        if cust.get("currency") is None:
            cust["currency"] = session["currency"]
        inv = self._draft_invoice(
            sub,
            cust,
            billing_reason="subscription_create",
            period=(now, now),
            line_period=(now, end),
        )
        sub["latest_invoice"] = inv["id"]
        self.state.emit("customer.subscription.created", sub)
        self._finalize_invoice(inv, cust)
        self._pay_invoice(inv, sub, cust, succeed=True, three_d_secure=three_d_secure)
        return sub, inv

    def _draft_invoice(
        self,
        sub: Obj,
        cust: Obj,
        *,
        billing_reason: str,
        period: tuple[int, int],
        line_period: tuple[int, int],
    ) -> Obj:
        """Store a draft invoice for ``sub``; ``_finalize_invoice`` announces it."""
        now = self.state.now()
        descriptions = {item["id"]: self._line_description(item) for item in sub["items"]["data"]}
        inv = objects.invoice(
            sub=sub,
            cust=cust,
            billing_reason=billing_reason,
            period=period,
            line_period=line_period,
            account=(self.config.account_name, self.config.account_country),
            line_descriptions=descriptions,
            now=now,
        )
        number = inv["number"]
        inv.update(
            {
                "status": "draft",
                "number": None,
                "effective_at": None,
                "status_transitions": inv["status_transitions"] | {"finalized_at": None},
            }
        )
        self.state.private(inv["id"])["number"] = number
        return self.state.put(inv)

    def _finalize_invoice(self, inv: Obj, cust: Obj) -> None:
        """Emit ``invoice.created`` for the draft, then number it and emit ``.finalized``."""
        now = self.state.now()
        self.state.emit("invoice.created", inv)
        cust["next_invoice_sequence"] = cust["next_invoice_sequence"] + 1
        inv.update(
            {
                "status": "open",
                "number": self.state.private(inv["id"])["number"],
                "effective_at": now,
                "status_transitions": inv["status_transitions"] | {"finalized_at": now},
            }
        )
        self.state.emit("invoice.finalized", inv)

    def _line_description(self, item: Obj) -> str:
        price = item["price"]
        recurring = price["recurring"] or {}
        shown = format_amount(price["unit_amount"], price["currency"])
        name = self._product_name(price["product"])
        interval = recurring.get("interval", "month")
        # Stripe's own wording uses the multiplication sign.
        return f"{item['quantity']} × {name} (at {shown} / {interval})"  # noqa: RUF001

    def _pay_invoice(
        self, inv: Obj, sub: Obj, cust: Obj, *, succeed: bool, three_d_secure: bool = False
    ) -> None:
        """Charge the invoice's amount to the subscription's card, with Stripe's events."""
        now = self.state.now()
        pm_id = (
            sub.get("default_payment_method") or cust["invoice_settings"]["default_payment_method"]
        )
        pm = self.state.live(pm_id, "payment_method") if pm_id else None
        if pm is None:
            raise conflict(
                "This customer has no attached payment source or default payment method."
            )
        description = (
            "Subscription creation"
            if inv["billing_reason"] == "subscription_create"
            else "Subscription update"
        )
        pi, _ch = self._charge(
            amount=inv["amount_due"],
            currency=inv["currency"],
            cust=cust,
            pm=pm,
            email=cust.get("email"),
            description=description,
            metadata={},
            receipt_email=None,
            statement_descriptor=None,
            succeed=succeed,
            three_d_secure=three_d_secure,
        )
        payment = self.state.put(objects.invoice_payment(inv=inv, pi_id=pi["id"], now=now))
        self.state.private(inv["id"]).setdefault("payments", []).append(payment["id"])
        inv.update({"attempted": True, "attempt_count": inv["attempt_count"] + 1})
        if succeed:
            payment.update(
                {
                    "amount_paid": inv["amount_due"],
                    "status": "paid",
                    "status_transitions": {"canceled_at": None, "paid_at": now},
                }
            )
            inv.update(
                {
                    "amount_paid": inv["amount_due"],
                    "amount_remaining": 0,
                    "auto_advance": False,
                    "next_payment_attempt": None,
                    "status": "paid",
                    "status_transitions": inv["status_transitions"] | {"paid_at": now},
                }
            )
            self.state.emit("invoice.paid", inv)
            self.state.emit("invoice.payment_succeeded", inv)
        else:
            # Smart Retries would try again in a few days; the sandbox only says when.
            inv["next_payment_attempt"] = now + 3 * 86400
            self.state.emit("invoice.payment_failed", inv)

    def invoice_payments(self, invoice_id: str) -> list[Obj]:
        """The invoice's payments (the includable ``payments`` list), newest first."""
        with self.state.lock:
            ids = self.state.private(invoice_id).get("payments", [])
            return [self.state.get(payment_id) for payment_id in reversed(ids)]

    def renew_subscription(self, subscription_id: str, outcome: RenewalOutcome = "paid") -> Outcome:
        """Move a subscription into its next period and bill it, as the period end does.

        A subscription set to cancel at period end is canceled instead. A failed payment
        leaves the invoice open and the subscription ``past_due``; a later paid renewal
        makes it ``active`` again.
        """
        if outcome not in ("paid", "failed"):
            raise invalid("outcome must be 'paid' or 'failed'", param="outcome")
        with self.state.lock:
            mark = self._mark()
            sub = self.require(subscription_id, "subscription", "subscription")
            if sub["status"] not in ("active", "past_due"):
                raise conflict(f"A {sub['status']} subscription cannot be renewed.")
            if sub["cancel_at_period_end"]:
                self._end_subscription(sub, reason=sub["cancellation_details"]["reason"])
                return Outcome(copy.deepcopy(sub), self._emit_all(mark))
            cust = self.require(sub["customer"], "customer", "customer")
            private = self.state.private(subscription_id)
            private["cycle"] = cycle = private.get("cycle", 0) + 1
            anchor: int = private["anchor"]
            old_items = copy.deepcopy(sub["items"])
            old_status, old_invoice = sub["status"], sub["latest_invoice"]
            old_start = sub["items"]["data"][0]["current_period_start"]
            old_end = sub["items"]["data"][0]["current_period_end"]
            for item in sub["items"]["data"]:
                recurring = item["price"]["recurring"]
                interval, count = recurring["interval"], recurring["interval_count"]
                item["current_period_start"] = period_boundary(anchor, interval, count, cycle)
                item["current_period_end"] = period_boundary(anchor, interval, count, cycle + 1)
            new_period = (
                sub["items"]["data"][0]["current_period_start"],
                sub["items"]["data"][0]["current_period_end"],
            )
            inv = self._draft_invoice(
                sub,
                cust,
                billing_reason="subscription_cycle",
                period=(old_start, old_end),
                line_period=new_period,
            )
            sub["latest_invoice"] = inv["id"]
            self.state.emit(
                "customer.subscription.updated",
                sub,
                {"items": old_items, "latest_invoice": old_invoice},
            )
            self._finalize_invoice(inv, cust)
            self._pay_invoice(inv, sub, cust, succeed=outcome == "paid")
            new_status = "active" if outcome == "paid" else "past_due"
            if new_status != old_status:
                sub["status"] = new_status
                self.state.emit("customer.subscription.updated", sub, {"status": old_status})
            return Outcome(copy.deepcopy(sub), self._emit_all(mark))

    def cancel_subscription(
        self,
        subscription_id: str,
        *,
        at_period_end: bool = False,
        feedback: str | None = None,
        comment: str | None = None,
    ) -> Outcome:
        """Cancel now (``customer.subscription.deleted``) or at the period's end (``.updated``)."""
        with self.state.lock:
            mark = self._mark()
            sub = self.require(subscription_id, "subscription", "subscription")
            if sub["status"] == "canceled":
                raise conflict("This subscription has already been canceled.")
            details = {
                "comment": comment,
                "feedback": feedback,
                "reason": "cancellation_requested",
            }
            if at_period_end:
                self._update(
                    sub,
                    {
                        "cancel_at_period_end": True,
                        "cancel_at": sub["items"]["data"][0]["current_period_end"],
                        "canceled_at": self.state.now(),
                        "cancellation_details": details,
                    },
                )
            else:
                sub["cancellation_details"] = details
                self._end_subscription(sub, reason="cancellation_requested")
            return Outcome(copy.deepcopy(sub), self._emit_all(mark))

    def _end_subscription(self, sub: Obj, *, reason: str | None) -> None:
        now = self.state.now()
        sub.update(
            {
                "status": "canceled",
                "canceled_at": sub.get("canceled_at") or now,
                "ended_at": now,
                "cancel_at_period_end": False,
                "cancellation_details": sub["cancellation_details"]
                | {"reason": reason or "cancellation_requested"},
            }
        )
        self.state.emit("customer.subscription.deleted", sub)

    def _update(self, sub: Obj, changes: Obj) -> bool:
        """Apply ``changes``; emit ``customer.subscription.updated`` if anything changed."""
        previous = {
            key: copy.deepcopy(sub.get(key))
            for key, value in changes.items()
            if sub.get(key) != value
        }
        if not previous:
            return False
        sub.update(copy.deepcopy({key: changes[key] for key in previous}))
        self.state.emit("customer.subscription.updated", sub, previous)
        return True

    def update_subscription(
        self,
        subscription_id: str,
        *,
        cancel_at_period_end: bool | None = None,
        metadata: Mapping[str, str] | None = None,
        description: str | None = None,
        default_payment_method: str | None = None,
        items: list[Obj] | None = None,
        cancellation_details: Obj | None = None,
    ) -> Obj:
        """``POST /v1/subscriptions/{id}``: the changes the service and the portal make.

        ``items`` entries are ``{"id"?, "price"?, "price_data"?: PriceSpec, "quantity"?,
        "deleted"?}``; an entry without ``id`` adds an item. Metadata merges, and an
        empty value removes its key, as with Stripe.
        """
        with self.state.lock:
            sub = self.require(subscription_id, "subscription", "subscription")
            if sub["status"] == "canceled" and (
                cancel_at_period_end is not None or items or default_payment_method
            ):
                raise conflict(
                    "A canceled subscription can only update its cancellation_details and metadata."
                )
            changes: Obj = {}
            if metadata is not None:
                merged = dict(sub["metadata"])
                for key, value in metadata.items():
                    if value == "":
                        merged.pop(key, None)
                    else:
                        merged[key] = value
                changes["metadata"] = merged
            if description is not None:
                changes["description"] = description or None
            if default_payment_method is not None:
                self.require(
                    default_payment_method,
                    "payment_method",
                    "PaymentMethod",
                    param="default_payment_method",
                )
                changes["default_payment_method"] = default_payment_method
            if cancellation_details is not None:
                changes["cancellation_details"] = sub["cancellation_details"] | cancellation_details
            if cancel_at_period_end is not None:
                period_end = sub["items"]["data"][0]["current_period_end"]
                changes["cancel_at_period_end"] = cancel_at_period_end
                changes["cancel_at"] = period_end if cancel_at_period_end else None
                if cancel_at_period_end and not sub["cancel_at_period_end"]:
                    changes["canceled_at"] = self.state.now()
                    details: Obj = (
                        changes.get("cancellation_details") or sub["cancellation_details"]
                    )
                    changes["cancellation_details"] = details | {"reason": "cancellation_requested"}
                elif not cancel_at_period_end and sub["cancel_at_period_end"]:
                    changes["canceled_at"] = None
                    changes["cancellation_details"] = {
                        "comment": None,
                        "feedback": None,
                        "reason": None,
                    }
            if items:
                changes["items"] = self._updated_items(sub, items)
            self._update(sub, changes)
            return copy.deepcopy(sub)

    def _updated_items(self, sub: Obj, entries: list[Obj]) -> Obj:
        now = self.state.now()
        listing: Obj = copy.deepcopy(sub["items"])
        current = listing["data"]
        period = (current[0]["current_period_start"], current[0]["current_period_end"])
        for index, entry in enumerate(entries):
            param = f"items[{index}]"
            price = None
            if entry.get("price"):
                price = self.state.live(entry["price"], "price")
                if price is None:
                    raise no_such("price", entry["price"], param=f"{param}[price]", status=400)
            elif entry.get("price_data") is not None:
                data: PriceSpec = entry["price_data"]
                if self.state.live(data.product_id or "", "product") is None:
                    raise no_such(
                        "product",
                        data.product_id or "",
                        param=f"{param}[price_data][product]",
                        status=400,
                    )
                price = self.state.put(
                    objects.price(
                        product_id=data.product_id or "",
                        currency=data.currency,
                        unit_amount=data.unit_amount,
                        interval=data.interval,
                        interval_count=data.interval_count,
                        now=now,
                    )
                )
            if price is not None and not price["recurring"]:
                raise invalid(
                    "The price specified is set to `type=one_time` but this field only "
                    "accepts prices with `type=recurring`.",
                    param=f"{param}[price]",
                )
            if price is not None and price["currency"] != sub["currency"]:
                raise invalid(
                    "The price's currency must match the subscription's currency.",
                    param=f"{param}[price]",
                )
            item_id = entry.get("id")
            if item_id:
                matches = [item for item in current if item["id"] == item_id]
                if not matches:
                    raise no_such("subscription_item", item_id, param=f"{param}[id]", status=400)
                item = matches[0]
                if entry.get("deleted"):
                    current.remove(item)
                    continue
                if price is not None:
                    item["price"] = copy.deepcopy(price)
                    item["plan"] = objects.plan_from_price(price)
                if entry.get("quantity") is not None:
                    item["quantity"] = entry["quantity"]
            else:
                if price is None:
                    raise invalid(
                        "You must specify a price or price_data for a new subscription item.",
                        param=param,
                    )
                current.append(
                    objects.subscription_item(
                        subscription_id=sub["id"],
                        price_obj=price,
                        quantity=entry.get("quantity") or 1,
                        period=period,
                        now=now,
                    )
                )
        if not current:
            raise invalid("A subscription must have at least one active plan.", param="items")
        return listing

    def change_amount(self, subscription_id: str, amount: int) -> Obj:
        """The portal's "Change amount": a new price for the first item (no proration)."""
        with self.state.lock:
            sub = self.require(subscription_id, "subscription", "subscription")
            item = sub["items"]["data"][0]
            recurring = item["price"]["recurring"]
            spec = PriceSpec(
                currency=sub["currency"],
                unit_amount=amount,
                interval=recurring["interval"],
                interval_count=recurring["interval_count"],
                product_id=item["price"]["product"],
            )
            return self.update_subscription(
                subscription_id, items=[{"id": item["id"], "price_data": spec, "quantity": 1}]
            )

    def update_card(self, customer_id: str, card: cards.Card) -> Outcome:
        """The portal's "Update card": attach a card and make it the default everywhere."""
        with self.state.lock:
            mark = self._mark()
            cust = self.require(customer_id, "customer", "customer")
            pm = self.state.put(
                objects.payment_method(
                    card=card.details(),
                    email=cust.get("email"),
                    customer_id=customer_id,
                    now=self.state.now(),
                )
            )
            self.state.emit("payment_method.attached", pm)
            previous = copy.deepcopy(cust["invoice_settings"])
            cust["invoice_settings"] = previous | {"default_payment_method": pm["id"]}
            self.state.emit("customer.updated", cust, {"invoice_settings": previous})
            for sub in self.state.objects("subscription"):
                if sub["customer"] == customer_id and sub["status"] != "canceled":
                    live = self.state.live(sub["id"], "subscription")
                    assert live is not None
                    self._update(live, {"default_payment_method": pm["id"]})
            return Outcome(copy.deepcopy(pm), self._emit_all(mark))

    # -- portal -----------------------------------------------------------------------

    def create_portal_session(
        self, customer_id: str, return_url: str | None, *, public_url: str
    ) -> Obj:
        """A customer portal session for an existing customer."""
        with self.state.lock:
            self.require(customer_id, "customer", "customer", param="customer")
            session = objects.portal_session(
                customer_id=customer_id, return_url=return_url, url="", now=self.state.now()
            )
            session["url"] = f"{public_url}/p/session/{session['id']}"
            return copy.deepcopy(self.state.put(session))

    def customer_subscriptions(self, customer_id: str) -> list[Obj]:
        """The customer's subscriptions, newest first."""
        subs = [s for s in self.state.objects("subscription") if s["customer"] == customer_id]
        return list(reversed(subs))

    # -- refunds and disputes ---------------------------------------------------------

    def refund(
        self,
        *,
        charge_id: str | None = None,
        payment_intent_id: str | None = None,
        amount: int | None = None,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Refund all or part of a charge (``charge.refunded``); returns the refund."""
        with self.state.lock:
            mark = self._mark()
            if payment_intent_id:
                pi = self.require(
                    payment_intent_id, "payment_intent", "payment_intent", param="payment_intent"
                )
                if not pi.get("latest_charge") or pi["status"] != "succeeded":
                    raise conflict(
                        f"This PaymentIntent ({payment_intent_id}) does not have a successful "
                        "charge to refund.",
                        code="charge_not_refundable",
                        param="payment_intent",
                    )
                charge_id = pi["latest_charge"]
            if not charge_id:
                raise invalid(
                    "One of the following params should be provided for this request: "
                    "payment_intent or charge.",
                )
            ch = self.require(charge_id, "charge", "charge", param="charge")
            remaining = ch["amount"] - ch["amount_refunded"]
            if ch["status"] != "succeeded":
                raise conflict(
                    f"Charge {charge_id} has not succeeded and cannot be refunded.",
                    code="charge_not_refundable",
                )
            if ch["disputed"]:
                raise conflict(
                    f"Charge {charge_id} has been charged back; cannot issue a refund.",
                    code="charge_disputed",
                )
            if remaining <= 0:
                raise conflict(
                    f"Charge {charge_id} has already been refunded.",
                    code="charge_already_refunded",
                )
            amount = remaining if amount is None else amount
            if amount <= 0:
                raise invalid("Refund amount must be positive.", param="amount")
            if amount > remaining:
                raise conflict(
                    f"Refund amount ({format_amount(amount, ch['currency'])}) is greater than "
                    f"unrefunded amount on charge ({format_amount(remaining, ch['currency'])})",
                    code="amount_too_large",
                    param="amount",
                )
            now = self.state.now()
            re_obj = objects.refund(
                ch=ch, amount=amount, reason=reason, metadata=dict(metadata or {}), now=now
            )
            txn = self.state.put(
                objects.balance_transaction(
                    source_id=re_obj["id"],
                    amount=-amount,
                    fee=0,
                    currency=ch["currency"],
                    kind="refund",
                    now=now,
                )
            )
            re_obj["balance_transaction"] = txn["id"]
            self.state.put(re_obj)
            # The charge does not carry its refunds (includable since 2022-11-15): see
            # ``charge_refunds``.
            previous = {"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
            ch["amount_refunded"] += amount
            ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
            self.state.emit("charge.refunded", ch, previous)
            return Outcome(copy.deepcopy(re_obj), self._emit_all(mark))

    # -- information-losing events: expiry, failed refunds, customers, inquiries --------

    def expire_checkout(self, session_id: str) -> Outcome:
        """Expire an open Checkout Session (``checkout.session.expired``)."""
        with self.state.lock:
            mark = self._mark()
            session = self.require(session_id, "checkout.session", "checkout.session")
            if session["status"] != "open":
                raise conflict(
                    f'Only Checkout Sessions with a status in ["open"] can be expired. '
                    f'This Checkout Session has a status of "{session["status"]}".'
                )
            session.update({"status": "expired", "url": None})
            self.state.emit("checkout.session.expired", session)
            return Outcome(copy.deepcopy(session), self._emit_all(mark))

    def fail_refund(self, refund_id: str) -> Outcome:
        """The bank returns a refund (``charge.refund.updated``, ``refund.failed``).

        The money is back with the merchant: the charge's ``amount_refunded`` drops again.
        """
        with self.state.lock:
            mark = self._mark()
            re_obj = self.require(refund_id, "refund", "refund")
            if re_obj["status"] == "failed":
                raise conflict(f"Refund {refund_id} has already failed.")
            ch = self.require(re_obj["charge"], "charge", "charge")
            now = self.state.now()
            txn = self.state.put(
                objects.balance_transaction(
                    source_id=re_obj["id"],
                    amount=re_obj["amount"],
                    fee=0,
                    currency=re_obj["currency"],
                    kind="refund_failure",
                    now=now,
                )
            )
            re_obj.update(
                {
                    "status": "failed",
                    "failure_reason": "expired_or_canceled_card",
                    "failure_balance_transaction": txn["id"],
                }
            )
            ch["amount_refunded"] = max(0, ch["amount_refunded"] - re_obj["amount"])
            ch["refunded"] = ch["amount_refunded"] >= ch["amount"]
            self.state.emit("charge.refund.updated", re_obj, {"status": "succeeded"})
            self.state.emit("refund.failed", re_obj)
            return Outcome(copy.deepcopy(re_obj), self._emit_all(mark))

    def update_customer(self, customer_id: str, *, email: str) -> Outcome:
        """Change a customer's email, as the dashboard can (``customer.updated``)."""
        with self.state.lock:
            mark = self._mark()
            cust = self._customer(customer_id)
            if cust["email"] != email:
                previous = {"email": cust["email"]}
                cust["email"] = email
                self.state.emit("customer.updated", cust, previous)
            return Outcome(copy.deepcopy(cust), self._emit_all(mark))

    def delete_customer(self, customer_id: str) -> Outcome:
        """Delete a customer: its subscriptions end, then ``customer.deleted``."""
        with self.state.lock:
            mark = self._mark()
            cust = self._customer(customer_id)
            for sub in self.state.objects("subscription"):
                if sub["customer"] == customer_id and sub["status"] != "canceled":
                    live = self.require(sub["id"], "subscription", "subscription")
                    self._end_subscription(live, reason=None)
            snapshot = copy.deepcopy(cust)
            self.state.put({"id": customer_id, "object": "customer", "deleted": True})
            self.state.emit("customer.deleted", snapshot)
            return Outcome(snapshot, self._emit_all(mark))

    def _customer(self, customer_id: str) -> Obj:
        """A customer that still exists (a deleted one can be read, not changed)."""
        cust = self.require(customer_id, "customer", "customer")
        if cust.get("deleted"):
            raise no_such("customer", customer_id)
        return cust

    def charge_refunds(self, charge_id: str) -> list[Obj]:
        """The charge's refunds (the includable ``refunds`` list), newest first."""
        with self.state.lock:
            refunds = [obj for obj in self.state.objects("refund") if obj["charge"] == charge_id]
            return sorted(refunds, key=lambda obj: obj["created"], reverse=True)

    def dispute(
        self, charge_id: str, *, reason: str = "fraudulent", inquiry: bool = False
    ) -> Outcome:
        """Open a chargeback (or, with ``inquiry``, a card network's inquiry that withdraws no
        funds yet) on a charge (``charge.dispute.created``)."""
        with self.state.lock:
            mark = self._mark()
            ch = self.require(charge_id, "charge", "charge")
            if ch["status"] != "succeeded":
                raise conflict("Only a succeeded charge can be disputed.")
            if ch["disputed"]:
                raise conflict(f"Charge {charge_id} is already disputed.")
            now = self.state.now()
            du = self.state.put(objects.dispute(ch=ch, reason=reason, inquiry=inquiry, now=now))
            if not inquiry:
                # A chargeback withdraws the amount and the dispute fee; an inquiry nothing.
                txn = self.state.put(balance.dispute_withdrawal(ch, du["id"], now))
                du["balance_transactions"] = [copy.deepcopy(txn)]
            ch["disputed"] = True
            self.state.emit("charge.dispute.created", du)
            return Outcome(copy.deepcopy(du), self._emit_all(mark))

    def close_dispute(self, dispute_id: str, outcome: DisputeOutcome) -> Outcome:
        """Decide a dispute for (``won``) or against (``lost``) the merchant."""
        if outcome not in ("won", "lost"):
            raise invalid("outcome must be 'won' or 'lost'", param="outcome")
        with self.state.lock:
            mark = self._mark()
            du = self.require(dispute_id, "dispute", "dispute")
            if du["status"] in ("won", "lost", "warning_closed"):
                raise conflict(f"Dispute {dispute_id} is already closed.")
            # An inquiry closes without a verdict on the money, which never left.
            inquiry = du["status"].startswith("warning_")
            du["status"] = "warning_closed" if inquiry else outcome
            if outcome == "won" and not inquiry:
                ch = self.require(du["charge"], "charge", "charge")
                txn = self.state.put(balance.dispute_reversal(ch, du["id"], self.state.now()))
                du["balance_transactions"].append(copy.deepcopy(txn))
            du["evidence_details"]["has_evidence"] = True
            self.state.emit("charge.dispute.closed", du)
            return Outcome(copy.deepcopy(du), self._emit_all(mark))


def _outcome(*, approved: bool) -> Obj:
    if approved:
        return {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    return {
        "advice_code": "try_again_later",
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "declined_by_network",
        "reason": "generic_decline",
        "risk_level": "normal",
        "risk_score": 20,
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }


__all__ = [
    "CheckoutResult",
    "CheckoutSpec",
    "LineItemSpec",
    "Outcome",
    "PriceSpec",
    "Simulator",
]
