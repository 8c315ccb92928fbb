"""In-memory store of one sandbox: objects, events, idempotent replies, faults.

One re-entrant lock guards everything; the webhook worker waits on ``changed``, a
condition on that same lock, so a new event wakes it without a second lock to order.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from . import objects
from .config import API_VERSION

Obj = dict[str, Any]
FaultMode = Literal["error", "slow"]

#: Stripe keeps idempotent results for 24 hours.
IDEMPOTENCY_TTL = 24 * 3600


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST of an event to a webhook endpoint."""

    at: float
    status: int | None
    error: str | None
    duration_ms: int
    endpoint_id: str = ""

    @property
    def ok(self) -> bool:
        """True when the endpoint answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


@dataclass
class DeliveryTrack:
    """How delivery of one event to one webhook endpoint goes."""

    endpoint_id: str
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    delivered: bool = False
    gave_up: bool = False
    #: When the worker should next try; ``None`` when nothing is scheduled.
    next_attempt_at: float | None = None
    #: Attempts in the current round (a redelivery starts a new round).
    round_attempts: int = 0


@dataclass
class EventRecord:
    """An event, its body as delivered, and how delivery to each endpoint went.

    As at Stripe, the endpoints an event goes to are those enabled for its type when it
    is created (``pending_webhooks`` counts them); an endpoint added later does not get it.
    """

    seq: int
    event: Obj
    body: str
    tracks: dict[str, DeliveryTrack] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The event id."""
        return str(self.event["id"])

    @property
    def attempts(self) -> list[DeliveryAttempt]:
        """Every delivery attempt, to any endpoint, oldest first."""
        found = [attempt for track in self.tracks.values() for attempt in track.attempts]
        return sorted(found, key=lambda attempt: attempt.at)

    @property
    def delivered(self) -> bool:
        """Delivered to every endpoint it was meant for (never, when there was none)."""
        return bool(self.tracks) and all(track.delivered for track in self.tracks.values())

    @property
    def gave_up(self) -> bool:
        """Retries ran out for some endpoint."""
        return any(track.gave_up for track in self.tracks.values())

    @property
    def next_attempt_at(self) -> float | None:
        """The earliest scheduled attempt to any endpoint; ``None`` when none is."""
        due = [t.next_attempt_at for t in self.tracks.values() if t.next_attempt_at is not None]
        return min(due, default=None)


@dataclass
class Fault:
    """Injected trouble for the next ``remaining`` API requests (``None``: until cleared)."""

    mode: FaultMode
    seconds: float = 0.0
    status: int = 500
    remaining: int | None = None


@dataclass(frozen=True)
class RequestInfo:
    """The API request that caused an event, as ``event.request`` reports it."""

    id: str
    idempotency_key: str | None


@dataclass(frozen=True)
class IdempotentResult:
    """A saved reply to a POST with an ``Idempotency-Key``."""

    method: str
    path: str
    params: Obj
    status: int
    body: str
    request_id: str
    created: float


@dataclass(frozen=True)
class Exchange:
    """One ``/v1`` request and its answer, kept so tests can hold both to Stripe's contract."""

    method: str
    path: str
    params: Obj
    status: int
    body: str
    expand: tuple[str, ...]


class SandboxState:
    """Everything one sandbox knows. Public methods take the lock themselves."""

    def __init__(
        self, *, api_version: str = API_VERSION, clock: Callable[[], float] = time.time
    ) -> None:
        self.api_version = api_version
        self.clock = clock
        self.lock = threading.RLock()
        #: Notified whenever an event is recorded or a delivery is scheduled.
        self.changed = threading.Condition(self.lock)
        #: Signing secrets of the webhook endpoints, by endpoint id (never sent again
        #: after the answer that creates the endpoint, as at Stripe).
        self._webhook_secrets: dict[str, str] = {}
        #: Whether new events are scheduled for delivery at once.
        self.auto_deliver = False
        self._objects: dict[str, Obj] = {}
        self._private: dict[str, Obj] = {}
        self._records: list[EventRecord] = []
        self._records_by_id: dict[str, EventRecord] = {}
        self._idempotent: dict[tuple[str, str], IdempotentResult] = {}
        self._fault: Fault | None = None
        self._request: RequestInfo | None = None
        self._exchanges: list[Exchange] = []

    # -- time -------------------------------------------------------------------------

    def now(self) -> int:
        """Unix seconds, as Stripe's timestamps are."""
        return int(self.clock())

    # -- objects ----------------------------------------------------------------------

    def put(self, obj: Obj) -> Obj:
        """Store ``obj`` (by its ``id``) and return the stored, live dict."""
        with self.lock:
            self._objects[obj["id"]] = obj
            return obj

    def live(self, object_id: str, object_name: str | None = None) -> Obj | None:
        """The stored dict itself (mutate only under ``lock``), or ``None``."""
        with self.lock:
            obj = self._objects.get(object_id)
            if obj is None or (object_name and obj.get("object") != object_name):
                return None
            return obj

    def get(self, object_id: str) -> Obj:
        """A copy of the object with this id; ``KeyError`` if there is none."""
        with self.lock:
            return copy.deepcopy(self._objects[object_id])

    def objects(self, object_name: str | None = None) -> list[Obj]:
        """Copies of stored objects, oldest first, optionally of one type (``"charge"``)."""
        with self.lock:
            return [
                copy.deepcopy(obj)
                for obj in self._objects.values()
                if object_name is None or obj.get("object") == object_name
            ]

    def private(self, object_id: str) -> Obj:
        """Sandbox-only notes about an object, never sent over the wire."""
        with self.lock:
            return self._private.setdefault(object_id, {})

    # -- requests ---------------------------------------------------------------------

    def record_exchange(self, exchange: Exchange) -> None:
        """Keep a request the API answered."""
        with self.lock:
            self._exchanges.append(exchange)

    @property
    def exchanges(self) -> list[Exchange]:
        """Every request the API answered, oldest first."""
        with self.lock:
            return list(self._exchanges)

    # -- events -----------------------------------------------------------------------

    @contextlib.contextmanager
    def api_request(self, info: RequestInfo) -> Iterator[None]:
        """Attribute events emitted inside the block to this API request."""
        with self.lock:
            previous, self._request = self._request, info
            try:
                yield
            finally:
                self._request = previous

    def emit(self, event_type: str, obj: Obj, previous_attributes: Obj | None = None) -> Obj:
        """Record an event carrying a snapshot of ``obj``; return a copy of it."""
        with self.lock:
            data: Obj = {"object": copy.deepcopy(obj)}
            if previous_attributes is not None:
                data["previous_attributes"] = copy.deepcopy(previous_attributes)
            request: Obj = {"id": None, "idempotency_key": None}
            if self._request is not None:
                request = {
                    "id": self._request.id,
                    "idempotency_key": self._request.idempotency_key,
                }
            event = objects.event(
                event_type=event_type,
                data=data,
                api_version=self.api_version,
                pending_webhooks=0,
                request=request,
                now=self.now(),
            )
            due = 0.0 if self.auto_deliver else None  # due now; the worker keeps its own clock
            tracks = {
                endpoint_id: DeliveryTrack(endpoint_id, next_attempt_at=due)
                for endpoint_id in self._endpoints_for(event_type)
            }
            event["pending_webhooks"] = len(tracks)
            record = EventRecord(
                seq=len(self._records),
                event=event,
                body=json.dumps(event, indent=2),
                tracks=tracks,
            )
            self._records.append(record)
            self._records_by_id[record.id] = record
            self.changed.notify_all()
            return copy.deepcopy(event)

    @property
    def events(self) -> list[Obj]:
        """Copies of every event, oldest first."""
        with self.lock:
            return [copy.deepcopy(record.event) for record in self._records]

    @property
    def event_types(self) -> list[str]:
        """The type of every event, oldest first."""
        with self.lock:
            return [str(record.event["type"]) for record in self._records]

    def event_record(self, event_id: str) -> EventRecord | None:
        """The live record of an event (mutate only under ``lock``)."""
        with self.lock:
            return self._records_by_id.get(event_id)

    def event_records(self) -> list[EventRecord]:
        """The live records, oldest first (read or mutate only under ``lock``)."""
        with self.lock:
            return list(self._records)

    def deliveries(self, event_id: str) -> list[DeliveryAttempt]:
        """Delivery attempts made for an event so far."""
        with self.lock:
            record = self._records_by_id[event_id]
            return list(record.attempts)

    # -- webhook endpoints ------------------------------------------------------------

    def add_webhook_endpoint(self, endpoint: Obj, secret: str) -> Obj:
        """Keep a webhook endpoint (without its ``secret``) and its signing secret."""
        with self.lock:
            stored = {key: value for key, value in endpoint.items() if key != "secret"}
            self._objects[stored["id"]] = stored
            self._webhook_secrets[stored["id"]] = secret
            self.changed.notify_all()
            return stored

    def remove_webhook_endpoint(self, endpoint_id: str) -> None:
        """Forget an endpoint: deliveries still due to it are dropped when their turn comes."""
        with self.lock:
            self._objects.pop(endpoint_id, None)
            self._webhook_secrets.pop(endpoint_id, None)
            self.changed.notify_all()

    def webhook_endpoints(self) -> list[Obj]:
        """Copies of the webhook endpoints, oldest first."""
        return self.objects("webhook_endpoint")

    def webhook_target(self, endpoint_id: str) -> tuple[str, str] | None:
        """``(url, secret)`` of an enabled endpoint; ``None`` if gone or disabled."""
        with self.lock:
            endpoint = self.live(endpoint_id, "webhook_endpoint")
            if endpoint is None or endpoint["status"] != "enabled":
                return None
            return str(endpoint["url"]), self._webhook_secrets[endpoint_id]

    def _endpoints_for(self, event_type: str) -> list[str]:
        return [
            str(endpoint["id"])
            for endpoint in self._objects.values()
            if endpoint.get("object") == "webhook_endpoint"
            and endpoint["status"] == "enabled"
            and ("*" in endpoint["enabled_events"] or event_type in endpoint["enabled_events"])
        ]

    # -- idempotency ------------------------------------------------------------------

    def idempotent_result(self, api_key: str, key: str) -> IdempotentResult | None:
        """The saved reply for this key, if one was saved in the last 24 hours."""
        with self.lock:
            saved = self._idempotent.get((api_key, key))
            if saved is not None and self.clock() - saved.created > IDEMPOTENCY_TTL:
                del self._idempotent[(api_key, key)]
                return None
            return saved

    def save_idempotent_result(self, api_key: str, key: str, result: IdempotentResult) -> None:
        """Keep a reply so a retry with the same key gets the same answer."""
        with self.lock:
            self._idempotent[(api_key, key)] = result

    # -- faults -----------------------------------------------------------------------

    def set_fault(
        self,
        mode: FaultMode | Literal["off"],
        *,
        seconds: float = 0.0,
        count: int | None = None,
        status: int = 500,
    ) -> None:
        """Make the next ``count`` API requests (all, if ``None``) fail or be slow.

        ``mode="error"`` answers ``status`` with a Stripe error body; ``mode="slow"``
        waits ``seconds`` before answering normally; ``mode="off"`` clears the fault.
        """
        if mode == "off":
            self.clear_fault()
            return
        if mode not in ("error", "slow"):
            raise ValueError(f"unknown fault mode: {mode!r}")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        if mode == "error" and not 400 <= status <= 599:
            raise ValueError("an error fault needs an HTTP error status")
        with self.lock:
            self._fault = Fault(mode=mode, seconds=seconds, status=status, remaining=count)

    def clear_fault(self) -> None:
        """Answer API requests normally again."""
        with self.lock:
            self._fault = None

    @property
    def fault(self) -> Fault | None:
        """A copy of the fault in force, if any."""
        with self.lock:
            return copy.copy(self._fault)

    def take_fault(self) -> Fault | None:
        """The fault that applies to the request now arriving, counting it down."""
        with self.lock:
            fault = self._fault
            if fault is None:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._fault = None
            return copy.copy(fault)

    # -- housekeeping -----------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object, event, saved reply and fault; keep the webhook endpoints,
        which are the account's settings rather than its data."""
        with self.lock:
            endpoints = {
                key: obj
                for key, obj in self._objects.items()
                if obj.get("object") == "webhook_endpoint"
            }
            self._objects.clear()
            self._objects.update(endpoints)
            self._private.clear()
            self._records.clear()
            self._records_by_id.clear()
            self._idempotent.clear()
            self._fault = None
            self.changed.notify_all()
