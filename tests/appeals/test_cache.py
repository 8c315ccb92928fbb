"""The appeal cache: TTL, keeping the old snapshot, invalidation after commit, Redis stamp."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from service.appeals.cache import AppealCache, get_appeal_snapshot, invalidate_campaign_cache
from service.core.extensions import db
from tests.appeals.factories import make_campaign
from tests.live import reserve_port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_reloads_after_its_ttl_and_when_invalidated() -> None:
    clock, loads = Clock(), []

    def load() -> tuple[tuple[Any, ...], int]:
        loads.append(clock.now)
        return (), len(loads)

    cache = AppealCache(ttl=30, clock=clock)
    assert cache.get(load).supporter_count == 1
    clock.now += 29
    assert cache.get(load).supporter_count == 1
    clock.now += 1
    assert cache.get(load).supporter_count == 2
    cache.invalidate()
    assert cache.get(load).supporter_count == 3
    assert len(loads) == 3


def test_cache_keeps_serving_the_old_snapshot_when_a_reload_fails() -> None:
    clock = Clock()
    cache = AppealCache(ttl=30, clock=clock)
    assert cache.get(lambda: ((), 7)).supporter_count == 7
    clock.now += 31

    def broken() -> tuple[tuple[Any, ...], int]:
        raise OperationalError("SELECT", {}, Exception("database is away"))

    assert cache.get(broken).supporter_count == 7
    fresh = AppealCache(ttl=30, clock=clock)
    with pytest.raises(OperationalError):
        fresh.get(broken)


def test_snapshot_reads_campaigns_and_count_and_invalidation_after_commit(app: Flask) -> None:
    with app.test_request_context():
        assert get_appeal_snapshot().campaigns == ()
        make_campaign(db.session)
        # Cached: the new campaign is not seen until invalidated.
        assert get_appeal_snapshot().campaigns == ()
        invalidate_campaign_cache()
        db.session.commit()
        assert [c.slug for c in get_appeal_snapshot().campaigns] == ["winter"]


def test_invalidation_reaches_the_cache_again_when_the_request_commits(app: Flask) -> None:
    with app.test_request_context():
        make_campaign(db.session)
        invalidate_campaign_cache()
        # Another request re-caches before this one commits...
        first = get_appeal_snapshot()
        db.session.commit()
        # ...and the commit drops that snapshot, so the next read is fresh.
        assert get_appeal_snapshot().generation == first.generation + 1


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("the Redis version-stamp test needs redis-server (Debian package redis-server)")
    port = reserve_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=5)


def test_redis_version_stamp_invalidates_every_instance(redis_url: str) -> None:
    clock = Clock()
    one = AppealCache(ttl=30, redis_url=redis_url, clock=clock)
    two = AppealCache(ttl=30, redis_url=redis_url, clock=clock)
    counts = iter(range(100))

    def load() -> tuple[tuple[Any, ...], int]:
        return (), next(counts)

    one.get(load)
    first = two.get(load).supporter_count
    clock.now += 1
    assert two.get(load).supporter_count == first  # version seen, nothing changed
    one.invalidate()
    clock.now += 1
    assert two.get(load).supporter_count > first
