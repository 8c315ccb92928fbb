"""Webhook delivery: sign each event as Stripe does and POST it, retrying with backoff.

Every event is tried first in order of creation; a failed one is retried later, after
a doubling pause, while newer events go ahead — so, as with Stripe, receivers can see
events out of order and more than once. Each webhook endpoint gets the events enabled
for it, signed with its own secret.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from .state import DeliveryAttempt, DeliveryTrack, EventRecord, SandboxState

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """``Stripe-Signature`` for ``payload``: ``t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Stripe counts a redirect as a failed delivery rather than following it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookDeliverer:
    """Sends recorded events to the webhook endpoints, from a worker thread or on demand.

    Each event goes to the endpoints enabled for its type when it was created, each
    signed with that endpoint's own secret and retried on its own. ``url`` and ``secret``
    are the endpoint configured at start (``SandboxConfig.webhook_url``), if any; others
    are created through ``POST /v1/webhook_endpoints`` as at Stripe.

    Retry times use the monotonic clock, not the state's clock, which tests may freeze.
    """

    def __init__(
        self,
        state: SandboxState,
        *,
        url: str | None,
        secret: str | None,
        max_attempts: int = 6,
        backoff: float = 1.0,
        backoff_max: float = 60.0,
        timeout: float = 5.0,
    ) -> None:
        self.state = state
        self.url = url
        self.secret = secret
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._in_flight = 0

    @property
    def configured(self) -> bool:
        """Whether there is an endpoint to deliver to."""
        return any(endpoint["status"] == "enabled" for endpoint in self.state.webhook_endpoints())

    @property
    def running(self) -> bool:
        """Whether the background worker is delivering."""
        return self._thread is not None and self._thread.is_alive()

    # -- signing ----------------------------------------------------------------------

    def signed(
        self, event_id: str, timestamp: int | None = None, *, endpoint_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers a delivery of this event carries, e.g. for a test client:
        signed with the endpoint's secret (by default the configured endpoint's)."""
        secret = self.secret
        if endpoint_id is not None:
            target = self.state.webhook_target(endpoint_id)
            secret = target[1] if target else None
        if not secret:
            raise RuntimeError("no webhook secret is configured")
        with self.state.lock:
            record = self._record(event_id)
            body = record.body
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": signature_header(body, secret, timestamp),
        }
        return body.encode("utf-8"), headers

    # -- on demand --------------------------------------------------------------------

    def deliver(self, event_id: str) -> DeliveryAttempt:
        """POST one event now to each of its endpoints, in this thread, and record the
        attempts (no retry); the last attempt is returned."""
        with self.state.lock:
            endpoint_ids = list(self._record(event_id).tracks)
        attempts = [
            attempt
            for endpoint_id in endpoint_ids
            if (attempt := self._deliver_once(event_id, endpoint_id)) is not None
        ]
        if not attempts:
            raise RuntimeError("no webhook endpoint is enabled for this event")
        return attempts[-1]

    def deliver_pending(self) -> list[DeliveryAttempt]:
        """Try every delivery not yet made (and not given up on) once, oldest first."""
        with self.state.lock:
            pending = [
                (record.id, track.endpoint_id)
                for record in self.state.event_records()
                for track in record.tracks.values()
                if not track.delivered and not track.gave_up
            ]
        return [
            attempt
            for event_id, endpoint_id in pending
            if (attempt := self._deliver_once(event_id, endpoint_id)) is not None
        ]

    def redeliver(self, event_id: str) -> DeliveryAttempt | None:
        """Send an event again: queued for the worker if it runs, else at once."""
        with self.state.changed:
            record = self._record(event_id)
            if self.running:
                for track in record.tracks.values():
                    track.gave_up = False
                    track.round_attempts = 0
                    track.next_attempt_at = 0.0
                self.state.changed.notify_all()
                return None
        return self.deliver(event_id)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until nothing is scheduled or in flight; ``False`` if ``timeout`` ran out."""
        deadline = time.monotonic() + timeout
        with self.state.changed:
            while self._in_flight or any(
                record.next_attempt_at is not None for record in self.state.event_records()
            ):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.state.changed.wait(min(remaining, 0.05))
            return True

    def _deliver_once(self, event_id: str, endpoint_id: str) -> DeliveryAttempt | None:
        target = self.state.webhook_target(endpoint_id)
        if target is None:
            return None
        body, headers = self.signed(event_id, endpoint_id=endpoint_id)
        attempt = self._post(target[0], body, headers, endpoint_id)
        with self.state.changed:
            record = self._record(event_id)
            self._note(record, record.tracks[endpoint_id], attempt, retry=False)
        return attempt

    # -- worker -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the background worker (and schedule deliveries recorded before it)."""
        if self.running:
            return
        with self.state.changed:
            self._stopping = False
            self.state.auto_deliver = True
            for record in self.state.event_records():
                for track in record.tracks.values():
                    if not track.delivered and not track.gave_up and track.next_attempt_at is None:
                        track.next_attempt_at = 0.0
        self._thread = threading.Thread(
            target=self._run, name="stripe-sandbox-webhooks", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker after any delivery in flight."""
        with self.state.changed:
            self._stopping = True
            self.state.auto_deliver = False
            self.state.changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            with self.state.changed:
                claimed = self._claim_next()
                if claimed is None:
                    return
                event_id, endpoint_id = claimed
                target = self.state.webhook_target(endpoint_id)
                self._in_flight += 1
            attempt = None
            try:
                if target is not None:
                    body, headers = self.signed(event_id, endpoint_id=endpoint_id)
                    attempt = self._post(target[0], body, headers, endpoint_id)
            except (KeyError, RuntimeError):  # the state was reset meanwhile
                attempt = None
            with self.state.changed:
                self._in_flight -= 1
                current = self.state.event_record(event_id)
                if attempt is not None and current is not None:
                    track = current.tracks.get(endpoint_id)
                    if track is not None:
                        self._note(current, track, attempt, retry=True)
                self.state.changed.notify_all()

    def _claim_next(self) -> tuple[str, str] | None:
        """Wait (holding the lock between waits) for a due delivery; ``None`` when stopping."""
        while not self._stopping:
            now = time.monotonic()
            best: tuple[EventRecord, DeliveryTrack] | None = None
            best_due = 0.0
            for record in self.state.event_records():
                for track in record.tracks.values():
                    if track.next_attempt_at is None:
                        continue
                    due = track.next_attempt_at
                    if best is None or due < best_due:
                        best, best_due = (record, track), due
            if best is not None and best_due <= now:
                record, track = best
                track.next_attempt_at = None
                return record.id, track.endpoint_id
            self.state.changed.wait(None if best is None else best_due - now)
        return None

    def _note(
        self, record: EventRecord, track: DeliveryTrack, attempt: DeliveryAttempt, *, retry: bool
    ) -> None:
        track.attempts.append(attempt)
        track.round_attempts += 1
        if attempt.ok:
            track.delivered = True
            track.gave_up = False
            track.next_attempt_at = None
        elif retry and track.round_attempts < self.max_attempts:
            pause = min(self.backoff * 2 ** (track.round_attempts - 1), self.backoff_max)
            track.next_attempt_at = time.monotonic() + pause
        elif retry:
            track.gave_up = True
        record.event["pending_webhooks"] = sum(
            1 for each in record.tracks.values() if not each.delivered
        )

    def _record(self, event_id: str) -> EventRecord:
        record = self.state.event_record(event_id)
        if record is None:
            raise KeyError(event_id)
        return record

    def _post(
        self, url: str, body: bytes, headers: dict[str, str], endpoint_id: str
    ) -> DeliveryAttempt:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
                response.read()
        except urllib.error.HTTPError as failure:
            status = failure.code
            failure.close()
        except (urllib.error.URLError, OSError, http.client.HTTPException) as failure:
            error = str(getattr(failure, "reason", failure))
        return DeliveryAttempt(
            at=time.time(),
            status=status,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
            endpoint_id=endpoint_id,
        )
