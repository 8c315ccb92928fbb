"""Staff reports: every number is one aggregate query in SQL, portable SQLite/PostgreSQL.

Time buckets (months, weeks) are CASE expressions over one indexed range scan rather than
dialect-specific date functions, so the same SQL runs on both backends. Python only adds
up the handful of rows the database returns (a few per currency or campaign).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from service.appeals.models import AppealCounter
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger.models import (
    CheckoutAttempt,
    Donation,
    DonationStatus,
    Frequency,
    MonthlyDonation,
    MonthlyStatus,
    Supporter,
)
from service.ledger.supporters import count_supporters, describe_count, display_count

MONTHS = 12
WEEKS = 12
# Below this many impressions per variant an A/B difference is not worth testing.
MIN_IMPRESSIONS_FOR_TEST = 1000
MIN_CONVERSIONS_FOR_TEST = 10
SIGNIFICANCE_LEVEL = 0.05
DISPUTED_STATUSES = (DonationStatus.DISPUTED, DonationStatus.DISPUTE_LOST)

DEFINITIONS = {
    "mrr": "Monthly recurring revenue: the sum of the monthly amounts of active monthly "
    "gifts. Past-due gifts are left out and shown as at risk.",
    "one_off": "One-off revenue: one-off donations by the date they were paid (UTC). Net is "
    "gross minus refunds and minus donations under dispute or lost to a dispute.",
    "new_supporters": "New supporters: people whose first successful gift fell in that week "
    "(weeks start on Monday, UTC).",
    "cancellations": "Cancellations: monthly gifts cancelled in that week, whoever cancelled.",
    "at_risk": "At risk: monthly gifts whose latest renewal failed (past due); Stripe retries "
    "the card, and they still count as supporters until the gift is cancelled.",
    "refunds": "Refunds and disputes in the last 12 months, by the date they happened.",
    "funnel": "Impressions and clicks come from the widget's beacons; checkouts started are "
    "Stripe Checkout sessions we created; donations completed are one-off donations plus "
    "monthly gifts started, each attributed to the appeal the reader came from.",
}


@dataclass(frozen=True)
class SupporterSummary:
    count: int
    display: str
    definition: str


@dataclass(frozen=True)
class MonthlyRow:
    currency: str
    active: int
    mrr_minor: int
    past_due: int
    past_due_minor: int


@dataclass(frozen=True)
class OneOffRow:
    currency: str
    month_count: int
    month_gross_minor: int
    month_net_minor: int
    year_count: int
    year_gross_minor: int
    year_net_minor: int
    # Net one-off revenue per calendar month, oldest first (MONTHS entries).
    by_month_minor: tuple[int, ...]


@dataclass(frozen=True)
class RefundDisputeRow:
    currency: str
    refunds: int
    refunded_minor: int
    disputes: int
    disputed_minor: int
    disputes_lost: int


@dataclass(frozen=True)
class WeeklyTrend:
    week_starts: tuple[date, ...]
    new_supporters: tuple[int, ...]
    cancellations: tuple[int, ...]


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    supporters: SupporterSummary
    monthly: list[MonthlyRow]
    one_off: list[OneOffRow]
    month_labels: tuple[str, ...]
    refunds_disputes: list[RefundDisputeRow]
    weekly: WeeklyTrend
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))


def month_starts(now: datetime, months: int = MONTHS) -> list[datetime]:
    """First instants of the last `months` calendar months (UTC), oldest first, and the next."""
    year, month = now.year, now.month
    starts = []
    for back in range(months - 1, -2, -1):
        index = year * 12 + (month - 1) - back
        starts.append(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC))
    return starts


def week_starts(now: datetime, weeks: int = WEEKS) -> list[datetime]:
    """Mondays 00:00 UTC of the last `weeks` weeks, oldest first, plus the next Monday."""
    today = now.astimezone(UTC).date()
    this_monday = datetime.combine(today - timedelta(days=today.weekday()), datetime.min.time())
    this_monday = this_monday.replace(tzinfo=UTC)
    return [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -2, -1)]


def _bucket_sums(column: Any, edges: list[datetime], value: Any = 1) -> list[ColumnElement[Any]]:
    """One SUM(CASE …) per bucket [edges[i], edges[i+1]); portable across backends."""
    return [
        func.coalesce(
            func.sum(case((and_(column >= low, column < high), value), else_=0)), 0
        ).label(f"b{i}")
        for i, (low, high) in enumerate(itertools.pairwise(edges))
    ]


def summarise_supporters(session: Session, settings: Settings, now: datetime) -> SupporterSummary:
    """The supporter count, its display form and its definition."""
    count = count_supporters(session, settings, now)
    return SupporterSummary(count, display_count(count), describe_count(settings))


def summarise_monthly(session: Session) -> list[MonthlyRow]:
    """Active and past-due monthly gifts and their monthly amounts, per currency."""
    is_active = MonthlyDonation.status == MonthlyStatus.ACTIVE
    is_past_due = MonthlyDonation.status == MonthlyStatus.PAST_DUE
    rows = session.execute(
        select(
            MonthlyDonation.currency,
            func.sum(case((is_active, 1), else_=0)),
            func.sum(case((is_active, MonthlyDonation.amount_minor), else_=0)),
            func.sum(case((is_past_due, 1), else_=0)),
            func.sum(case((is_past_due, MonthlyDonation.amount_minor), else_=0)),
        )
        .where(MonthlyDonation.status.in_([MonthlyStatus.ACTIVE, MonthlyStatus.PAST_DUE]))
        .group_by(MonthlyDonation.currency)
        .order_by(MonthlyDonation.currency)
    ).all()
    return [MonthlyRow(c, int(a), int(m), int(p), int(pm)) for c, a, m, p, pm in rows]


def _net_amount() -> ColumnElement[Any]:
    """A donation's amount after refunds; nothing while disputed or after a lost dispute."""
    return case(
        (Donation.status.in_(DISPUTED_STATUSES), 0),
        else_=Donation.amount_minor - Donation.amount_refunded_minor,
    )


def _bucket_index(column: Any, edges: list[datetime]) -> ColumnElement[Any]:
    """Which bucket [edges[i], edges[i+1]) a row falls in, as one portable CASE."""
    return case(
        *[(column >= start, index) for index, start in reversed(list(enumerate(edges[:-1])))],
        else_=-1,
    )


def summarise_one_off(session: Session, now: datetime) -> tuple[list[OneOffRow], tuple[str, ...]]:
    """One-off revenue this month, over the last 12 calendar months and per month."""
    edges = month_starts(now)
    month = _bucket_index(Donation.paid_at, edges).label("month")
    # One row per currency and month (at most 12 per currency): the database does the
    # per-donation work once, and the totals below add up those few aggregates.
    rows = session.execute(
        select(
            Donation.currency,
            month,
            func.count(),
            func.sum(Donation.amount_minor),
            func.sum(_net_amount()),
        )
        # paid_at leads ix_donations_paid_at_amounts, which covers every column used
        # here, so this is one index-only range scan.
        .where(Donation.paid_at >= edges[0], Donation.paid_at < edges[-1])
        .where(Donation.frequency == Frequency.ONE_OFF)
        .group_by(Donation.currency, month)
    ).all()
    months = len(edges) - 1
    totals: dict[str, list[list[int]]] = {}
    for currency, index, count, gross, net in rows:
        per_month = totals.setdefault(currency, [[0] * months for _ in range(3)])
        per_month[0][index] = int(count or 0)
        per_month[1][index] = int(gross or 0)
        per_month[2][index] = int(net or 0)
    labels = tuple(start.strftime("%b %Y") for start in edges[:-1])
    result = [
        OneOffRow(
            currency=currency,
            month_count=counts[-1],
            month_gross_minor=gross[-1],
            month_net_minor=net[-1],
            year_count=sum(counts),
            year_gross_minor=sum(gross),
            year_net_minor=sum(net),
            by_month_minor=tuple(net),
        )
        for currency, (counts, gross, net) in sorted(totals.items())
    ]
    return result, labels


def summarise_refunds_disputes(session: Session, now: datetime) -> list[RefundDisputeRow]:
    """Refunds and disputes that happened in the last 12 calendar months, per currency."""
    since = month_starts(now)[0]
    refunded = Donation.refunded_at >= since
    disputed = Donation.disputed_at >= since
    rows = session.execute(
        select(
            Donation.currency,
            func.sum(case((refunded, 1), else_=0)),
            func.sum(case((refunded, Donation.amount_refunded_minor), else_=0)),
            func.sum(case((disputed, 1), else_=0)),
            func.sum(case((disputed, Donation.amount_minor), else_=0)),
            func.sum(
                case((and_(disputed, Donation.status == DonationStatus.DISPUTE_LOST), 1), else_=0)
            ),
        )
        .where(refunded | disputed)
        .group_by(Donation.currency)
        .order_by(Donation.currency)
    ).all()
    return [
        RefundDisputeRow(c, int(r), int(rm), int(d), int(dm), int(dl))
        for c, r, rm, d, dm, dl in rows
    ]


def summarise_weeks(session: Session, now: datetime) -> WeeklyTrend:
    """New supporters and monthly cancellations per week over the last 12 weeks."""
    edges = week_starts(now)
    new = session.execute(
        select(*_bucket_sums(Supporter.first_supported_at, edges)).where(
            Supporter.first_supported_at >= edges[0], Supporter.first_supported_at < edges[-1]
        )
    ).one()
    cancelled = session.execute(
        select(*_bucket_sums(MonthlyDonation.canceled_at, edges)).where(
            MonthlyDonation.canceled_at >= edges[0], MonthlyDonation.canceled_at < edges[-1]
        )
    ).one()
    return WeeklyTrend(
        week_starts=tuple(start.date() for start in edges[:-1]),
        new_supporters=tuple(int(v or 0) for v in new),
        cancellations=tuple(int(v or 0) for v in cancelled),
    )


def build_dashboard(session: Session, settings: Settings, now: datetime | None = None) -> Dashboard:
    """Every number on the staff dashboard."""
    now = now or utcnow()
    one_off, labels = summarise_one_off(session, now)
    return Dashboard(
        now=now,
        supporters=summarise_supporters(session, settings, now),
        monthly=summarise_monthly(session),
        one_off=one_off,
        month_labels=labels,
        refunds_disputes=summarise_refunds_disputes(session, now),
        weekly=summarise_weeks(session, now),
    )


# Campaign performance -------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelRow:
    campaign: str
    variant: str
    placement: str
    impressions: int
    clicks: int
    checkouts: int
    completed: int

    @property
    def click_rate(self) -> float | None:
        return _rate(self.clicks, self.impressions)

    @property
    def checkout_rate(self) -> float | None:
        return _rate(self.checkouts, self.clicks)

    @property
    def completion_rate(self) -> float | None:
        return _rate(self.completed, self.checkouts)

    @property
    def conversion_rate(self) -> float | None:
        """Donations completed per impression: what the appeal is for."""
        return _rate(self.completed, self.impressions)


@dataclass(frozen=True)
class VariantComparison:
    variant: str
    control: str
    rate: float | None
    control_rate: float | None
    p_value: float | None
    significant: bool
    note: str


@dataclass(frozen=True)
class CampaignPerformance:
    campaign: str
    total: FunnelRow
    variants: list[FunnelRow]
    rows: list[FunnelRow]
    comparisons: list[VariantComparison]


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def funnel_rows(session: Session, since: datetime) -> list[FunnelRow]:
    """Impressions → clicks → checkouts → donations per campaign, variant and placement."""
    # Each branch is grouped before the union, so the union holds a few rows per
    # campaign rather than one per checkout and donation (which spilled sorts to disk).
    zero = literal(0)

    def keys(model: Any) -> list[Any]:
        return [
            model.campaign,
            func.coalesce(model.variant, "").label("variant"),
            func.coalesce(model.placement, "").label("placement"),
        ]

    counter_keys = keys(AppealCounter)
    counters = (
        select(
            *counter_keys,
            func.sum(AppealCounter.impressions).label("impressions"),
            func.sum(AppealCounter.clicks).label("clicks"),
            zero.label("checkouts"),
            zero.label("completed"),
        )
        .where(AppealCounter.campaign.is_not(None), AppealCounter.day >= since.date())
        .group_by(*counter_keys)
    )
    attempt_keys = keys(CheckoutAttempt)
    attempts = (
        select(*attempt_keys, zero, zero, func.count(), zero)
        .where(CheckoutAttempt.campaign.is_not(None), CheckoutAttempt.created_at >= since)
        .group_by(*attempt_keys)
    )
    donation_keys = keys(Donation)
    one_offs = (
        select(*donation_keys, zero, zero, zero, func.count())
        .where(
            Donation.campaign.is_not(None),
            Donation.paid_at >= since,
            Donation.frequency == Frequency.ONE_OFF,
        )
        .group_by(*donation_keys)
    )
    # A monthly gift completes once, when it starts; its renewals are not new conversions.
    monthly_keys = keys(MonthlyDonation)
    monthlies = (
        select(*monthly_keys, zero, zero, zero, func.count())
        .where(MonthlyDonation.campaign.is_not(None), MonthlyDonation.started_at >= since)
        .group_by(*monthly_keys)
    )
    events = union_all(counters, attempts, one_offs, monthlies).subquery("events")
    rows = session.execute(
        select(
            events.c.campaign,
            events.c.variant,
            events.c.placement,
            func.sum(events.c.impressions),
            func.sum(events.c.clicks),
            func.sum(events.c.checkouts),
            func.sum(events.c.completed),
        )
        .group_by(events.c.campaign, events.c.variant, events.c.placement)
        .order_by(events.c.campaign, events.c.variant, events.c.placement)
    ).all()
    return [
        FunnelRow(c, v, p, int(i or 0), int(cl or 0), int(ch or 0), int(co or 0))
        for c, v, p, i, cl, ch, co in rows
    ]


def two_proportion_p_value(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> float | None:
    """Two-sided p-value of a two-proportion z-test (pooled); None when undefined."""
    if not trials_a or not trials_b:
        return None
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    variance = pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b)
    if variance <= 0:
        return None
    z = (successes_a / trials_a - successes_b / trials_b) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))


def compare_variants(variant: FunnelRow, control: FunnelRow) -> VariantComparison:
    """Say honestly whether a variant's conversion differs from the control's."""
    rate, control_rate = variant.conversion_rate, control.conversion_rate
    p_value = two_proportion_p_value(
        variant.completed, variant.impressions, control.completed, control.impressions
    )
    enough_views = min(variant.impressions, control.impressions) >= MIN_IMPRESSIONS_FOR_TEST
    enough_conversions = variant.completed + control.completed >= MIN_CONVERSIONS_FOR_TEST
    significant = bool(
        enough_views and enough_conversions and p_value is not None and p_value < SIGNIFICANCE_LEVEL
    )
    if not enough_views:
        note = (
            f"Not significant yet: too few views to tell (each variant needs at least "
            f"{MIN_IMPRESSIONS_FOR_TEST:,} impressions)."
        )
    elif not enough_conversions or p_value is None:
        note = (
            f"Not significant yet: too few donations to tell (at least "
            f"{MIN_CONVERSIONS_FOR_TEST} between the two variants)."
        )
    elif significant:
        better = "better" if (rate or 0) > (control_rate or 0) else "worse"
        note = (
            f"Variant {variant.variant} converts {better} than {control.variant} "
            f"(p = {p_value:.3f}, significant at 95%)."
        )
    else:
        note = f"Not significant yet (p = {p_value:.2f}): the difference may be chance."
    return VariantComparison(
        variant=variant.variant,
        control=control.variant,
        rate=rate,
        control_rate=control_rate,
        p_value=p_value,
        significant=significant,
        note=note,
    )


def _sum_rows(campaign: str, variant: str, placement: str, rows: list[FunnelRow]) -> FunnelRow:
    return FunnelRow(
        campaign,
        variant,
        placement,
        sum(r.impressions for r in rows),
        sum(r.clicks for r in rows),
        sum(r.checkouts for r in rows),
        sum(r.completed for r in rows),
    )


def campaign_performance(session: Session, since: datetime) -> list[CampaignPerformance]:
    """The funnel per campaign with per-variant totals and A/B notes (control = first)."""
    # Grouping the already-aggregated rows (a few per campaign) is cheap; the heavy
    # lifting happened in funnel_rows' single SQL query.
    by_campaign: dict[str, list[FunnelRow]] = {}
    for row in funnel_rows(session, since):
        by_campaign.setdefault(row.campaign, []).append(row)
    result = []
    for campaign, rows in by_campaign.items():
        variant_keys = sorted({r.variant for r in rows})
        variants = [
            _sum_rows(campaign, key, "all", [r for r in rows if r.variant == key])
            for key in variant_keys
        ]
        shown = [v for v in variants if v.variant]
        comparisons = [compare_variants(v, shown[0]) for v in shown[1:]] if len(shown) > 1 else []
        result.append(
            CampaignPerformance(
                campaign=campaign,
                total=_sum_rows(campaign, "all", "all", rows),
                variants=variants,
                rows=rows,
                comparisons=comparisons,
            )
        )
    return result


# Supporter and donation lists (pages and CSV share the same filtered statements) ---------

PAGE_SIZE = 50


@dataclass(frozen=True)
class DonationFilters:
    q: str = ""
    frequency: str = ""
    status: str = ""
    currency: str = ""
    campaign: str = ""
    paid_from: date | None = None
    paid_to: date | None = None


@dataclass(frozen=True)
class SupporterFilters:
    q: str = ""
    # "supporting", "lapsed" or "" for everyone.
    state: str = ""


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def donations_statement(filters: DonationFilters) -> Any:
    """Donations matching the filters, newest first (a Select of Donation)."""
    stmt = select(Donation)
    if filters.q:
        q = filters.q.strip()
        stmt = stmt.where(
            func.lower(Donation.email).like(_like(q), escape="\\")
            | (Donation.stripe_charge_id == q)
            | (Donation.stripe_payment_intent_id == q)
            | (Donation.stripe_customer_id == q)
            | (Donation.stripe_invoice_id == q)
        )
    if filters.frequency:
        stmt = stmt.where(Donation.frequency == Frequency(filters.frequency))
    if filters.status:
        stmt = stmt.where(Donation.status == DonationStatus(filters.status))
    if filters.currency:
        stmt = stmt.where(Donation.currency == filters.currency)
    if filters.campaign:
        stmt = stmt.where(Donation.campaign == filters.campaign)
    if filters.paid_from:
        stmt = stmt.where(Donation.paid_at >= _day_start(filters.paid_from))
    if filters.paid_to:
        stmt = stmt.where(Donation.paid_at < _day_start(filters.paid_to + timedelta(days=1)))
    return stmt.order_by(Donation.paid_at.desc(), Donation.id.desc())


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def supporters_statement(filters: SupporterFilters, now: datetime) -> Any:
    """Supporters with their gift count and last gift, newest first (one grouped query)."""
    # Correlated subqueries use ix_donations_supporter_paid_at per listed supporter, so a
    # page costs the same at a million donations as at a thousand.
    gifts = (
        select(func.count())
        .where(Donation.supporter_id == Supporter.id)
        .correlate(Supporter)
        .scalar_subquery()
    )
    last_paid_at = (
        select(func.max(Donation.paid_at))
        .where(Donation.supporter_id == Supporter.id)
        .correlate(Supporter)
        .scalar_subquery()
    )
    monthly_gifts = (
        select(func.count())
        .where(
            MonthlyDonation.supporter_id == Supporter.id,
            MonthlyDonation.status.in_([MonthlyStatus.ACTIVE, MonthlyStatus.PAST_DUE]),
        )
        .correlate(Supporter)
        .scalar_subquery()
    )
    stmt = select(
        Supporter,
        gifts.label("gifts"),
        last_paid_at.label("last_paid_at"),
        monthly_gifts.label("monthly_gifts"),
    )
    if filters.q:
        stmt = stmt.where(func.lower(Supporter.email).like(_like(filters.q.strip()), escape="\\"))
    if filters.state == "supporting":
        stmt = stmt.where(Supporter.supported_until > now)
    elif filters.state == "lapsed":
        stmt = stmt.where((Supporter.supported_until <= now) | Supporter.supported_until.is_(None))
    # Newest first by id (the creation order), which the primary key serves without a sort.
    return stmt.order_by(Supporter.id.desc())


def page_of(session: Session, stmt: Any, page: int, scalars: bool) -> tuple[list[Any], bool]:
    """One page of a statement and whether another follows (no COUNT over the table)."""
    page = max(page, 1)
    result = session.execute(stmt.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE))
    rows = list(result.scalars() if scalars else result.all())
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
