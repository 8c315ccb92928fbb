"""Webhook delivery: sign each event as Stripe does and POST it, retrying with backoff.

Every event is tried first in order of creation; a failed one is retried later, after
a doubling pause, while newer events go ahead — so, as with Stripe, receivers can see
events out of order and more than once.
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

from .state import DeliveryAttempt, EventRecord, SandboxState

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
    """Sends recorded events to one endpoint, from a worker thread or on demand.

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
        return bool(self.url and self.secret)

    @property
    def running(self) -> bool:
        """Whether the background worker is delivering."""
        return self._thread is not None and self._thread.is_alive()

    # -- signing ----------------------------------------------------------------------

    def signed(self, event_id: str, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers a delivery of this event carries, e.g. for a test client."""
        if not self.secret:
            raise RuntimeError("no webhook secret is configured")
        with self.state.lock:
            record = self._record(event_id)
            body = record.body
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": signature_header(body, self.secret, timestamp),
        }
        return body.encode("utf-8"), headers

    # -- on demand --------------------------------------------------------------------

    def deliver(self, event_id: str) -> DeliveryAttempt:
        """POST one event now, in this thread, and record the attempt (no retry)."""
        if not self.configured:
            raise RuntimeError("no webhook URL and secret are configured")
        body, headers = self.signed(event_id)
        attempt = self._post(body, headers)
        with self.state.changed:
            self._note(self._record(event_id), attempt, retry=False)
        return attempt

    def deliver_pending(self) -> list[DeliveryAttempt]:
        """Try every event not yet delivered (and not given up on) once, oldest first."""
        with self.state.lock:
            pending = [
                record.id
                for record in self.state.event_records()
                if not record.delivered and not record.gave_up
            ]
        return [self.deliver(event_id) for event_id in pending]

    def redeliver(self, event_id: str) -> DeliveryAttempt | None:
        """Send an event again: queued for the worker if it runs, else at once."""
        with self.state.changed:
            record = self._record(event_id)
            if self.running:
                record.gave_up = False
                record.round_attempts = 0
                record.next_attempt_at = 0.0
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

    # -- worker -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the background worker (and schedule events recorded before it)."""
        if not self.configured or self.running:
            return
        with self.state.changed:
            self._stopping = False
            self.state.auto_deliver = True
            for record in self.state.event_records():
                if not record.delivered and not record.gave_up and record.next_attempt_at is None:
                    record.next_attempt_at = 0.0
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
                record = self._claim_next()
                if record is None:
                    return
                event_id = record.id
                self._in_flight += 1
            try:
                body, headers = self.signed(event_id)
                attempt = self._post(body, headers)
            except KeyError:  # the state was reset meanwhile
                attempt = None
            with self.state.changed:
                self._in_flight -= 1
                if attempt is not None:
                    current = self.state.event_record(event_id)
                    if current is not None:
                        self._note(current, attempt, retry=True)
                self.state.changed.notify_all()

    def _claim_next(self) -> EventRecord | None:
        """Wait (holding the lock between waits) for a due record; ``None`` when stopping."""
        while not self._stopping:
            now = time.monotonic()
            best: EventRecord | None = None
            best_due = 0.0
            for record in self.state.event_records():
                if record.next_attempt_at is None:
                    continue
                due = record.next_attempt_at
                if best is None or due < best_due:
                    best, best_due = record, due
            if best is not None and best_due <= now:
                best.next_attempt_at = None
                return best
            self.state.changed.wait(None if best is None else best_due - now)
        return None

    def _note(self, record: EventRecord, attempt: DeliveryAttempt, *, retry: bool) -> None:
        record.attempts.append(attempt)
        record.round_attempts += 1
        if attempt.ok:
            record.delivered = True
            record.gave_up = False
            record.next_attempt_at = None
            record.event["pending_webhooks"] = 0
        elif retry and record.round_attempts < self.max_attempts:
            pause = min(self.backoff * 2 ** (record.round_attempts - 1), self.backoff_max)
            record.next_attempt_at = time.monotonic() + pause
        elif retry:
            record.gave_up = True

    def _record(self, event_id: str) -> EventRecord:
        record = self.state.event_record(event_id)
        if record is None:
            raise KeyError(event_id)
        return record

    def _post(self, body: bytes, headers: dict[str, str]) -> DeliveryAttempt:
        assert self.url is not None
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
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
        )
