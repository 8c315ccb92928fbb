"""Registering endpoints: which URLs are allowed, their signing secrets and rotation."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.models import utcnow
from service.core.settings import Settings
from service.outbound.models import OutboundEndpoint

# After a rotation the old secret keeps signing this long, so receivers can switch over.
ROTATION_OVERLAP = timedelta(hours=24)
MAX_URL_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}


class EndpointRefused(ValueError):
    """An endpoint URL (or change) we will not accept; the message says why."""


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _host_and_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    return (parts.hostname or "").lower().rstrip("."), port


def check_url(settings: Settings, raw: str) -> str:
    """The URL if we may post events to it; else EndpointRefused with a human reason."""
    url = raw.strip()
    if not url:
        raise EndpointRefused("Enter the URL of the system that should receive events.")
    if len(url) > MAX_URL_LENGTH:
        raise EndpointRefused(f"That URL is longer than {MAX_URL_LENGTH:,} characters.")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise EndpointRefused("A URL cannot contain spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointRefused("Enter a full web address starting with https://.")
    try:
        _ = parts.port
    except ValueError:
        raise EndpointRefused("That URL's port is not a number from 1 to 65535.") from None
    if parts.scheme != "https" and settings.is_production:
        raise EndpointRefused(
            "Events carry supporters' email addresses: in production the URL must use https://."
        )
    if _host_and_port(url) == _host_and_port(settings.public_base_url):
        raise EndpointRefused(
            "That URL points at this service itself; enter the address of another system."
        )
    return url


def add_endpoint(
    session: Session, settings: Settings, url: str, description: str = ""
) -> tuple[OutboundEndpoint, str]:
    """Register an endpoint; returns it and its secret (shown to the person once)."""
    endpoint = OutboundEndpoint(
        url=check_url(settings, url),
        description=description.strip()[:200],
        secret=new_secret(),
        active=True,
        created_at=utcnow(),
    )
    session.add(endpoint)
    session.flush()
    return endpoint, endpoint.secret


def rotate_secret(session: Session, endpoint: OutboundEndpoint, now: datetime | None = None) -> str:
    """A new secret; the old one still signs for ROTATION_OVERLAP. Returns the new one."""
    now = now or utcnow()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    endpoint.rotated_at = now
    session.flush()
    return endpoint.secret


def signing_secrets(endpoint: OutboundEndpoint, now: datetime | None = None) -> list[str]:
    """The secrets that sign a message now: the current one, and the old one in overlap."""
    now = now or utcnow()
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        found.append(endpoint.previous_secret)
    return found


def active_endpoints(session: Session) -> list[OutboundEndpoint]:
    return list(
        session.scalars(
            select(OutboundEndpoint)
            .where(OutboundEndpoint.active.is_(True))
            .order_by(OutboundEndpoint.id)
        )
    )


def all_endpoints(session: Session) -> list[OutboundEndpoint]:
    return list(session.scalars(select(OutboundEndpoint).order_by(OutboundEndpoint.id)))
