"""The appeal endpoint's cache: campaigns and the supporter count, read together.

The appeal endpoint runs on every article page view, so it reads campaigns and the
supporter count from a short in-process cache (APPEAL_CACHE_SECONDS) and makes no
database query in steady state. With REDIS_URL set, a version stamp in Redis lets one
instance's `invalidate_campaign_cache()` reach every instance within a second.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_app_context

from service.appeals.campaigns import load_campaign_specs
from service.appeals.currency import country_map
from service.appeals.decision import CampaignSpec
from service.core.extensions import db
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger import count_supporters

log = logging.getLogger(__name__)

REDIS_VERSION_KEY = "reader-contributions:campaign-cache-version"
# How often an instance asks Redis whether another instance invalidated the cache.
REDIS_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class AppealSnapshot:
    """Everything the appeal endpoint needs, read together and cached together."""

    campaigns: tuple[CampaignSpec, ...]
    supporter_count: int
    loaded_at: float
    generation: int
    # Staff's country -> currency map (service.appeals.currency), read with the campaigns.
    country_currencies: Mapping[str, str] = field(default_factory=dict)

    def has_variant(self, campaign: str, variant: str) -> bool:
        """True when an active campaign has this variant (to check beacons)."""
        return any(
            c.slug == campaign and any(v.key == variant for v in c.variants) for c in self.campaigns
        )


@dataclass
class AppealCache:
    """A per-app cache of campaigns and the supporter count, refreshed every few seconds."""

    ttl: float
    redis_url: str = ""
    clock: Callable[[], float] = time.monotonic
    _snapshot: AppealSnapshot | None = None
    _generation: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _redis: Any = None
    _redis_version: bytes | None = None
    _redis_checked_at: float = float("-inf")

    def get(self, load: Callable[[], tuple[Any, ...]]) -> AppealSnapshot:
        """The cached snapshot, reloaded with `load` when stale.

        `load` answers (campaigns, supporter count) or (campaigns, count, country map).

        If reloading fails and an older snapshot exists, the older one keeps serving
        (readers still see appeals while the database is away); otherwise it raises.
        """
        snapshot = self._snapshot
        if snapshot is not None and self._is_fresh(snapshot):
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and self._is_fresh(snapshot):
                return snapshot
            if self.redis_url:
                # Read the version before loading, so a change during the load is seen.
                self._redis_version = self._read_redis_version()
                self._redis_checked_at = self.clock()
            try:
                campaigns, count, *extra = load()
            except Exception:
                if snapshot is None:
                    raise
                log.warning("could not refresh campaigns; serving the cached ones", exc_info=True)
                # Retry after a short pause rather than on every request.
                self._snapshot = AppealSnapshot(
                    snapshot.campaigns,
                    snapshot.supporter_count,
                    self.clock() - max(self.ttl - 5, 0),
                    snapshot.generation,
                    snapshot.country_currencies,
                )
                return self._snapshot
            self._generation += 1
            countries: Mapping[str, str] = extra[0] if extra else {}
            self._snapshot = AppealSnapshot(
                campaigns, count, self.clock(), self._generation, countries
            )
            return self._snapshot

    def invalidate(self, *, broadcast: bool = True) -> None:
        """Drop the snapshot here and, with Redis, on every other instance too."""
        self._snapshot = None
        if broadcast and self.redis_url:
            try:
                self._redis_client().incr(REDIS_VERSION_KEY)
            except Exception:
                log.warning("could not bump the campaign cache version in Redis", exc_info=True)

    def _is_fresh(self, snapshot: AppealSnapshot) -> bool:
        now = self.clock()
        if now - snapshot.loaded_at >= self.ttl:
            return False
        if self.redis_url and now - self._redis_checked_at >= REDIS_CHECK_SECONDS:
            self._redis_checked_at = now
            version = self._read_redis_version()
            # Redis away (None): the TTL alone bounds staleness.
            if version is not None and version != self._redis_version:
                self._snapshot = None
                return False
        return True

    def _read_redis_version(self) -> bytes | None:
        try:
            version = self._redis_client().get(REDIS_VERSION_KEY)
        except Exception:
            log.warning("could not read the campaign cache version from Redis", exc_info=True)
            return None
        return version if isinstance(version, bytes) else b"0"

    def _redis_client(self) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(
                self.redis_url, socket_timeout=0.25, socket_connect_timeout=0.25
            )
        return self._redis


def appeal_cache(app: Flask | None = None) -> AppealCache:
    """The app's appeal cache, created on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache: AppealCache | None = app.extensions.get("appeal_cache")
    if cache is None:
        settings: Settings = app.extensions["settings"]
        cache = app.extensions.setdefault(
            "appeal_cache",
            AppealCache(ttl=float(settings.appeal_cache_seconds), redis_url=settings.redis_url),
        )
    return cache


def get_appeal_snapshot(app: Flask | None = None) -> AppealSnapshot:
    """Campaigns and the supporter count, from the cache or (rarely) the database."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    settings: Settings = app.extensions["settings"]

    def load() -> tuple[tuple[CampaignSpec, ...], int, Mapping[str, str]]:
        # A session of its own: the request's session (and its commit hook) stays idle.
        maker = app.extensions["database"]["sessionmaker"]
        with maker() as session:
            now = utcnow()
            return (
                load_campaign_specs(session, now),
                count_supporters(session, settings, now),
                country_map(session),
            )

    return appeal_cache(app).get(load)


def invalidate_campaign_cache(app: Flask | None = None) -> None:
    """Make the next appeal request reload campaigns and the count (call after saving).

    Inside a request that has a database session, the cache is dropped again once that
    session commits, so no request can re-cache the old campaign in between.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache = appeal_cache(app)
    cache.invalidate()
    if has_app_context():
        db.after_commit(cache.invalidate)
