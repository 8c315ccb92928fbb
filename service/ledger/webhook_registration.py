"""Register our webhook endpoint at Stripe: the pinned API version and exactly the event
types the ledger handles (its handler registry is the one list), found by URL so running
it again updates rather than duplicates. `flask --app service stripe-webhook register URL`
and `make run` (against the sandbox) both use it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from service import stripe_gateway
from service.core.settings import Settings
from service.ledger.handlers import HANDLERS

DESCRIPTION = "reader contributions (stripe-webhook register)"


def handled_event_types() -> tuple[str, ...]:
    """The event types the service acts on, sorted: what the endpoint subscribes to."""
    return tuple(sorted(HANDLERS))


class RegistrationRefused(Exception):
    """The URL or the endpoint found at Stripe cannot be used; the message says why."""


@dataclass(frozen=True)
class Registration:
    """What was done: the endpoint (with its secret only when just created)."""

    endpoint: stripe_gateway.WebhookEndpointInfo
    created: bool
    # The endpoint at another API version deleted to make way (with `replace`).
    replaced: stripe_gateway.WebhookEndpointInfo | None = None


def check_url(settings: Settings, url: str) -> None:
    """An absolute URL; https in production (Stripe sends live events to https only)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RegistrationRefused(f"{url!r} is not an absolute http(s) URL")
    if settings.is_production and parts.scheme != "https":
        raise RegistrationRefused(f"refusing {url}: production needs an https:// URL")


def register_webhook_endpoint(
    settings: Settings, url: str, *, replace: bool = False
) -> Registration:
    """Create the endpoint at `url`, or update the one already there, to the events we
    handle. One at another API version is refused, or with `replace` deleted and made
    again. Raises `RegistrationRefused`, or `GatewayError` when Stripe fails."""
    check_url(settings, url)
    events = handled_event_types()
    existing = [e for e in stripe_gateway.list_webhook_endpoints(settings) if e.url == url]
    found = existing[0] if existing else None
    replaced = None
    if found is not None and found.api_version != stripe_gateway.PINNED_API_VERSION:
        # Stripe cannot change an endpoint's version, and events in another shape would
        # be misread: the operator decides whether to replace it (a new secret).
        if not replace:
            raise RegistrationRefused(
                f"the endpoint {found.id} for {url} renders events at API version "
                f"{found.api_version or 'the account default'}, not "
                f"{stripe_gateway.PINNED_API_VERSION}, and Stripe cannot change that: run "
                "again with --replace to delete it and create a new one (a new secret)"
            )
        stripe_gateway.delete_webhook_endpoint(settings, found.id)
        replaced, found = found, None
    if found is None:
        created = stripe_gateway.create_webhook_endpoint(
            settings, url=url, enabled_events=events, description=DESCRIPTION
        )
        return Registration(endpoint=created, created=True, replaced=replaced)
    updated = stripe_gateway.update_webhook_endpoint(
        settings, found.id, enabled_events=events, description=DESCRIPTION
    )
    return Registration(endpoint=updated, created=False)
