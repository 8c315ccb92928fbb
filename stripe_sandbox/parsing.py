"""Turn validated request parameters into the simulator's specs and arguments."""

from __future__ import annotations

import re
from typing import Any

from . import params as p
from . import schemas
from .errors import invalid, missing
from .money import SUPPORTED
from .simulator import CheckoutSpec, LineItemSpec, PriceSpec

Obj = dict[str, Any]

_CURRENCY = re.compile(r"^[a-z]{3}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def currency_code(value: Any, param: str, *, required: bool = False) -> str | None:
    """A currency Stripe supports, lowercased; ``None`` when absent."""
    currency = p.string(value, param, required=required)
    if currency is None:
        return None
    currency = currency.lower()
    if not _CURRENCY.match(currency) or currency not in SUPPORTED:
        raise invalid(
            f"Invalid currency: {currency}. Stripe currently supports these currencies: "
            + ", ".join(sorted(SUPPORTED)),
            param=param,
        )
    return currency


def price_spec(data: Obj, param: str) -> PriceSpec:
    """Validate ``price_data`` sent under ``param``."""
    currency = currency_code(data.get("currency"), f"{param}[currency]", required=True) or ""
    if "unit_amount_decimal" in data:
        p.not_emulated(data, {"unit_amount_decimal"}, param)
    unit_amount = p.integer(
        data.get("unit_amount"), f"{param}[unit_amount]", required=True, minimum=0, maximum=99999999
    )
    assert unit_amount is not None
    interval, interval_count = None, 1
    recurring = p.hash_value(data.get("recurring"), f"{param}[recurring]")
    if recurring is not None:
        interval = p.choice(
            recurring.get("interval"),
            f"{param}[recurring][interval]",
            ("day", "week", "month", "year"),
            required=True,
        )
        interval_count = (
            p.integer(
                recurring.get("interval_count"),
                f"{param}[recurring][interval_count]",
                minimum=1,
                maximum=365,
            )
            or 1
        )
    product_id = p.string(data.get("product"), f"{param}[product]")
    product_data = p.hash_value(data.get("product_data"), f"{param}[product_data]")
    if product_id and product_data:
        raise invalid(
            f"You may only specify one of these parameters: {param}[product], "
            f"{param}[product_data].",
            param=f"{param}[product]",
        )
    if not product_id and not product_data:
        raise invalid(
            "You must specify either `product` or `product_data` when creating a price.",
            param=f"{param}[product_data]",
        )
    name = description = None
    product_metadata: dict[str, str] = {}
    if product_data:
        name = p.string(product_data.get("name"), f"{param}[product_data][name]", required=True)
        description = p.string(
            product_data.get("description"), f"{param}[product_data][description]"
        )
        product_metadata = (
            p.metadata(product_data.get("metadata"), f"{param}[product_data][metadata]") or {}
        )
    return PriceSpec(
        currency=currency,
        unit_amount=unit_amount,
        interval=interval,
        interval_count=interval_count,
        product_id=product_id,
        product_name=name,
        product_description=description,
        product_metadata=product_metadata,
    )


def checkout_spec(params: Obj, now: int) -> CheckoutSpec:
    """Validate ``POST /v1/checkout/sessions`` into a ``CheckoutSpec``."""
    p.check(params, schemas.CHECKOUT_CREATE)
    unsupported = (
        set(params)
        - schemas.CHECKOUT_HANDLED
        - set(schemas.CHECKOUT_ECHOED)
        - schemas.CHECKOUT_IGNORED
    )
    p.not_emulated(params, unsupported)
    mode = p.choice(params.get("mode"), "mode", ("payment", "setup", "subscription"), required=True)
    ui_mode = p.choice(params.get("ui_mode"), "ui_mode", schemas.UI_MODES)
    currency_code(params.get("currency"), "currency")
    if ui_mode not in (None, "hosted_page"):
        p.not_emulated(params, {"ui_mode"})
    if mode == "setup":
        p.not_emulated(params, {"mode"})
    assert mode is not None
    raw_items = params.get("line_items")
    if not raw_items:
        raise missing("line_items")
    items = []
    for index, raw in enumerate(raw_items):
        param = f"line_items[{index}]"
        p.not_emulated(raw, {"adjustable_quantity", "tax_rates", "metadata"}, param)
        quantity = p.integer(raw.get("quantity"), f"{param}[quantity]", required=True, minimum=1)
        assert quantity is not None
        price_id = p.string(raw.get("price"), f"{param}[price]")
        price_data = p.hash_value(raw.get("price_data"), f"{param}[price_data]")
        if bool(price_id) == bool(price_data):
            raise invalid(
                f"You must specify either `price` or `price_data` in {param}.", param=param
            )
        spec = price_spec(price_data, f"{param}[price_data]") if price_data else None
        items.append(LineItemSpec(quantity=quantity, price_id=price_id, price_data=spec))
    submit_type = p.choice(
        params.get("submit_type"), "submit_type", ("auto", "book", "donate", "pay", "subscribe")
    )
    if submit_type and mode == "subscription" and submit_type != "subscribe":
        raise invalid(
            "You can only set `submit_type` to `auto` or `subscribe` in `subscription` mode.",
            param="submit_type",
        )
    customer_creation = p.choice(
        params.get("customer_creation"), "customer_creation", ("always", "if_required")
    )
    if customer_creation and mode != "payment":
        raise invalid(
            "`customer_creation` can only be used in `payment` mode.", param="customer_creation"
        )
    customer = p.string(params.get("customer"), "customer")
    customer_email = p.string(params.get("customer_email"), "customer_email", max_length=800)
    if customer and customer_email:
        raise invalid(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    if customer_email and not _EMAIL.match(customer_email):
        raise invalid(
            f"Invalid email address: {customer_email}", param="customer_email", code="email_invalid"
        )
    pi_data = p.hash_value(params.get("payment_intent_data"), "payment_intent_data") or {}
    sub_data = p.hash_value(params.get("subscription_data"), "subscription_data") or {}
    if pi_data and mode != "payment":
        raise invalid(
            "You can not pass `payment_intent_data` in `subscription` mode.",
            param="payment_intent_data",
        )
    if sub_data and mode != "subscription":
        raise invalid(
            "You can not pass `subscription_data` in `payment` mode.", param="subscription_data"
        )
    p.not_emulated(
        pi_data,
        set(schemas.PAYMENT_INTENT_DATA)
        - {
            "description",
            "metadata",
            "receipt_email",
            "statement_descriptor",
            "statement_descriptor_suffix",
            "setup_future_usage",
        },
        "payment_intent_data",
    )
    p.not_emulated(
        sub_data, set(schemas.SUBSCRIPTION_DATA) - {"description", "metadata"}, "subscription_data"
    )
    payment_intent_data: Obj = {
        "metadata": p.metadata(pi_data.get("metadata"), "payment_intent_data[metadata]") or {},
        "description": p.string(pi_data.get("description"), "payment_intent_data[description]"),
        "receipt_email": p.string(
            pi_data.get("receipt_email"), "payment_intent_data[receipt_email]"
        ),
        "statement_descriptor": p.string(
            pi_data.get("statement_descriptor"),
            "payment_intent_data[statement_descriptor]",
            max_length=22,
        ),
    }
    subscription_data: Obj = {
        "metadata": p.metadata(sub_data.get("metadata"), "subscription_data[metadata]") or {},
        "description": p.string(sub_data.get("description"), "subscription_data[description]"),
    }
    expires_at = p.integer(params.get("expires_at"), "expires_at")
    if expires_at is not None and not now + 1800 <= expires_at <= now + 86400:
        raise invalid(
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
            "Checkout Session creation.",
            param="expires_at",
        )
    echo = {name: params[name] for name in schemas.CHECKOUT_ECHOED if name in params}
    if "allow_promotion_codes" in echo:
        echo["allow_promotion_codes"] = p.boolean(
            echo["allow_promotion_codes"], "allow_promotion_codes"
        )
    return CheckoutSpec(
        mode=mode,
        line_items=items,
        success_url=p.url(params.get("success_url"), "success_url"),
        cancel_url=p.url(params.get("cancel_url"), "cancel_url"),
        submit_type=submit_type,
        customer_id=customer,
        customer_email=customer_email,
        customer_creation=customer_creation,
        client_reference_id=p.string(
            params.get("client_reference_id"), "client_reference_id", max_length=200
        ),
        metadata=p.metadata(params.get("metadata")) or {},
        payment_intent_data=payment_intent_data,
        subscription_data=subscription_data,
        expires_at=expires_at,
        echo=echo,
    )


def subscription_update(params: Obj) -> Obj:
    """Validate ``POST /v1/subscriptions/{id}`` into ``Simulator.update_subscription`` kwargs."""
    p.check(params, schemas.SUBSCRIPTION_UPDATE)
    p.not_emulated(params, set(params) - schemas.SUBSCRIPTION_HANDLED)
    p.choice(
        params.get("proration_behavior"),
        "proration_behavior",
        ("always_invoice", "create_prorations", "none"),
    )
    p.choice(
        params.get("payment_behavior"),
        "payment_behavior",
        ("allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"),
    )
    items = None
    if params.get("items"):
        items = [_subscription_item(raw, f"items[{i}]") for i, raw in enumerate(params["items"])]
    details = p.hash_value(params.get("cancellation_details"), "cancellation_details")
    return {
        "cancel_at_period_end": p.boolean(
            params.get("cancel_at_period_end"), "cancel_at_period_end"
        ),
        "metadata": p.metadata(params.get("metadata")),
        "description": p.string(params.get("description"), "description"),
        "default_payment_method": p.string(
            params.get("default_payment_method"), "default_payment_method"
        ),
        "items": items,
        "cancellation_details": None if details is None else cancellation_details(details),
    }


def _subscription_item(raw: Obj, param: str) -> Obj:
    p.not_emulated(raw, schemas.SUBSCRIPTION_ITEM_NOT_EMULATED, param)
    entry: Obj = {
        "id": p.string(raw.get("id"), f"{param}[id]"),
        "price": p.string(raw.get("price"), f"{param}[price]"),
        "quantity": p.integer(raw.get("quantity"), f"{param}[quantity]", minimum=1),
        "deleted": p.boolean(raw.get("deleted"), f"{param}[deleted]"),
    }
    price_data = p.hash_value(raw.get("price_data"), f"{param}[price_data]")
    if price_data is not None:
        p.check(price_data, schemas.PRICE_DATA_FOR_ITEMS, f"{param}[price_data]")
        if price_data.get("recurring") is None:
            raise missing(f"{param}[price_data][recurring]")
        if not price_data.get("product"):
            raise missing(f"{param}[price_data][product]")
        entry["price_data"] = price_spec(price_data, f"{param}[price_data]")
    return entry


def cancellation_details(details: Obj) -> Obj:
    """``cancellation_details``: only the keys sent, with ``feedback`` checked."""
    parsed = {
        "comment": p.string(details.get("comment"), "cancellation_details[comment]") or None,
        "feedback": p.choice(
            details.get("feedback") or None,
            "cancellation_details[feedback]",
            schemas.CANCELLATION_FEEDBACK,
        ),
    }
    return {key: value for key, value in parsed.items() if key in details}


def refund(params: Obj) -> Obj:
    """Validate ``POST /v1/refunds`` into ``Simulator.refund`` kwargs."""
    p.check(params, schemas.REFUND_CREATE)
    p.not_emulated(params, schemas.REFUND_NOT_EMULATED)
    charge = p.string(params.get("charge"), "charge")
    payment_intent = p.string(params.get("payment_intent"), "payment_intent")
    if charge and payment_intent:
        raise invalid(
            "You cannot specify both a `charge` and a `payment_intent`.", param="payment_intent"
        )
    return {
        "charge_id": charge,
        "payment_intent_id": payment_intent,
        "amount": p.integer(params.get("amount"), "amount", minimum=1),
        "reason": p.choice(
            params.get("reason"), "reason", ("duplicate", "fraudulent", "requested_by_customer")
        ),
        "metadata": p.metadata(params.get("metadata")),
    }
