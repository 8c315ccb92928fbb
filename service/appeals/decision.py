"""Decide whether an appeal shows on an article page view, which one, where, and why.

A pure function of campaigns, the supporter count, the article and the reader's state:
it imports neither Flask nor the database, so it is cheap to call on every page view and
easy to test exhaustively. Reader state lives in the reader's browser, never with us.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from service.appeals.social_proof import fill

# Where a box can go, and the format each place belongs to: the inline boxes above and
# below the story, a sticky banner at the bottom of the screen, a button in the header.
PLACEMENTS: Final = ("top", "bottom", "banner", "header")
FORMAT_OF: Final[Mapping[str, str]] = {
    "top": "inline",
    "bottom": "inline",
    "banner": "banner",
    "header": "header",
}
FORMATS: Final = ("inline", "banner", "header")
GOAL_BEHAVIOURS: Final = ("hide", "thank_you", "next_goal")
# Targeting values the widget reports; a campaign that lists none of a kind takes all.
DEVICES: Final = ("phone", "desktop")
REFERRERS: Final = ("search", "social", "newsletter", "direct", "other")
# Current supporters see a campaign only when it lists "current" (thank-you copy);
# a reader whose state is unknown counts as never having given.
DONOR_STATES: Final = ("never", "current", "lapsed")

Reason = Literal[
    "shown",
    "goal_thank_you",
    "supporter",
    "dismissed",
    "no_campaign",
    "outside_dates",
    "excluded",
    "not_targeted",
    "below_article_threshold",
    "frequency_capped",
    "goal_reached",
    "format_not_chosen",
    "no_variant",
    "no_copy",
    "unavailable",
]

# When no campaign shows, the reason reported is the most telling one: the reader's own
# choices first, then the article's targeting, then the campaign's state.
_REASON_RANK: Final[dict[str, int]] = {
    "supporter": 0,
    "excluded": 1,
    "not_targeted": 2,
    "below_article_threshold": 3,
    "frequency_capped": 4,
    "goal_reached": 5,
    "format_not_chosen": 6,
    "no_copy": 7,
    "no_variant": 8,
    "outside_dates": 9,
}


@dataclass(frozen=True)
class Copy:
    """Heading, body and call to action; the body may hold {supporters} and {goal}."""

    heading: str
    body: str
    cta: str


@dataclass(frozen=True)
class VariantSpec:
    """One A/B variant: its key, its weight and its copy per placement."""

    key: str
    weight: int
    copies: Mapping[str, Copy] = field(default_factory=dict)
    # Per language, per placement: the copy staff translated (others fall back).
    translations: Mapping[str, Mapping[str, Copy]] = field(default_factory=dict)
    # The asks staff set per currency (service.appeals.asks.Asks, kept out of the
    # decision's imports); a currency left out offers its defaults.
    asks: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignSpec:
    """A campaign as the decision sees it: plain values, no database row."""

    slug: str
    name: str = ""
    priority: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    goal: int | None = None
    goal_behaviour: str = "thank_you"
    goal_step: int | None = None
    thank_you: Copy | None = None
    include_sections: frozenset[str] = frozenset()
    exclude_sections: frozenset[str] = frozenset()
    include_tags: frozenset[str] = frozenset()
    exclude_tags: frozenset[str] = frozenset()
    min_articles_read: int = 0
    variants: tuple[VariantSpec, ...] = ()
    formats: frozenset[str] = frozenset({"inline"})
    # At most max_views page views with this campaign per views_days days, and none
    # after the reader closed it max_dismissals times (None: no cap).
    max_views: int | None = None
    views_days: int = 30
    max_dismissals: int | None = None
    devices: frozenset[str] = frozenset()
    referrers: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    donor_states: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ArticleContext:
    """What the publisher's page says about the article (sections and tags lowercased)."""

    article_id: str = ""
    section: str = ""
    tags: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, article_id: str = "", section: str = "", tags: Iterable[str] = ()
    ) -> ArticleContext:
        """Build a context with section and tags normalised as campaigns store them."""
        return cls(article_id, normalise(section), frozenset(normalise(t) for t in tags if t))


@dataclass(frozen=True)
class ReaderState:
    """What the reader's browser remembers: all of it stays in the browser."""

    reader_id: str = ""
    supporter: bool = False
    dismissed_until: datetime | None = None
    articles_read: int = 0
    device: str = ""
    referrer: str = ""
    country: str = ""
    donor_state: str = ""
    # Per campaign slug: when this browser showed it, and how often the reader closed it.
    views: Mapping[str, Sequence[datetime]] = field(default_factory=dict)
    dismissals: Mapping[str, int] = field(default_factory=dict)

    @property
    def donor(self) -> str:
        """never, current or lapsed (unknown counts as never)."""
        return "current" if self.supporter else (self.donor_state or "never")


@dataclass(frozen=True)
class AppealDecision:
    """Show or not, with what, and a reason code that explains the answer."""

    show: bool
    reason: Reason
    placement: str
    campaign: str | None = None
    variant: str | None = None
    copy: Copy | None = None
    goal: int | None = None
    supporters: int = 0
    supporters_display: str = "0"


def normalise(label: str) -> str:
    """Lowercase and trim a section or tag so targeting is case-insensitive."""
    return label.strip().lower()


def exact_count(count: int) -> str:
    """Format a number with thousands separators (the default count display)."""
    return f"{count:,}"


def decide_appeal(
    campaigns: Iterable[CampaignSpec],
    supporter_count: int,
    article: ArticleContext,
    reader: ReaderState,
    now: datetime,
    *,
    placement: str = "top",
    display: Callable[[int], str] = exact_count,
) -> AppealDecision:
    """Decide the appeal for one placement of one article page view."""
    shown_count = display(supporter_count)

    def no(reason: Reason, campaign: str | None = None) -> AppealDecision:
        return AppealDecision(
            show=False,
            reason=reason,
            placement=placement,
            campaign=campaign,
            supporters=supporter_count,
            supporters_display=shown_count,
        )

    ordered = sorted(campaigns, key=lambda c: (-c.priority, c.slug))
    if reader.donor == "current" and not any("current" in c.donor_states for c in ordered):
        return no("supporter")
    if reader.dismissed_until is not None and reader.dismissed_until > now:
        return no("dismissed")
    if not ordered:
        return no("no_campaign")

    best_refusal: tuple[int, Reason, str] | None = None
    for campaign in ordered:
        reason = _refusal(campaign, supporter_count, article, reader, now)
        if reason is None and FORMAT_OF.get(placement) not in campaign.formats:
            reason = "format_not_chosen"
        variant = None
        if reason is None:
            variant = choose_variant(campaign.variants, reader.reader_id, campaign.slug)
            if variant is None:
                reason = "no_variant"
            elif placement not in variant.copies:
                reason = "no_copy"
        if reason is None and variant is not None:
            return shown_appeal(campaign, variant, placement, supporter_count, shown_count)
        assert reason is not None
        refusal = (_REASON_RANK[reason], reason, campaign.slug)
        if best_refusal is None or refusal[0] < best_refusal[0]:
            best_refusal = refusal
    assert best_refusal is not None
    _, reason, slug = best_refusal
    return no(reason, None if reason == "outside_dates" else slug)


def _refusal(
    campaign: CampaignSpec,
    supporter_count: int,
    article: ArticleContext,
    reader: ReaderState,
    now: datetime,
) -> Reason | None:
    """Why this campaign does not show on this page view, or None when it may."""
    if campaign.starts_at is not None and now < campaign.starts_at:
        return "outside_dates"
    if campaign.ends_at is not None and now >= campaign.ends_at:
        return "outside_dates"
    donor = reader.donor
    if donor not in (campaign.donor_states or {"never", "lapsed"}):
        return "supporter" if donor == "current" else "not_targeted"
    if article.section in campaign.exclude_sections or article.tags & campaign.exclude_tags:
        return "excluded"
    if campaign.include_sections and article.section not in campaign.include_sections:
        return "not_targeted"
    if campaign.include_tags and not article.tags & campaign.include_tags:
        return "not_targeted"
    for wanted, value in (
        (campaign.devices, reader.device),
        (campaign.referrers, reader.referrer),
        (campaign.countries, reader.country.upper()),
    ):
        if wanted and value not in wanted:
            return "not_targeted"
    if reader.articles_read < campaign.min_articles_read:
        return "below_article_threshold"
    if campaign.max_views is not None:
        since = now - timedelta(days=campaign.views_days)
        if sum(1 for t in reader.views.get(campaign.slug, ()) if t > since) >= campaign.max_views:
            return "frequency_capped"
    if (
        campaign.max_dismissals is not None
        and reader.dismissals.get(campaign.slug, 0) >= campaign.max_dismissals
    ):
        return "frequency_capped"
    if goal_reached_hides(campaign, supporter_count):
        return "goal_reached"
    return None


def goal_reached_hides(campaign: CampaignSpec, supporter_count: int) -> bool:
    """True when the campaign's goal is reached and it says to stop showing then."""
    return (
        campaign.goal is not None
        and campaign.goal_behaviour == "hide"
        and current_goal(campaign, supporter_count) is None
    )


def current_goal(campaign: CampaignSpec, supporter_count: int) -> int | None:
    """The goal to show, or None once a goal without a next step has been reached.

    With next_goal the goal climbs by goal_step until it is above the count, so the
    reader always sees a goal still to reach.
    """
    goal = campaign.goal
    if goal is None or supporter_count < goal:
        return goal
    step = campaign.goal_step or 0
    if campaign.goal_behaviour == "next_goal" and step > 0:
        return goal + ((supporter_count - goal) // step + 1) * step
    return None


def shown_appeal(
    campaign: CampaignSpec,
    variant: VariantSpec,
    placement: str,
    supporter_count: int,
    shown_count: str,
    number: Callable[[int], str] | None = None,
) -> AppealDecision:
    """The decision when this campaign's variant shows at this placement (copy filled).

    `number` writes the goal in the reader's language (exact_count's "1,000" by default).
    """
    copy = variant.copies[placement]
    goal = current_goal(campaign, supporter_count)
    reason: Reason = "shown"
    if campaign.goal is not None and goal is None:
        # Reached, and the campaign says thank you instead of asking toward a goal.
        goal = campaign.goal
        if campaign.thank_you is not None:
            copy = Copy(campaign.thank_you.heading, campaign.thank_you.body, copy.cta)
        reason = "goal_thank_you"
    goal_text = (number or exact_count)(goal) if goal is not None else ""
    filled = Copy(
        heading=fill(copy.heading, shown_count, goal_text, count=supporter_count),
        body=fill(copy.body, shown_count, goal_text, count=supporter_count),
        cta=fill(copy.cta, shown_count, goal_text, count=supporter_count),
    )
    return AppealDecision(
        show=True,
        reason=reason,
        placement=placement,
        campaign=campaign.slug,
        variant=variant.key,
        copy=filled,
        goal=goal,
        supporters=supporter_count,
        supporters_display=shown_count,
    )


def bucket_of(reader_id: str, campaign_slug: str, total_weight: int) -> int:
    """A stable number in [0, total_weight) for this reader in this campaign."""
    digest = hashlib.sha256(f"{campaign_slug}\x00{reader_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total_weight


def choose_variant(
    variants: Iterable[VariantSpec], reader_id: str, campaign_slug: str
) -> VariantSpec | None:
    """Pick a variant by weight, the same one every time for the same reader."""
    weighted = sorted((v for v in variants if v.weight > 0), key=lambda v: v.key)
    total = sum(v.weight for v in weighted)
    if total == 0:
        return None
    point = bucket_of(reader_id, campaign_slug, total)
    for variant in weighted:
        if point < variant.weight:
            return variant
        point -= variant.weight
    raise AssertionError("unreachable: the point is below the total weight")
