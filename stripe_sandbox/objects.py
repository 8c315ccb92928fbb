"""Build the Stripe objects the sandbox serves, in the shapes of the pinned API version.

Each builder writes every field Stripe sends for its object at ``2026-10-28.endive``:
what the sandbox knows, and Stripe's values for the features it does not emulate
(``_UNUSED``). Includable fields (``charge.refunds``, ``checkout.session.line_items``,
``invoice.payments``) are left out: Stripe sends them only when expanded, and so does
``api.py``. ``tests/contract`` holds every object to the ``stripe`` package's classes.
"""

from __future__ import annotations

import copy
import secrets
import string
from typing import Any

Obj = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits

#: Per object: the fields of features the sandbox does not emulate, as Stripe sends them
#: when those features are unused.
_UNUSED: dict[str, Obj] = {
    "product": {
        "active": True,
        "images": [],
        "marketing_features": [],
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "unit_label": None,
        "url": None,
    },
    "price": {
        "active": True,
        "billing_scheme": "per_unit",
        "custom_unit_amount": None,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
    },
    "plan": {
        "billing_scheme": "per_unit",
        "metadata": {},
        "meter": None,
        "nickname": None,
        "tiers_mode": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    },
    "item": {},
    "checkout.session": {
        "allow_promotion_codes": None,
        "billing_address_collection": None,
        "cancel_url": None,
        "client_reference_id": None,
        "client_secret": None,
        "custom_fields": [],
        "customer": None,
        "customer_account": None,
        "customer_email": None,
        "integration_identifier": None,
        "invoice": None,
        "locale": None,
        "metadata": {},
        "origin_context": None,
        "payment_link": None,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "setup_intent": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": None,
    },
    "customer": {
        "balance": 0,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "metadata": {},
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "tax_exempt": "none",
        "test_clock": None,
    },
    "payment_method": {
        "allow_redisplay": "unspecified",
        "customer_account": None,
        "type": "card",
    },
    "balance_transaction": {"balance_type": "payments", "exchange_rate": None},
    "payment_intent": {
        "amount_capturable": 0,
        "application": None,
        "application_fee_amount": None,
        "cancellation_reason": None,
        "confirmation_method": "automatic",
        "customer_account": None,
        "excluded_payment_method_types": None,
        "on_behalf_of": None,
        "payment_method_types": ["card"],
        "review": None,
        "setup_future_usage": None,
        "source": None,
        "statement_descriptor_suffix": None,
        "transfer_group": None,
    },
    "charge": {
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "on_behalf_of": None,
        "receipt_number": None,
        "refunded": False,
        "review": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "transfer_group": None,
    },
    "subscription_item": {"discounts": [], "tax_rates": []},
    "subscription": {
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "collection_method": "charge_automatically",
        "customer_account": None,
        "days_until_due": None,
        "default_source": None,
        "default_tax_rates": [],
        "discounts": [],
        "on_behalf_of": None,
        "pending_setup_intent": None,
        "schedule": None,
        "test_clock": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
    },
    "invoice": {
        "account_tax_ids": None,
        "amount_shipping": 0,
        "application": None,
        "automatically_finalizes_at": None,
        "collection_method": "charge_automatically",
        "custom_fields": None,
        "customer_account": None,
        "customer_phone": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "footer": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "latest_revision": None,
        "on_behalf_of": None,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "test_clock": None,
        "total_discount_amounts": [],
    },
    "line_item": {"discount_amounts": [], "discounts": [], "subscription": None},
    "invoice_payment": {},
    "refund": {
        "balance_transaction": None,
        "customer_account": None,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "transfer_reversal": None,
    },
    "dispute": {
        "balance_transactions": [],
        "enhanced_eligibility_types": [],
        "metadata": {},
    },
    "billing_portal.session": {"customer_account": None, "on_behalf_of": None},
    "payout": {
        "application_fee": None,
        "application_fee_amount": None,
        "automatic": True,
        "description": "STRIPE PAYOUT",
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "metadata": {},
        "method": "standard",
        "original_payout": None,
        "payout_method": None,
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "trace_id": None,
        "type": "bank_account",
    },
    "webhook_endpoint": {"application": None, "description": None, "metadata": {}},
    "event": {},
}

#: Objects without a ``livemode`` of their own (or whose builder sets it).
_NO_LIVEMODE = (
    "balance_transaction",
    "item",
    "subscription_item",
    "refund",
    "invoice_payment",
    "billing_portal.session",
    "event",
)

#: Dispute evidence fields, all empty until evidence is submitted.
_EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)


def new_id(prefix: str, length: int = 24) -> str:
    """An id in Stripe's style: ``prefix`` then ``1`` and random letters and digits."""
    return prefix + "1" + "".join(secrets.choice(_ALPHABET) for _ in range(length - 1))


def new_session_id() -> str:
    """Checkout Session ids are long and carry the mode: ``cs_test_a1...``."""
    return "cs_test_a1" + "".join(secrets.choice(_ALPHABET) for _ in range(56))


def _build(name: str, values: Obj) -> Obj:
    """Object ``name`` with ``values`` over Stripe's values for unused features."""
    obj: Obj = {"object": name}
    if name not in _NO_LIVEMODE:
        obj["livemode"] = False
    obj.update(copy.deepcopy(_UNUSED[name]))
    obj.update(values)
    return obj


def _address() -> Obj:
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return dict.fromkeys(keys)


def list_object(data: list[Obj], url: str, *, has_more: bool = False) -> Obj:
    """Stripe's list envelope."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def product(*, name: str, description: str | None, metadata: dict[str, str], now: int) -> Obj:
    """A product made from ``product_data``."""
    return _build(
        "product",
        {
            "id": new_id("prod_", 14),
            "created": now,
            "updated": now,
            "default_price": None,
            "description": description,
            "metadata": metadata,
            "name": name,
            "package_dimensions": None,
            "type": "service",
        },
    )


def price(
    *,
    product_id: str,
    currency: str,
    unit_amount: int,
    interval: str | None,
    interval_count: int,
    now: int,
) -> Obj:
    """A per-unit price, recurring when ``interval`` is given."""
    recurring = None
    if interval is not None:
        recurring = {
            "interval": interval,
            "interval_count": interval_count,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
    return _build(
        "price",
        {
            "id": new_id("price_"),
            "created": now,
            "currency": currency,
            "product": product_id,
            "recurring": recurring,
            "transform_quantity": None,
            "type": "recurring" if recurring else "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        },
    )


def plan_from_price(price_obj: Obj) -> Obj:
    """The legacy ``plan`` view of a recurring price, as subscription items still carry it."""
    recurring = price_obj["recurring"] or {}
    return _build(
        "plan",
        {
            "id": price_obj["id"],
            "active": price_obj["active"],
            "amount": price_obj["unit_amount"],
            "amount_decimal": price_obj["unit_amount_decimal"],
            "created": price_obj["created"],
            "currency": price_obj["currency"],
            "interval": recurring.get("interval", "month"),
            "interval_count": recurring.get("interval_count", 1),
            "product": price_obj["product"],
            "transform_usage": None,
        },
    )


def line_item(*, price_obj: Obj, quantity: int, description: str) -> Obj:
    """A Checkout line item (object ``item``)."""
    amount = price_obj["unit_amount"] * quantity
    return _build(
        "item",
        {
            "id": new_id("li_"),
            "amount_discount": 0,
            "amount_subtotal": amount,
            "amount_tax": 0,
            "amount_total": amount,
            "currency": price_obj["currency"],
            "description": description,
            "price": copy.deepcopy(price_obj),
            "quantity": quantity,
            "metadata": {},
            "adjustable_quantity": None,
        },
    )


def checkout_session(
    *,
    session_id: str,
    url: str,
    mode: str,
    now: int,
    expires_at: int,
    amount: int,
    currency: str,
    values: Obj,
) -> Obj:
    """An open Checkout Session; ``values`` carries what the caller asked for."""
    payment_mode = mode == "payment"
    obj = _build(
        "checkout.session",
        {
            "id": session_id,
            "after_expiration": None,
            "amount_subtotal": amount,
            "amount_total": amount,
            "automatic_tax": {
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "collected_information": None,
            "consent": None,
            "consent_collection": None,
            "created": now,
            "currency": currency,
            "currency_conversion": None,
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer_creation": "if_required" if payment_mode else None,
            "customer_details": None,
            "discounts": [],
            "expires_at": expires_at,
            "invoice_creation": (
                {
                    "enabled": False,
                    "invoice_data": {
                        "account_tax_ids": None,
                        "custom_fields": None,
                        "description": None,
                        "footer": None,
                        "issuer": None,
                        "metadata": {},
                        "rendering_options": None,
                    },
                }
                if payment_mode
                else None
            ),
            "managed_payments": None,
            "mode": mode,
            "payment_intent": None,
            "payment_method_collection": "if_required" if payment_mode else "always",
            "payment_method_configuration_details": None,
            "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
            "permissions": None,
            "saved_payment_method_options": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted_page",
            "url": url,
            "adaptive_pricing": {"enabled": False},
            "wallet_options": None,
        },
    )
    obj.update(values)
    return obj


def customer_details(email: str | None) -> Obj:
    """What Checkout collected about the payer (``checkout.session.customer_details``)."""
    return {
        "address": _address(),
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": None,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def customer(*, email: str | None, name: str | None, now: int) -> Obj:
    """A new customer with no payment method yet."""
    return _build(
        "customer",
        {
            "id": "cus_" + "".join(secrets.choice(_ALPHABET) for _ in range(14)),
            "address": None,
            "created": now,
            "currency": None,
            "discount": None,
            "email": email,
            "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "name": name,
            "shipping": None,
        },
    )


def payment_method(*, card: Obj, email: str | None, customer_id: str | None, now: int) -> Obj:
    """A card payment method; ``card`` has brand, last4, exp_month, exp_year, fingerprint."""
    billing = {
        "address": _address(),
        "email": email,
        "name": None,
        "phone": None,
        "tax_id": None,
    }
    return _build(
        "payment_method",
        {
            "id": new_id("pm_"),
            "billing_details": billing,
            "card": {
                "brand": card["brand"],
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": card["country"],
                "display_brand": card["brand"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "fingerprint": card["fingerprint"],
                "funding": card["funding"],
                "generated_from": None,
                "last4": card["last4"],
                "networks": {"available": [card["brand"]], "preferred": None},
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
                "regulated_status": "unregulated",
            },
            "created": now,
            "customer": customer_id,
            "metadata": {},
        },
    )


def balance_transaction(
    *, source_id: str, amount: int, fee: int, currency: str, kind: str, now: int
) -> Obj:
    """The ledger entry for a charge (``kind="charge"``) or a refund (``kind="refund"``)."""
    fee_details = []
    if fee:
        fee_details.append(
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }
        )
    return _build(
        "balance_transaction",
        {
            "id": new_id("txn_"),
            "amount": amount,
            "available_on": now + 2 * 86400,
            "created": now,
            "currency": currency,
            "description": None,
            "fee": fee,
            "fee_details": fee_details,
            "net": amount - fee,
            "reporting_category": kind,
            "source": source_id,
            "status": "pending",
            "type": kind,
        },
    )


def payment_intent(
    *,
    amount: int,
    currency: str,
    customer_id: str | None,
    payment_method_id: str,
    description: str | None,
    metadata: dict[str, str],
    receipt_email: str | None,
    statement_descriptor: str | None,
    now: int,
) -> Obj:
    """A card payment intent, before its outcome is set."""
    pi_id = new_id("pi_")
    return _build(
        "payment_intent",
        {
            "id": pi_id,
            "amount": amount,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "capture_method": "automatic_async",
            "client_secret": f"{pi_id}_secret_{secrets.token_urlsafe(18)}",
            "created": now,
            "currency": currency,
            "customer": customer_id,
            "description": description,
            "last_payment_error": None,
            "latest_charge": None,
            "metadata": metadata,
            "next_action": None,
            "payment_method": payment_method_id,
            "payment_method_configuration_details": None,
            "payment_method_options": {
                "card": {
                    "installments": None,
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                }
            },
            "processing": None,
            "receipt_email": receipt_email,
            "shipping": None,
            "statement_descriptor": statement_descriptor,
            "status": "processing",
            "transfer_data": None,
            "managed_payments": None,
        },
    )


def charge(
    *,
    pi: Obj,
    pm: Obj,
    email: str | None,
    three_d_secure: bool,
    statement_descriptor: str,
    now: int,
) -> Obj:
    """A card charge for ``pi`` with ``pm``, before its outcome is set."""
    card = pm["card"]
    ch_id = new_id("ch_")
    details = {
        "card": {
            "amount_authorized": pi["amount"],
            "authorization_code": f"{secrets.randbelow(10**6):06d}",
            "brand": card["brand"],
            "checks": card["checks"],
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "extended_authorization": {"status": "disabled"},
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "last4": card["last4"],
            "mandate": None,
            "multicapture": {"status": "unavailable"},
            "network": card["brand"],
            "network_token": {"used": False},
            "network_transaction_id": "".join(secrets.choice(string.digits) for _ in range(15)),
            "overcapture": {"maximum_amount_capturable": pi["amount"], "status": "unavailable"},
            "regulated_status": "unregulated",
            "three_d_secure": (
                {
                    "authentication_flow": "challenge",
                    "electronic_commerce_indicator": "05",
                    "exemption_indicator": None,
                    "result": "authenticated",
                    "result_reason": None,
                    "transaction_id": secrets.token_hex(16),
                    "version": "2.2.0",
                }
                if three_d_secure
                else None
            ),
            "wallet": None,
            "transaction_link_id": None,
        },
        "type": "card",
    }
    return _build(
        "charge",
        {
            "id": ch_id,
            "amount": pi["amount"],
            "amount_captured": 0,
            "amount_refunded": 0,
            "balance_transaction": None,
            "billing_details": copy.deepcopy(pm["billing_details"]) | {"email": email},
            "calculated_statement_descriptor": statement_descriptor,
            "captured": False,
            "created": now,
            "currency": pi["currency"],
            "customer": pi["customer"],
            "description": pi["description"],
            "metadata": copy.deepcopy(pi["metadata"]),
            "outcome": None,
            "paid": False,
            "payment_intent": pi["id"],
            "payment_method": pm["id"],
            "payment_method_details": details,
            "receipt_email": pi["receipt_email"],
            "receipt_url": None,
            "shipping": None,
            "source": None,
            "status": "pending",
            "transfer_data": None,
        },
    )


def subscription_item(
    *, subscription_id: str, price_obj: Obj, quantity: int, period: tuple[int, int], now: int
) -> Obj:
    """An item of a subscription; at this API version it carries the billing period."""
    return _build(
        "subscription_item",
        {
            "id": "si_" + "".join(secrets.choice(_ALPHABET) for _ in range(14)),
            "created": now,
            "metadata": {},
            "price": copy.deepcopy(price_obj),
            "plan": plan_from_price(price_obj),
            "quantity": quantity,
            "subscription": subscription_id,
            "current_period_start": period[0],
            "current_period_end": period[1],
            "billing_thresholds": None,
        },
    )


def subscription(
    *,
    subscription_id: str,
    customer_id: str,
    currency: str,
    items: list[Obj],
    payment_method_id: str | None,
    description: str | None,
    metadata: dict[str, str],
    now: int,
) -> Obj:
    """An active subscription charged automatically each period."""
    return _build(
        "subscription",
        {
            "id": subscription_id,
            "billing_cycle_anchor": now,
            "billing_cycle_anchor_config": None,
            "cancel_at": None,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "created": now,
            "currency": currency,
            "customer": customer_id,
            "default_payment_method": payment_method_id,
            "description": description,
            "ended_at": None,
            "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
            "items": list_object(items, f"/v1/subscription_items?subscription={subscription_id}"),
            "latest_invoice": None,
            "metadata": metadata,
            "next_pending_invoice_item_invoice": None,
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": None,
            "pending_update": None,
            "start_date": now,
            "status": "active",
            "transfer_data": None,
            "trial_end": None,
            "trial_start": None,
            "cancel_at_period_end": False,
            "billing_thresholds": None,
            "billing_mode": {"type": "classic", "flexible": None},
            "managed_payments": None,
            "billing_schedules": [],
        },
    )


def invoice(
    *,
    sub: Obj,
    cust: Obj,
    billing_reason: str,
    period: tuple[int, int],
    line_period: tuple[int, int],
    account: tuple[str, str],
    line_descriptions: dict[str, str],
    now: int,
) -> Obj:
    """A finalized, not yet paid invoice for one period of ``sub``.

    At this API version the subscription is found under ``parent.subscription_details``
    and the payment under the includable ``payments`` list: there is no top-level
    ``subscription``, ``charge`` or ``payment_intent``.
    """
    in_id = new_id("in_")
    lines = []
    total = 0
    for item in sub["items"]["data"]:
        price_obj = item["price"]
        amount = price_obj["unit_amount"] * item["quantity"]
        total += amount
        lines.append(
            _build(
                "line_item",
                {
                    "id": new_id("il_"),
                    "amount": amount,
                    "currency": price_obj["currency"],
                    "description": line_descriptions[item["id"]],
                    "discountable": True,
                    "invoice": in_id,
                    "metadata": copy.deepcopy(sub["metadata"]),
                    "period": {"start": line_period[0], "end": line_period[1]},
                    "quantity": item["quantity"],
                    "pretax_credit_amounts": [],
                    "taxes": [],
                    "parent": {
                        "invoice_item_details": None,
                        "subscription_item_details": {
                            "invoice_item": None,
                            "proration": False,
                            "proration_details": {"credited_items": None},
                            "subscription": sub["id"],
                            "subscription_item": item["id"],
                        },
                        "type": "subscription_item_details",
                    },
                    "pricing": {
                        "price_details": {
                            "price": price_obj["id"],
                            "product": price_obj["product"],
                        },
                        "type": "price_details",
                        "unit_amount_decimal": price_obj["unit_amount_decimal"],
                    },
                    "subtotal": amount,
                    "quantity_decimal": str(item["quantity"]),
                },
            )
        )
    sequence = cust["next_invoice_sequence"]
    return _build(
        "invoice",
        {
            "id": in_id,
            "account_country": account[1],
            "account_name": account[0],
            "amount_due": total,
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_remaining": total,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": True,
            "automatic_tax": {
                "enabled": False,
                "liability": None,
                "status": None,
                "disabled_reason": None,
                "provider": None,
            },
            "billing_reason": billing_reason,
            "created": now,
            "currency": sub["currency"],
            "customer": cust["id"],
            "customer_address": None,
            "customer_email": cust["email"],
            "customer_name": cust["name"],
            "customer_shipping": None,
            "due_date": None,
            "effective_at": now,
            "ending_balance": 0,
            "from_invoice": None,
            "last_finalization_error": None,
            "lines": list_object(lines, f"/v1/invoices/{in_id}/lines"),
            "metadata": {},
            "next_payment_attempt": None,
            "number": f"{cust['invoice_prefix']}-{sequence:04d}",
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": copy.deepcopy(sub["metadata"]),
                    "subscription": sub["id"],
                },
                "type": "subscription_details",
            },
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            "period_start": period[0],
            "period_end": period[1],
            "rendering": None,
            "shipping_cost": None,
            "shipping_details": None,
            "status": "open",
            "status_transitions": {
                "finalized_at": now,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subtotal": total,
            "subtotal_excluding_tax": total,
            "total": total,
            "total_excluding_tax": total,
            "total_pretax_credit_amounts": [],
            "total_taxes": [],
            "webhooks_delivered_at": now,
        },
    )


def invoice_payment(*, inv: Obj, pi_id: str, now: int) -> Obj:
    """The link between an invoice and the payment intent that pays it."""
    return _build(
        "invoice_payment",
        {
            "id": new_id("inpay_"),
            "amount_paid": None,
            "amount_requested": inv["amount_due"],
            "created": now,
            "currency": inv["currency"],
            "invoice": inv["id"],
            "is_default": True,
            "livemode": False,
            "payment": {"type": "payment_intent", "payment_intent": pi_id},
            "status": "open",
            "status_transitions": {"canceled_at": None, "paid_at": None},
        },
    )


def refund(*, ch: Obj, amount: int, reason: str | None, metadata: dict[str, str], now: int) -> Obj:
    """A succeeded card refund of part or all of ``ch``."""
    return _build(
        "refund",
        {
            "id": new_id("re_"),
            "amount": amount,
            "charge": ch["id"],
            "created": now,
            "currency": ch["currency"],
            "destination_details": {
                "card": {
                    "reference": None,
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": metadata,
            "payment_intent": ch["payment_intent"],
            "reason": reason,
            "status": "succeeded",
            "customer": ch["customer"],
            "payment_method": ch["payment_method"],
        },
    )


def dispute(*, ch: Obj, reason: str, now: int, inquiry: bool = False) -> Obj:
    """A chargeback on ``ch`` waiting for evidence; with ``inquiry``, an inquiry (no funds
    withdrawn, the charge still refundable)."""
    obj = _build(
        "dispute",
        {
            "id": new_id("du_"),
            "amount": ch["amount"] - ch["amount_refunded"],
            "charge": ch["id"],
            "created": now,
            "currency": ch["currency"],
            "is_charge_refundable": inquiry,
            "payment_intent": ch["payment_intent"],
            "payment_method_details": {
                "card": {
                    "brand": ch["payment_method_details"]["card"]["brand"],
                    "case_type": "inquiry" if inquiry else "chargeback",
                    "network_reason_code": "10.4" if reason == "fraudulent" else "13.1",
                    "network": ch["payment_method_details"]["card"]["network"],
                },
                "type": "card",
            },
            "reason": reason,
            "status": "warning_needs_response" if inquiry else "needs_response",
            "enhanced_eligibility_types": [],
        },
    )
    obj["evidence"] = dict.fromkeys(_EVIDENCE_FIELDS) | {"enhanced_evidence": {}}
    obj["evidence_details"] = {
        "due_by": now + 7 * 86400,
        "enhanced_eligibility": {},
        "has_evidence": False,
        "past_due": False,
        "submission_count": 0,
        "submission_method": "not_submitted",
    }
    return obj


def portal_session(*, customer_id: str, return_url: str | None, url: str, now: int) -> Obj:
    """A customer portal session with the default configuration."""
    return _build(
        "billing_portal.session",
        {
            "id": new_id("bps_"),
            "configuration": "bpc_sandbox_default",
            "created": now,
            "customer": customer_id,
            "flow": None,
            "livemode": False,
            "locale": None,
            "return_url": return_url,
            "url": url,
        },
    )


def payout(*, amount: int, currency: str, destination: str, now: int) -> Obj:
    """An automatic payout of the available balance to the account's bank account."""
    return _build(
        "payout",
        {
            "id": new_id("po_"),
            "amount": amount,
            "arrival_date": now + 2 * 86400,
            "balance_transaction": new_id("txn_"),
            "created": now,
            "currency": currency,
            "destination": destination,
            "reconciliation_status": "not_applicable",
            "status": "pending",
        },
    )


def webhook_endpoint(
    *, url: str, enabled_events: list[str], api_version: str | None, now: int
) -> Obj:
    """A webhook endpoint; Stripe shows its ``secret`` only in the answer that creates it."""
    return _build(
        "webhook_endpoint",
        {
            "id": new_id("we_"),
            "api_version": api_version,
            "created": now,
            "enabled_events": list(enabled_events),
            "secret": "whsec_" + secrets.token_urlsafe(24),
            "status": "enabled",
            "url": url,
        },
    )


def event(
    *,
    event_type: str,
    data: Obj,
    api_version: str,
    pending_webhooks: int,
    request: Obj,
    now: int,
) -> Obj:
    """An event whose ``data.object`` is a snapshot taken now."""
    return _build(
        "event",
        {
            "id": new_id("evt_"),
            "api_version": api_version,
            "created": now,
            "data": data,
            "livemode": False,
            "pending_webhooks": pending_webhooks,
            "request": request,
            "type": event_type,
        },
    )
