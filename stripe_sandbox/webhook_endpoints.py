"""``/v1/webhook_endpoints``: create, list, retrieve, update and delete, as at Stripe.

An endpoint's ``secret`` is in the answer that creates it and never again. Events go to
every enabled endpoint whose ``enabled_events`` name their type (or ``*``), each signed
with that endpoint's secret (``webhooks.py``). The sandbox renders events at its one API
version, so an endpoint asking for another is refused rather than silently misled.
"""

from __future__ import annotations

import re
from typing import Any

from . import objects
from . import params as p
from .api import bp, endpoint, paginate
from .errors import StripeError, invalid, no_such
from .params import ListOf
from .runtime import current_sandbox
from .schemas import LIST_PAGING

Obj = dict[str, Any]

#: Stripe allows 16 webhook endpoints per account and mode.
MAX_ENDPOINTS = 16
_EVENT_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")

CREATE: p.Schema = {
    "api_version": None,
    "connect": None,
    "description": None,
    "enabled_events": ListOf(None),
    "metadata": None,
    "url": None,
}
UPDATE: p.Schema = {
    "description": None,
    "disabled": None,
    "enabled_events": ListOf(None),
    "metadata": None,
    "url": None,
}


def _enabled_events(value: Any, *, required: bool) -> list[str] | None:
    if value is None:
        if required:
            raise StripeError(
                400,
                "Missing required param: enabled_events.",
                param="enabled_events",
                code="parameter_missing",
                replayable=False,
            )
        return None
    if not isinstance(value, list) or not value:
        raise invalid("Invalid array: enabled_events", param="enabled_events")
    events: list[str] = []
    for index, item in enumerate(value):
        name = f"enabled_events[{index}]"
        text = p.string(item, name, required=True) or ""
        if text != "*" and not _EVENT_TYPE.match(text):
            raise invalid(f"Invalid {name}: '{text}' is not an event type.", param=name)
        if text not in events:
            events.append(text)
    return events


def _description(value: Any) -> str | None:
    return p.string(value, "description", max_length=5000) or None


def _merged_metadata(current: dict[str, str], value: Any) -> dict[str, str]:
    if value == "":
        return {}
    changes = p.metadata(value) or {}
    merged = dict(current)
    for key, item in changes.items():
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = item
    return merged


def _live_endpoint(endpoint_id: str) -> Obj:
    found = current_sandbox().state.live(endpoint_id, "webhook_endpoint")
    if found is None:
        raise no_such("webhook_endpoint", endpoint_id)
    return found


@bp.post("/webhook_endpoints")
@endpoint
def create_webhook_endpoint(params: Obj) -> Obj:
    """``POST /v1/webhook_endpoints``: the answer carries the signing secret, once."""
    p.check(params, CREATE)
    sandbox = current_sandbox()
    state = sandbox.state
    url = p.url(params.get("url"), "url", required=True) or ""
    events = _enabled_events(params.get("enabled_events"), required=True) or []
    api_version = p.string(params.get("api_version"), "api_version")
    if api_version and api_version != state.api_version:
        raise invalid(
            f"The Stripe sandbox (a test double) renders events at API version "
            f"{state.api_version} only; this endpoint asked for {api_version}.",
            param="api_version",
        )
    if p.boolean(params.get("connect"), "connect"):
        raise invalid(
            "The Stripe sandbox (a test double) has no connected accounts: connect=true "
            "is not emulated.",
            param="connect",
        )
    if len(state.webhook_endpoints()) >= MAX_ENDPOINTS:
        raise invalid(
            f"You have reached the maximum of {MAX_ENDPOINTS} test webhook endpoints.",
            param="url",
        )
    created = objects.webhook_endpoint(
        url=url, enabled_events=events, api_version=api_version or None, now=state.now()
    )
    created["description"] = _description(params.get("description"))
    created["metadata"] = _merged_metadata({}, params.get("metadata"))
    state.add_webhook_endpoint(created, str(created["secret"]))
    return created


@bp.get("/webhook_endpoints")
@endpoint
def list_webhook_endpoints(params: Obj) -> Obj:
    """``GET /v1/webhook_endpoints``: newest first, without secrets."""
    p.check(params, LIST_PAGING)
    endpoints = list(reversed(current_sandbox().state.webhook_endpoints()))
    return paginate(endpoints, params, "/v1/webhook_endpoints", "webhook_endpoint")


@bp.get("/webhook_endpoints/<endpoint_id>")
@endpoint
def retrieve_webhook_endpoint(params: Obj, endpoint_id: str) -> Obj:
    """``GET /v1/webhook_endpoints/{id}``, without its secret."""
    p.check(params, {})
    _live_endpoint(endpoint_id)
    return current_sandbox().state.get(endpoint_id)


@bp.post("/webhook_endpoints/<endpoint_id>")
@endpoint
def update_webhook_endpoint(params: Obj, endpoint_id: str) -> Obj:
    """``POST /v1/webhook_endpoints/{id}``: URL, events, description, metadata, disabled.

    Stripe cannot change an endpoint's API version after creation (not a parameter here).
    """
    p.check(params, UPDATE)
    state = current_sandbox().state
    with state.changed:
        live = _live_endpoint(endpoint_id)
        url = p.url(params.get("url"), "url")
        events = _enabled_events(params.get("enabled_events"), required=False)
        disabled = p.boolean(params.get("disabled"), "disabled")
        description = _description(params.get("description"))
        metadata = _merged_metadata(live["metadata"], params.get("metadata"))
        if url:
            live["url"] = url
        if events is not None:
            live["enabled_events"] = events
        if "description" in params:
            live["description"] = description
        if "metadata" in params:
            live["metadata"] = metadata
        if disabled is not None:
            live["status"] = "disabled" if disabled else "enabled"
        state.changed.notify_all()
    return state.get(endpoint_id)


@bp.delete("/webhook_endpoints/<endpoint_id>")
@endpoint
def delete_webhook_endpoint(params: Obj, endpoint_id: str) -> Obj:
    """``DELETE /v1/webhook_endpoints/{id}``: the endpoint gets nothing more."""
    p.check(params, {})
    _live_endpoint(endpoint_id)
    current_sandbox().state.remove_webhook_endpoint(endpoint_id)
    return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}
