"""Loading campaigns into specs, the appeal cache, and the create/update helpers."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.appeals.campaigns import (
    AppealCache,
    CampaignError,
    CopyInput,
    VariantInput,
    get_appeal_snapshot,
    invalidate_campaign_cache,
    load_campaign_specs,
    update_campaign,
)
from service.appeals.decision import Copy, VariantSpec
from service.appeals.models import AppealCopy, CampaignVariant
from service.core.extensions import db
from service.core.models import utcnow
from tests.appeals.factories import BOTTOM, TOP, campaign_input, make_campaign
from tests.live import reserve_port


def test_load_campaign_specs_keeps_active_running_campaigns(session: Session) -> None:
    now = utcnow()
    make_campaign(
        session,
        slug="spring",
        priority=3,
        goal_supporters=500,
        goal_behaviour="next_goal",
        goal_step=250,
        exclude_sections=["Tragedy", " obituaries "],
        include_tags=["Council"],
        min_articles_read=2,
        thank_you_heading="Thanks",
        thank_you_body="{supporters} of you!",
    )
    make_campaign(session, slug="paused", active=False)
    make_campaign(session, slug="ended", ends_at=now - timedelta(minutes=1))
    make_campaign(session, slug="upcoming", starts_at=now + timedelta(days=1))

    specs = load_campaign_specs(session, now)

    assert [s.slug for s in specs] == ["spring", "upcoming"]
    spring = specs[0]
    assert spring.priority == 3 and spring.goal == 500 and spring.goal_step == 250
    assert spring.goal_behaviour == "next_goal"
    assert spring.exclude_sections == frozenset({"tragedy", "obituaries"})
    assert spring.include_tags == frozenset({"council"})
    assert spring.min_articles_read == 2
    assert spring.thank_you == Copy("Thanks", "{supporters} of you!", "")
    assert spring.variants == (
        VariantSpec(
            "a",
            1,
            {"top": Copy(TOP.heading, TOP.body, TOP.cta), "bottom": Copy(*vars(BOTTOM).values())},
        ),
    )


def test_create_rejects_bad_input_with_a_message_per_field(session: Session) -> None:
    with pytest.raises(CampaignError) as caught:
        make_campaign(
            session,
            slug="Bad Slug!",
            name=" ",
            goal_supporters=0,
            goal_behaviour="next_goal",
            goal_step=None,
            variants=(VariantInput("a", 0, {"side": TOP}),),
        )
    assert set(caught.value.errors) == {
        "slug",
        "name",
        "goal_supporters",
        "goal_step",
        "variants",
        "variants.a.side",
    }
    with pytest.raises(CampaignError) as caught:
        make_campaign(session, goal_supporters=None)  # BOTTOM's body says {goal}
    assert set(caught.value.errors) == {"goal_supporters"}
    make_campaign(session)
    with pytest.raises(CampaignError, match="already uses"):
        make_campaign(session)


def test_update_replaces_variants_and_copy(session: Session) -> None:
    campaign = make_campaign(
        session,
        variants=(
            VariantInput("a", 1, {"top": TOP, "bottom": BOTTOM}),
            VariantInput("b", 1, {"top": TOP}),
        ),
    )
    new_top = CopyInput("New heading", "New body", "Give now")
    update_campaign(
        session,
        campaign,
        campaign_input(
            name="Renamed",
            variants=(VariantInput("a", 3, {"top": new_top}), VariantInput("c", 1, {"top": TOP})),
        ),
    )
    session.expire_all()
    assert campaign.name == "Renamed"
    assert [(v.key, v.weight) for v in campaign.variants] == [("a", 3), ("c", 1)]
    a = campaign.variants[0]
    assert [(c.placement.value, c.heading) for c in a.copies] == [("top", "New heading")]
    # The removed variant and copy rows are gone, not orphaned.
    assert session.query(CampaignVariant).count() == 2
    assert session.query(AppealCopy).count() == 2


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
