"""Stripe's parameter names per endpoint at this API version, and what the sandbox does with them.

Names come from the typed params of the ``stripe`` package. A name Stripe does not take
is answered ``parameter_unknown``, as Stripe does; a name Stripe takes but the sandbox
does not act on is refused with a message saying so, unless it is listed as ignorable.
"""

from __future__ import annotations

from .params import ListOf, Schema

LIST_PAGING: Schema = {"limit": None, "starting_after": None, "ending_before": None}

PRODUCT_DATA: Schema = {
    "description": None,
    "images": None,
    "metadata": None,
    "name": None,
    "tax_code": None,
    "tax_details": None,
    "unit_label": None,
}
CHECKOUT_PRICE_DATA: Schema = {
    "currency": None,
    "product": None,
    "product_data": PRODUCT_DATA,
    "recurring": {"interval": None, "interval_count": None},
    "tax_behavior": None,
    "unit_amount": None,
    "unit_amount_decimal": None,
}
PAYMENT_INTENT_DATA: Schema = dict.fromkeys(
    [
        "application_fee_amount",
        "capture_method",
        "description",
        "metadata",
        "on_behalf_of",
        "receipt_email",
        "setup_future_usage",
        "shipping",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_data",
        "transfer_group",
    ]
)
SUBSCRIPTION_DATA: Schema = dict.fromkeys(
    [
        "application_fee_percent",
        "billing_cycle_anchor",
        "billing_cycle_anchor_config",
        "billing_mode",
        "default_tax_rates",
        "description",
        "invoice_settings",
        "metadata",
        "on_behalf_of",
        "pending_invoice_item_interval",
        "proration_behavior",
        "transfer_data",
        "trial_end",
        "trial_period_days",
        "trial_settings",
    ]
)
#: Every parameter Stripe's ``POST /v1/checkout/sessions`` takes at this API version.
CHECKOUT_CREATE: Schema = {
    **dict.fromkeys(
        [
            "adaptive_pricing",
            "after_expiration",
            "allow_promotion_codes",
            "allowed_payment_method_types",
            "automatic_tax",
            "billing_address_collection",
            "branding_settings",
            "cancel_url",
            "client_reference_id",
            "consent_collection",
            "currency",
            "custom_fields",
            "custom_text",
            "customer",
            "customer_account",
            "customer_creation",
            "customer_email",
            "customer_update",
            "discounts",
            "excluded_payment_method_types",
            "expires_at",
            "integration_identifier",
            "invoice_creation",
            "locale",
            "managed_payments",
            "metadata",
            "mode",
            "name_collection",
            "optional_items",
            "origin_context",
            "payment_method_collection",
            "payment_method_configuration",
            "payment_method_data",
            "payment_method_options",
            "permissions",
            "phone_number_collection",
            "redirect_on_completion",
            "return_url",
            "saved_payment_method_options",
            "setup_intent_data",
            "shipping_address_collection",
            "shipping_options",
            "submit_type",
            "success_url",
            "tax_id_collection",
            "ui_mode",
            "wallet_options",
        ]
    ),
    "line_items": ListOf(
        {
            "adjustable_quantity": None,
            "metadata": None,
            "price": None,
            "price_data": CHECKOUT_PRICE_DATA,
            "quantity": None,
            "tax_rates": None,
        }
    ),
    "payment_intent_data": PAYMENT_INTENT_DATA,
    "subscription_data": SUBSCRIPTION_DATA,
}
#: Accepted and shown back on the session, with no effect on the sandbox's flow.
CHECKOUT_ECHOED = (
    "allow_promotion_codes",
    "billing_address_collection",
    "locale",
    "payment_method_collection",
)
#: Accepted and ignored: they only change how Stripe's page looks or what it collects.
CHECKOUT_IGNORED = {
    "automatic_tax",
    "consent_collection",
    "custom_text",
    "phone_number_collection",
    "currency",
}
#: ``ui_mode`` values at this API version (``hosted`` became ``hosted_page``); the
#: sandbox emulates ``hosted_page`` only.
UI_MODES = ("elements", "embedded_page", "form", "hosted_page")
CHECKOUT_HANDLED = {
    "ui_mode",
    "cancel_url",
    "client_reference_id",
    "customer",
    "customer_creation",
    "customer_email",
    "expires_at",
    "line_items",
    "metadata",
    "mode",
    "payment_intent_data",
    "submit_type",
    "subscription_data",
    "success_url",
    "expand",
}


SUBSCRIPTION_UPDATE: Schema = {
    **dict.fromkeys(
        [
            "add_invoice_items",
            "application_fee_percent",
            "automatic_tax",
            "billing_cycle_anchor",
            "billing_schedules",
            "billing_thresholds",
            "cancel_at",
            "cancel_at_period_end",
            "collection_method",
            "days_until_due",
            "default_payment_method",
            "default_source",
            "default_tax_rates",
            "description",
            "discounts",
            "invoice_settings",
            "metadata",
            "off_session",
            "on_behalf_of",
            "pause_collection",
            "payment_behavior",
            "payment_settings",
            "pending_invoice_item_interval",
            "proration_behavior",
            "proration_date",
            "transfer_data",
            "trial_end",
            "trial_from_plan",
            "trial_settings",
        ]
    ),
    "cancellation_details": {"comment": None, "feedback": None},
    "items": ListOf(
        dict.fromkeys(
            [
                "billing_thresholds",
                "clear_usage",
                "current_trial",
                "deleted",
                "discounts",
                "id",
                "metadata",
                "plan",
                "price",
                "price_data",
                "quantity",
                "tax_rates",
            ]
        )
    ),
}
SUBSCRIPTION_HANDLED = {
    "cancel_at_period_end",
    "cancellation_details",
    "default_payment_method",
    "description",
    "items",
    "metadata",
    "off_session",
    "payment_behavior",
    "proration_behavior",
    "expand",
}
CANCELLATION_FEEDBACK = (
    "customer_service",
    "low_quality",
    "missing_features",
    "other",
    "switched_service",
    "too_complex",
    "too_expensive",
    "unused",
)

PRICE_DATA_FOR_ITEMS: Schema = {
    "currency": None,
    "product": None,
    "recurring": {"interval": None, "interval_count": None},
    "tax_behavior": None,
    "unit_amount": None,
    "unit_amount_decimal": None,
}
SUBSCRIPTION_CANCEL: Schema = {
    "cancellation_details": {"comment": None, "feedback": None},
    "invoice_now": None,
    "prorate": None,
}
REFUND_CREATE: Schema = dict.fromkeys(
    [
        "amount",
        "charge",
        "currency",
        "customer",
        "instructions_email",
        "metadata",
        "origin",
        "payment_intent",
        "reason",
        "refund_application_fee",
        "reverse_transfer",
    ]
)
REFUND_NOT_EMULATED = {
    "currency",
    "customer",
    "instructions_email",
    "origin",
    "refund_application_fee",
    "reverse_transfer",
}
PORTAL_CREATE: Schema = dict.fromkeys(
    [
        "after_expiration",
        "configuration",
        "customer",
        "customer_account",
        "flow_data",
        "locale",
        "on_behalf_of",
        "return_url",
    ]
)
PORTAL_NOT_EMULATED = {"flow_data", "on_behalf_of", "customer_account", "after_expiration"}
SUBSCRIPTION_ITEM_NOT_EMULATED = {
    "billing_thresholds",
    "clear_usage",
    "current_trial",
    "discounts",
    "metadata",
    "plan",
    "tax_rates",
}
