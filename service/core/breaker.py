"""A circuit breaker: after N consecutive failures, stop calling for a cool-down, then try one.

The state lives in Redis when a URL is given, so every process and instance sees the same
breaker; otherwise (or while Redis does not answer) in this process. A Redis outage
never blocks the caller: the breaker falls back to its local state and tries Redis again
a little later.

States, as callers see them through `allow()`:
- closed: fewer than `threshold` consecutive failures; every call goes through;
- open: `threshold` failures reached less than `cooldown` seconds ago; no call goes through;
- half-open: the cool-down has passed; exactly one caller is let through as a trial
  (it takes a fresh cool-down for itself), its success closes the breaker and its
  failure opens it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

# After Redis fails, use the local state this long before asking Redis again, so an
# outage costs one short timeout now and then rather than one per call.
REDIS_RETRY_SECONDS = 10.0
REDIS_TIMEOUT_SECONDS = 0.25


class _Store(Protocol):
    def failures(self) -> int: ...
    def add_failure(self) -> int: ...
    def reset(self) -> None: ...
    def is_open(self) -> bool: ...
    def open_for(self, seconds: float) -> None: ...
    def claim_trial(self, seconds: float) -> bool: ...


class LocalStore:
    """Breaker state in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until = float("-inf")

    def failures(self) -> int:
        return self._failures

    def add_failure(self) -> int:
        with self._lock:
            self._failures += 1
            return self._failures

    def reset(self) -> None:
        with self._lock:
            self._failures = 0
            self._open_until = float("-inf")

    def is_open(self) -> bool:
        return self.clock() < self._open_until

    def open_for(self, seconds: float) -> None:
        with self._lock:
            self._open_until = self.clock() + seconds

    def claim_trial(self, seconds: float) -> bool:
        with self._lock:
            if self.clock() < self._open_until:
                return False
            self._open_until = self.clock() + seconds
            return True


class RedisStore:
    """Breaker state in Redis: a failure counter and an "open" key that expires."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.failures_key = f"breaker:{name}:failures"
        self.open_key = f"breaker:{name}:open"

    def failures(self) -> int:
        return int(self.client.get(self.failures_key) or 0)

    def add_failure(self) -> int:
        return int(self.client.incr(self.failures_key))

    def reset(self) -> None:
        self.client.delete(self.failures_key, self.open_key)

    def is_open(self) -> bool:
        return bool(self.client.exists(self.open_key))

    def open_for(self, seconds: float) -> None:
        self.client.set(self.open_key, b"1", px=max(1, int(seconds * 1000)))

    def claim_trial(self, seconds: float) -> bool:
        # SET NX: of all processes past the cool-down, one wins the trial.
        return bool(self.client.set(self.open_key, b"1", px=max(1, int(seconds * 1000)), nx=True))


class CircuitBreaker:
    """Count consecutive failures of one dependency and refuse calls while it is failing."""

    def __init__(
        self,
        name: str,
        *,
        threshold: int,
        cooldown: float,
        redis_url: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.local = LocalStore(clock)
        self.redis: RedisStore | None = None
        if redis_url:
            import redis

            client = redis.Redis.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self.redis = RedisStore(client, name)
        self._redis_down_until = float("-inf")

    def allow(self) -> bool:
        """True when a call may go through now (closed, or the half-open trial)."""
        return bool(self._with_store(self._allow))

    def record_success(self) -> None:
        """The dependency answered: close the breaker."""
        self._with_store(lambda store: store.reset())

    def record_failure(self) -> None:
        """The dependency failed or timed out: count it, and open at the threshold."""
        self._with_store(self._fail)

    def _allow(self, store: _Store) -> bool:
        if store.failures() < self.threshold:
            return True
        if store.is_open():
            return False
        return store.claim_trial(self.cooldown)

    def _fail(self, store: _Store) -> None:
        if store.add_failure() >= self.threshold:
            store.open_for(self.cooldown)
            log.warning("circuit breaker %s is open for %.0f s", self.name, self.cooldown)

    def _with_store(self, action: Callable[[_Store], Any]) -> Any:
        if self.redis is not None and self.clock() >= self._redis_down_until:
            try:
                return action(self.redis)
            except Exception as error:
                self._redis_down_until = self.clock() + REDIS_RETRY_SECONDS
                log.warning(
                    "circuit breaker %s: Redis did not answer (%s); using this process's state",
                    self.name,
                    type(error).__name__,
                )
        return action(self.local)
