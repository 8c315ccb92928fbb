"""Absolute URLs from PUBLIC_BASE_URL, never from the request's Host or X-Forwarded-Host."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from service.core.settings import Settings


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of an endpoint at this deployment's public base URL.

    url_for(_external=True) takes the host from the request, which any client (or, with
    proxies trusted, X-Forwarded-Host) chooses; a URL we hand out must not follow it.
    """
    settings: Settings = current_app.extensions["settings"]
    base = urlsplit(settings.public_base_url)
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
