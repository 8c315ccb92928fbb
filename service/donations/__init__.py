"""Donations: a reader starting a gift, recorded as an attempt and opened in Stripe Checkout."""

from __future__ import annotations

from flask import Flask

from service.core.extensions import api_of


def init_app(app: Flask) -> None:
    """Register the checkout API."""
    from service.donations import api

    api_of(app).register_blueprint(api.blp)
