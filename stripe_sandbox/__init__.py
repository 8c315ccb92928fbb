"""Stripe sandbox: a TEST DOUBLE of Stripe for development and tests. It is not Stripe.

It speaks Stripe's wire protocol (form-encoded requests, JSON objects in the shapes of
API version ``2026-10-28.endive``, built in ``objects.py``, Stripe-style errors, signed
webhooks) for exactly the endpoints the reader contributions service uses, plus a test
Checkout page, a test customer portal and controls (``/_sandbox``) that move
subscriptions through time and refund or dispute charges. No money moves and nothing
here reaches Stripe. The service never imports this package; only tests and the
development runner do.
"""

from .app import create_app
from .config import API_VERSION, DEFAULT_API_KEY, SandboxConfig
from .server import SandboxServer

__all__ = ["API_VERSION", "DEFAULT_API_KEY", "SandboxConfig", "SandboxServer", "create_app"]
