"""The appeal decision: reasons, goals, targeting, and properties that must always hold."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.appeals.decision import (
    ArticleContext,
    CampaignSpec,
    Copy,
    ReaderState,
    VariantSpec,
    choose_variant,
    current_goal,
    decide_appeal,
    fill,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TOP = Copy("We need you", "{supporters} readers give; help us reach {goal}.", "Give")
BOTTOM = Copy("Readers like you", "Join {supporters} supporters.", "Join")
BOTH = {"top": TOP, "bottom": BOTTOM}


def campaign(**fields: object) -> CampaignSpec:
    values: dict[str, object] = {
        "slug": "winter",
        "variants": (VariantSpec("a", 1, BOTH),),
    }
    values.update(fields)
    return CampaignSpec(**values)


def decide(
    campaigns: list[CampaignSpec] | tuple[CampaignSpec, ...],
    count: int = 100,
    article: ArticleContext | None = None,
    reader: ReaderState | None = None,
    placement: str = "top",
    now: datetime = NOW,
):
    return decide_appeal(
        campaigns,
        count,
        article or ArticleContext.of("story", "news", ["council"]),
        reader or ReaderState(reader_id="r1"),
        now,
        placement=placement,
    )


def test_shows_the_campaign_copy_with_placeholders_filled() -> None:
    decision = decide([campaign(goal=5000)], count=4321)
    assert decision.show and decision.reason == "shown"
    assert decision.campaign == "winter" and decision.variant == "a"
    assert decision.copy == Copy("We need you", "4,321 readers give; help us reach 5,000.", "Give")
    assert decision.goal == 5000


def test_the_count_display_function_is_used_for_supporters() -> None:
    decision = decide_appeal(
        [campaign()],
        5432,
        ArticleContext.of(),
        ReaderState(),
        NOW,
        placement="bottom",
        display=lambda n: f"over {n // 1000 * 1000:,}",
    )
    assert decision.copy is not None
    assert decision.copy.body == "Join over 5,000 supporters."
    assert decision.supporters == 5432 and decision.supporters_display == "over 5,000"


def test_placeholders_do_not_interpret_other_braces() -> None:
    spec = campaign(variants=(VariantSpec("a", 1, {"top": Copy("{0} {x}", "{supporters}", "c")}),))
    decision = decide([spec], count=7)
    assert decision.copy == Copy("{0} {x}", "7", "c")


def test_no_campaign() -> None:
    assert decide([]).reason == "no_campaign"


def test_supporter_and_dismissal_come_before_campaigns() -> None:
    assert decide([], reader=ReaderState(supporter=True)).reason == "supporter"
    later = ReaderState(dismissed_until=NOW + timedelta(days=1))
    assert decide([campaign()], reader=later).reason == "dismissed"
    earlier = ReaderState(dismissed_until=NOW - timedelta(seconds=1))
    assert decide([campaign()], reader=earlier).reason == "shown"


def test_dates() -> None:
    future = campaign(starts_at=NOW + timedelta(hours=1))
    past = campaign(ends_at=NOW)
    assert decide([future]).reason == "outside_dates"
    assert decide([past]).reason == "outside_dates"
    running = campaign(starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=1))
    assert decide([running]).show


def test_targeting_by_section_and_tag() -> None:
    no_tragedy = campaign(exclude_sections=frozenset({"tragedy"}))
    tragedy = ArticleContext.of("s", " Tragedy ", [])
    assert decide([no_tragedy], article=tragedy).reason == "excluded"
    no_obits = campaign(exclude_tags=frozenset({"obituary"}))
    obit = ArticleContext.of("s", "news", ["Obituary", "local"])
    assert decide([no_obits], article=obit).reason == "excluded"
    sport_only = campaign(include_sections=frozenset({"sport"}))
    assert decide([sport_only]).reason == "not_targeted"
    tagged = campaign(include_tags=frozenset({"council"}))
    assert decide([tagged]).show
    assert decide([tagged], article=ArticleContext.of("s", "news", ["weather"])).show is False


def test_article_threshold() -> None:
    loyal = campaign(min_articles_read=3)
    assert decide([loyal], reader=ReaderState(articles_read=2)).reason == "below_article_threshold"
    assert decide([loyal], reader=ReaderState(articles_read=3)).show


def test_highest_priority_eligible_campaign_wins() -> None:
    low = campaign(slug="low", priority=1)
    high_but_excluded = campaign(slug="high", priority=9, exclude_sections=frozenset({"news"}))
    assert decide([high_but_excluded, low]).campaign == "low"
    higher = campaign(slug="higher", priority=5)
    assert decide([low, higher]).campaign == "higher"


def test_the_most_telling_refusal_is_reported() -> None:
    excluded = campaign(slug="x", exclude_sections=frozenset({"news"}))
    ended = campaign(slug="y", ends_at=NOW - timedelta(days=1))
    decision = decide([ended, excluded])
    assert (decision.reason, decision.campaign) == ("excluded", "x")
    assert decide([ended]).campaign is None


def test_missing_copy_for_a_placement() -> None:
    top_only = campaign(variants=(VariantSpec("a", 1, {"top": TOP}),))
    assert decide([top_only], placement="bottom").reason == "no_copy"
    assert decide([top_only], placement="top").show


def test_all_weights_zero_is_no_variant() -> None:
    assert decide([campaign(variants=(VariantSpec("a", 0, BOTH),))]).reason == "no_variant"


def test_goal_reached_hides() -> None:
    spec = campaign(goal=100, goal_behaviour="hide")
    assert decide([spec], count=99).show
    decision = decide([spec], count=100)
    assert (decision.show, decision.reason) == (False, "goal_reached")


def test_goal_reached_says_thank_you() -> None:
    thanks = Copy("We reached {goal}!", "{supporters} readers, thank you.", "")
    spec = campaign(goal=100, goal_behaviour="thank_you", thank_you=thanks)
    decision = decide([spec], count=120)
    assert decision.show and decision.reason == "goal_thank_you"
    assert decision.copy == Copy("We reached 100!", "120 readers, thank you.", "Give")
    assert decision.goal == 100


def test_goal_reached_moves_to_the_next_goal() -> None:
    spec = campaign(goal=100, goal_behaviour="next_goal", goal_step=50)
    assert decide([spec], count=99).goal == 100
    assert decide([spec], count=100).goal == 150
    assert decide([spec], count=249).goal == 250
    decision = decide([spec], count=250)
    assert decision.reason == "shown" and decision.goal == 300
    assert decision.copy is not None and "reach 300" in decision.copy.body


@given(
    goal=st.integers(1, 10_000),
    step=st.integers(1, 1_000),
    count=st.integers(0, 100_000),
)
def test_the_next_goal_is_always_ahead_and_within_one_step(
    goal: int, step: int, count: int
) -> None:
    spec = campaign(goal=goal, goal_behaviour="next_goal", goal_step=step)
    shown = current_goal(spec, count)
    assert shown is not None and shown > count
    assert shown == goal or shown - step <= count


# ------------------------------------------------------------------------- properties

labels = st.sampled_from(["news", "sport", "tragedy", "business", "obituary", "council", ""])
dates = st.one_of(st.none(), st.datetimes(timezones=st.just(UTC), min_value=datetime(2026, 1, 1)))


@st.composite
def campaigns(draw: st.DrawFn) -> CampaignSpec:
    starts, ends = draw(dates), draw(dates)
    variants = draw(
        st.lists(
            st.builds(
                VariantSpec,
                key=st.text("abcdef", min_size=1, max_size=3),
                weight=st.integers(0, 5),
                copies=st.just(BOTH) | st.just({"top": TOP}),
            ),
            max_size=3,
            unique_by=lambda v: v.key,
        )
    )
    return CampaignSpec(
        slug=draw(st.text("abcdefgh", min_size=1, max_size=6)),
        priority=draw(st.integers(-2, 2)),
        starts_at=starts,
        ends_at=ends,
        goal=draw(st.none() | st.integers(1, 500)),
        goal_behaviour=draw(st.sampled_from(["hide", "thank_you", "next_goal"])),
        goal_step=draw(st.none() | st.integers(0, 50)),
        include_sections=frozenset(draw(st.lists(labels, max_size=2))),
        exclude_sections=frozenset(draw(st.lists(labels, max_size=2))),
        include_tags=frozenset(draw(st.lists(labels, max_size=2))),
        exclude_tags=frozenset(draw(st.lists(labels, max_size=2))),
        min_articles_read=draw(st.integers(0, 5)),
        variants=tuple(variants),
    )


articles = st.builds(ArticleContext.of, st.text(max_size=5), labels, st.lists(labels, max_size=3))
readers = st.builds(
    ReaderState,
    reader_id=st.text(max_size=8),
    supporter=st.booleans(),
    dismissed_until=dates,
    articles_read=st.integers(0, 10),
)
nows = st.datetimes(timezones=st.just(UTC), min_value=datetime(2026, 1, 1))
placements = st.sampled_from(["top", "bottom"])


def slug(spec: CampaignSpec) -> str:
    return spec.slug


View = tuple[list[CampaignSpec], int, ArticleContext, ReaderState, datetime, str]


def views(min_campaigns: int = 0) -> st.SearchStrategy[View]:
    """Page views: campaigns, a count, an article, a reader, a time and a placement."""
    return st.tuples(
        st.lists(campaigns(), min_size=min_campaigns, max_size=4, unique_by=slug),
        st.integers(0, 1000),
        articles,
        readers,
        nows,
        placements,
    )


@given(views())
def test_a_supporter_never_sees_an_appeal(view: View) -> None:
    cs, count, article, reader, now, placement = view
    supporter = ReaderState(reader.reader_id, True, reader.dismissed_until, reader.articles_read)
    decision = decide_appeal(cs, count, article, supporter, now, placement=placement)
    assert not decision.show and decision.reason == "supporter"


@given(
    st.lists(campaigns(), max_size=4, unique_by=slug),
    st.integers(0, 1000),
    articles,
    readers,
    nows,
    placements,
)
def test_a_dismissed_placement_stays_hidden_until_its_date(
    cs, count, article, reader, now, placement
) -> None:
    if reader.dismissed_until is not None and reader.dismissed_until > now:
        decision = decide_appeal(cs, count, article, reader, now, placement=placement)
        assert not decision.show
        assert decision.reason in {"supporter", "dismissed"}
    # At and after the date, dismissal no longer decides anything.
    if reader.dismissed_until is not None and not reader.supporter:
        after = max(now, reader.dismissed_until)
        decision = decide_appeal(cs, count, article, reader, after, placement=placement)
        assert decision.reason != "dismissed"


@given(
    st.lists(campaigns(), min_size=1, max_size=4, unique_by=slug),
    st.integers(0, 1000),
    articles,
    readers,
    nows,
    placements,
)
def test_an_excluded_section_never_shows_an_appeal(
    cs, count, article, reader, now, placement
) -> None:
    everywhere_excluded = [
        CampaignSpec(**{**c.__dict__, "exclude_sections": c.exclude_sections | {article.section}})
        for c in cs
    ]
    decision = decide_appeal(everywhere_excluded, count, article, reader, now, placement=placement)
    assert not decision.show


@given(
    st.lists(campaigns(), max_size=4, unique_by=slug),
    st.integers(0, 1000),
    articles,
    readers,
    nows,
    placements,
)
def test_a_shown_appeal_is_complete_and_its_campaign_eligible(
    cs, count, article, reader, now, placement
) -> None:
    decision = decide_appeal(cs, count, article, reader, now, placement=placement)
    if not decision.show:
        assert decision.copy is None
        return
    chosen = next(c for c in cs if c.slug == decision.campaign)
    assert article.section not in chosen.exclude_sections
    assert not article.tags & chosen.exclude_tags
    assert reader.articles_read >= chosen.min_articles_read
    assert chosen.starts_at is None or chosen.starts_at <= now
    assert chosen.ends_at is None or now < chosen.ends_at
    assert decision.copy is not None and "{supporters}" not in decision.copy.body
    assert any(v.key == decision.variant and v.weight > 0 for v in chosen.variants)


weighted_variants = st.lists(
    st.builds(VariantSpec, key=st.text("abcxyz", min_size=1, max_size=4), weight=st.integers(0, 9)),
    min_size=1,
    max_size=4,
    unique_by=lambda v: v.key,
)


@given(weighted_variants, st.text(max_size=20), st.text("abc-", min_size=1, max_size=10))
def test_bucketing_is_stable_and_ignores_the_order_of_variants(variants, reader, slug) -> None:
    first = choose_variant(variants, reader, slug)
    assert choose_variant(variants, reader, slug) == first
    assert choose_variant(list(reversed(variants)), reader, slug) == first
    if first is not None:
        assert first.weight > 0


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=2, max_size=4).filter(lambda ws: sum(ws) > 0))
def test_bucketing_follows_the_weights(weights: list[int]) -> None:
    variants = [VariantSpec(f"v{i}", w) for i, w in enumerate(weights)]
    readers_n = 6000
    seen = Counter(choose_variant(variants, f"reader-{i}", "spring").key for i in range(readers_n))
    total = sum(weights)
    for variant in variants:
        expected = readers_n * variant.weight / total
        # Five standard deviations of a binomial: fails by chance about once in 3 million.
        tolerance = 5 * (readers_n * (variant.weight / total) * (1 - variant.weight / total)) ** 0.5
        assert abs(seen[variant.key] - expected) <= tolerance + 1


def test_the_same_reader_may_land_in_different_variants_of_different_campaigns() -> None:
    variants = [VariantSpec("a", 1), VariantSpec("b", 1)]
    picks = {choose_variant(variants, "reader-7", f"campaign-{i}").key for i in range(20)}
    assert picks == {"a", "b"}


def test_top_and_bottom_show_the_same_variant_to_a_reader() -> None:
    spec = campaign(variants=(VariantSpec("a", 1, BOTH), VariantSpec("b", 1, BOTH)))
    for i in range(30):
        reader = ReaderState(reader_id=str(i))
        top = decide([spec], reader=reader, placement="top")
        bottom = decide([spec], reader=reader, placement="bottom")
        assert top.variant == bottom.variant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{supporters} readers give.", "Over 5,400 readers give."),
        ("Already {supporters} readers give.", "Already over 5,400 readers give."),
        ("Thanks! {supporters} of you. Goal: {goal}.", "Thanks! Over 5,400 of you. Goal: 6,000."),
        ("{goal} is the goal", "6,000 is the goal"),
        ("Keep {braces} alone", "Keep {braces} alone"),
    ],
)
def test_fill_capitalises_a_count_that_starts_a_sentence(text: str, expected: str) -> None:
    assert fill(text, "over 5,400", "6,000") == expected
