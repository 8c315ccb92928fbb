"""Staff report queries at 10,000 and at 1,000,000 donations on PostgreSQL.

    python -m bench.reports_bench [--server postgresql://postgres@127.0.0.1:5432/postgres]
                                  [--scales 10000,1000000] [--explain]

Creates (and at the end drops) a database of its own, `bench_reports_<random>`, next to
the server URL (never one that exists already, so no one else's is dropped),
migrates it with Alembic so the indexes are exactly the models', fills it with set-based
SQL (INSERT … SELECT generate_series; one supporter per five donations, a fifth of them
with a monthly gift), ANALYZEs, and times every query the dashboard, the campaign page
and the lists run, through the same functions the views call. With --explain it prints
PostgreSQL's plan for every statement of the queries slower than 50 ms.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service.core.db import build_engine
from service.core.migrations import upgrade_database
from service.core.models import utcnow
from service.core.settings import Settings
from service.ledger import Payout
from service.staff import reports
from service.staff.reports import trends

# A name of this run's own: a fixed name would drop whatever another run left there.
DATABASE = f"bench_reports_{secrets.token_hex(4)}"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
REPEATS = 5
SLOW_MS = 50.0
# Every staff report view answers within this at 1M donations (issue 15).
TARGET_MS = 300.0
# Timed too, but a background job's query, not a page: no page waits on it.
JOB_SNAPSHOT = "trend snapshot of one day (the daily job, not a page)"

FILL = [
    # Supporters: a fifth are monthly (supported "forever"), most others within the window.
    """
    INSERT INTO supporters (email, supported_until, first_supported_at, created_at)
    SELECT 'reader' || g || '@mail.example',
           CASE WHEN g % 5 = 0 THEN TIMESTAMPTZ '9999-12-31 00:00+00'
                ELSE now() + (random() * 730 - 365) * INTERVAL '1 day' END,
           now() - random() * INTERVAL '730 days',
           now() - random() * INTERVAL '730 days'
    FROM generate_series(1, :supporters) AS g
    """,
    # Monthly gifts: one per fifth supporter; 75% active, 5% past due, 20% cancelled.
    """
    INSERT INTO monthly_donations (stripe_subscription_id, stripe_customer_id, supporter_id,
        status, amount_minor, currency, cancel_at_period_end, started_at, canceled_at,
        campaign, variant, placement, created_at, updated_at)
    SELECT 'sub_bench_' || g, 'cus_bench_' || g * 5, g * 5,
           CASE WHEN r < 0.75 THEN 'active' WHEN r < 0.80 THEN 'past_due' ELSE 'canceled' END,
           (ARRAY[300, 500, 1000, 1500, 2000])[1 + floor(random() * 5)::int],
           CASE WHEN g % 10 < 8 THEN 'eur' WHEN g % 10 = 8 THEN 'gbp' ELSE 'usd' END,
           false,
           now() - random() * INTERVAL '700 days',
           CASE WHEN r >= 0.80 THEN now() - random() * INTERVAL '365 days' END,
           CASE WHEN c < 5 THEN 'campaign-' || c END,
           CASE WHEN c < 5 THEN (ARRAY['a', 'b'])[1 + g % 2] END,
           CASE WHEN c < 5 THEN (ARRAY['top', 'bottom'])[1 + (g / 2) % 2] END,
           now(), now()
    FROM (SELECT g, random() AS r, floor(random() * 8)::int AS c
          FROM generate_series(1, :supporters / 5) AS g) AS s
    """,
    # Donations over two years: 30% monthly payments, 2% refunded, 0.7% disputed.
    """
    INSERT INTO donations (frequency, status, supporter_id, monthly_donation_id, amount_minor,
        amount_refunded_minor, fee_minor, net_minor, currency, email, stripe_payment_intent_id,
        stripe_invoice_id, stripe_customer_id, campaign, variant, placement, paid_at,
        refunded_at, disputed_at, created_at, updated_at)
    SELECT CASE WHEN m THEN 'monthly' ELSE 'one_off' END,
           CASE WHEN r < 0.02 THEN 'refunded' WHEN r < 0.025 THEN 'disputed'
                WHEN r < 0.027 THEN 'dispute_lost' ELSE 'succeeded' END,
           CASE WHEN m THEN (1 + g % (:supporters / 5)) * 5 ELSE sup END,
           CASE WHEN m THEN 1 + g % (:supporters / 5) END,
           amount, CASE WHEN r < 0.02 THEN amount ELSE 0 END,
           amount * 15 / 1000 + 25, amount - (amount * 15 / 1000 + 25),
           CASE WHEN g % 10 < 8 THEN 'eur' WHEN g % 10 = 8 THEN 'gbp' ELSE 'usd' END,
           'reader' || sup || '@mail.example',
           CASE WHEN NOT m THEN 'pi_bench_' || g END,
           CASE WHEN m THEN 'in_bench_' || g END,
           'cus_bench_' || sup,
           CASE WHEN c < 5 THEN 'campaign-' || c END,
           CASE WHEN c < 5 THEN (ARRAY['a', 'b'])[1 + g % 2] END,
           CASE WHEN c < 5 THEN (ARRAY['top', 'bottom'])[1 + (g / 2) % 2] END,
           paid,
           CASE WHEN r < 0.02 THEN paid + INTERVAL '3 days' END,
           CASE WHEN r >= 0.02 AND r < 0.027 THEN paid + INTERVAL '10 days' END,
           paid, paid
    FROM (SELECT g, random() < 0.3 AS m, random() AS r,
                 1 + floor(random() * :supporters)::int AS sup,
                 (ARRAY[500, 1000, 2000, 2500, 5000, 10000])[1 + floor(random() * 6)::int]
                     AS amount,
                 floor(random() * 8)::int AS c,
                 now() - random() * INTERVAL '730 days' AS paid
          FROM generate_series(1, :donations) AS g) AS s
    """,
    # Payouts: one per currency every two days (the newest in transit, a few failed).
    """
    INSERT INTO payouts (stripe_payout_id, status, amount_minor, currency, arrival_at,
        stripe_created_at, automatic, stripe_state_at, contents_at, gifts, gifts_ours,
        gross_minor, refunds_minor, disputes_minor, fees_minor, other_minor, net_minor,
        created_at, updated_at)
    SELECT 'po_bench_' || cur || '_' || b,
           CASE WHEN b = 0 THEN 'in_transit' WHEN b % 97 = 5 THEN 'failed' ELSE 'paid' END,
           0, cur, date_trunc('day', now()) - (b * 2 - 2) * INTERVAL '1 day',
           now() - b * 2 * INTERVAL '1 day', true, now(), now(), 0, 0, 0, 0, 0, 0, 0, 0,
           now(), now()
    FROM generate_series(0, 365) AS b, unnest(ARRAY['eur', 'gbp', 'usd']) AS cur
    """,
    # What they paid out: every donation older than two days, in its currency's payout.
    """
    INSERT INTO payout_items (payout_id, stripe_balance_transaction_id, kind, type,
        reporting_category, amount_minor, fee_minor, net_minor, currency, donation_id,
        stripe_created_at)
    SELECT p.id, 'txn_bench_' || d.id, 'gift', 'charge', 'charge', d.amount_minor,
           d.fee_minor, d.net_minor, d.currency, d.id, d.paid_at
    FROM donations AS d
    JOIN payouts AS p ON p.stripe_payout_id = 'po_bench_' || d.currency || '_'
        || (floor(extract(epoch FROM now() - d.paid_at) / 172800)::int - 1)
    WHERE d.paid_at < now() - INTERVAL '2 days'
    """,
    """
    UPDATE payouts AS p
    SET gifts = s.n, gifts_ours = s.n, gross_minor = s.gross, fees_minor = s.fees,
        net_minor = s.net, amount_minor = s.net
    FROM (SELECT payout_id, count(*) AS n, sum(amount_minor) AS gross,
                 sum(fee_minor) AS fees, sum(net_minor) AS net
          FROM payout_items GROUP BY payout_id) AS s
    WHERE p.id = s.payout_id
    """,
    """
    UPDATE donations AS d SET payout_id = i.payout_id
    FROM payout_items AS i WHERE i.donation_id = d.id
    """,
    # Checkouts started: as many as donations (some abandoned, most attributed).
    """
    INSERT INTO checkout_attempts (public_id, frequency, amount_minor, currency, campaign,
        variant, placement, status, created_at, updated_at)
    SELECT gen_random_uuid()::text,
           CASE WHEN g % 3 = 0 THEN 'monthly' ELSE 'one_off' END,
           1000, 'eur',
           CASE WHEN c < 6 THEN 'campaign-' || c END,
           CASE WHEN c < 6 THEN (ARRAY['a', 'b'])[1 + g % 2] END,
           CASE WHEN c < 6 THEN (ARRAY['top', 'bottom'])[1 + (g / 2) % 2] END,
           CASE WHEN random() < 0.7 THEN 'completed' ELSE 'expired' END,
           created, created
    FROM (SELECT g, floor(random() * 8)::int AS c,
                 now() - random() * INTERVAL '730 days' AS created
          FROM generate_series(1, :donations) AS g) AS s
    """,
    # Trend snapshots for two years, as the daily job writes them.
    """
    INSERT INTO daily_snapshots (day, supporters, displayed_supporters, active_recurring,
        recurring_monthly_minor, computed_at)
    SELECT d::date, :supporters / 2 + g, :supporters / 2 + g, :supporters / 8 + g / 4,
           json_build_object('eur', 800000 + g * 10, 'gbp', 90000 + g, 'usd', 70000 + g),
           now()
    FROM generate_series(0, 729) AS g,
         LATERAL (SELECT (now() - INTERVAL '730 days' + g * INTERVAL '1 day') AS d) AS days
    """,
    # Daily counters for two years, 5 campaigns x 2 variants x 2 placements.
    """
    INSERT INTO appeal_counters (day, campaign, variant, placement, impressions, clicks,
        dismissals)
    SELECT d::date, 'campaign-' || c, v, p,
           (:donations / 40 + floor(random() * 100))::bigint,
           (:donations / 800 + floor(random() * 10))::bigint,
           floor(random() * 50)::bigint
    FROM generate_series(now() - INTERVAL '729 days', now(), INTERVAL '1 day') AS d,
         generate_series(0, 4) AS c, unnest(ARRAY['a', 'b']) AS v,
         unnest(ARRAY['top', 'bottom']) AS p
    """,
]


def create_database(server_url: str) -> str:
    """Create this run's database (failing if the name is taken); return its URL."""
    admin = build_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return make_url(server_url).set(database=DATABASE).render_as_string(hide_password=False)


def drop_database(server_url: str) -> None:
    admin = build_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    admin.dispose()


def fill(engine: Engine, donations: int) -> float:
    """Empty the tables and fill them for this scale; return the seconds it took."""
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            text(
                "TRUNCATE donations, checkout_attempts, monthly_donations, stripe_customers, "
                "supporters, appeal_counters, daily_snapshots, payouts, payout_items "
                "RESTART IDENTITY CASCADE"
            )
        )
        for statement in FILL:
            connection.execute(
                text(statement), {"donations": donations, "supporters": donations // 5}
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def queries(settings: Settings) -> dict[str, Callable[[Session], Any]]:
    """Every report query the staff pages run, by name."""
    now = utcnow()
    today = now.date()
    return {
        "supporter count": lambda s: reports.summarise_supporters(s, settings, now),
        "monthly: active, MRR, at risk": lambda s: reports.summarise_monthly(s),
        "one-off revenue: month, 12 months, per month": lambda s: reports.summarise_one_off(s, now),
        "refunds and disputes": lambda s: reports.summarise_refunds_disputes(s, now),
        "new supporters and cancellations per week": lambda s: reports.summarise_weeks(s, now),
        "whole dashboard": lambda s: reports.build_dashboard(s, settings, now),
        "campaign funnel, 30 days": lambda s: reports.campaign_performance(
            s, now - timedelta(days=30)
        ),
        "campaign funnel, 365 days": lambda s: reports.campaign_performance(
            s, now - timedelta(days=365)
        ),
        "money received per day, this month": lambda s: reports.money_received(
            s, now.date().replace(day=1), now.date(), reports.Period.DAY
        ),
        "money received per month, 2 years": lambda s: reports.money_received(
            s, (now - timedelta(days=730)).date(), now.date(), reports.Period.MONTH
        ),
        "money received per week, 1 year, one currency": lambda s: reports.money_received(
            s, (now - timedelta(days=365)).date(), now.date(), reports.Period.WEEK, "gbp"
        ),
        "campaign revenue per variant and currency, 365 days": lambda s: reports.revenue_rows(
            s, now - timedelta(days=365)
        ),
        "churn per month, 12 months": lambda s: reports.churn_by_month(s, now),
        "retention by cohort, 12 months": lambda s: reports.cohort_retention(s, now),
        "trends, 90 days (daily snapshots)": lambda s: trends.trends(
            s, today - timedelta(days=90), today - timedelta(days=1)
        ),
        "trends, 2 years (daily snapshots)": lambda s: trends.trends(
            s, today - timedelta(days=730), today - timedelta(days=1)
        ),
        JOB_SNAPSHOT: lambda s: trends.compute_snapshot(s, settings, today - timedelta(days=1)),
        "payouts list, 90 days": lambda s: reports.payouts_between(
            s, (now - timedelta(days=90)).date(), now.date()
        ),
        "payouts list, 2 years, one currency": lambda s: reports.payouts_between(
            s, (now - timedelta(days=730)).date(), now.date(), "gbp"
        ),
        "one payout's gifts (eur)": lambda s: reports.payout_lines(
            s, s.scalars(select(Payout).where(Payout.stripe_payout_id == "po_bench_eur_5")).one()
        ),
        "month end, this month": lambda s: reports.month_end(s, now.date().replace(day=1)),
        "month end, a year ago": lambda s: reports.month_end(
            s, (now - timedelta(days=365)).date().replace(day=1)
        ),
        "event inbox, needs attention": lambda s: reports.page_of(
            s, reports.events_statement("attention", now), 1, scalars=True
        ),
        "supporters list, page 1": lambda s: reports.page_of(
            s, reports.supporters_statement(reports.SupporterFilters(), now), 1, scalars=False
        ),
        "supporters list, email search": lambda s: reports.page_of(
            s,
            reports.supporters_statement(reports.SupporterFilters(q="reader12345@"), now),
            1,
            scalars=False,
        ),
        "donations list, page 1": lambda s: reports.page_of(
            s, reports.donations_statement(reports.DonationFilters()), 1, scalars=True
        ),
        "donations list, page 100": lambda s: reports.page_of(
            s, reports.donations_statement(reports.DonationFilters()), 100, scalars=True
        ),
        "donations list, one currency + campaign": lambda s: reports.page_of(
            s,
            reports.donations_statement(
                reports.DonationFilters(currency="gbp", campaign="campaign-1")
            ),
            1,
            scalars=True,
        ),
    }


def time_query(engine: Engine, query: Callable[[Session], Any]) -> tuple[float, float]:
    """Median and worst of REPEATS runs after one warm-up, in milliseconds."""
    runs = []
    for attempt in range(REPEATS + 1):
        with Session(engine) as session:
            started = time.perf_counter()
            query(session)
            elapsed = (time.perf_counter() - started) * 1000
        if attempt:
            runs.append(elapsed)
    return statistics.median(runs), max(runs)


def explain(engine: Engine, query: Callable[[Session], Any]) -> list[str]:
    """PostgreSQL's plan (EXPLAIN ANALYZE) for every statement the query runs."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            query(session)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans = []
    with engine.connect() as connection:
        for statement, parameters in captured:
            rows = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters
            ).all()
            plans.append("\n".join(row[0] for row in rows))
    return plans


Results = dict[str, dict[int, tuple[float, float]]]


def run(
    server: str, scales: list[int], *, explain_slow: bool = False, keep: bool = False
) -> Results:
    """Fill and time every query at each scale in a database of this run's own."""
    url = create_database(server)
    results: Results = {}
    try:
        upgrade_database(url)
        engine = build_engine(url)
        settings = Settings(env="test", database_url=url)
        try:
            for donations in scales:
                seconds = fill(engine, donations)
                print(
                    f"filled {donations:,} donations, {donations // 5:,} supporters, "
                    f"{donations:,} checkouts in {seconds:.1f} s",
                    flush=True,
                )
                for name, query in queries(settings).items():
                    results.setdefault(name, {})[donations] = time_query(engine, query)
                    median, worst = results[name][donations]
                    print(f"  {name:<56} {median:9.1f} ms (worst {worst:.1f})", flush=True)
                    if explain_slow and median > SLOW_MS and donations == max(scales):
                        for plan in explain(engine, query):
                            print("    " + plan.replace("\n", "\n    "))
        finally:
            engine.dispose()
    finally:
        if not keep:
            drop_database(server)
    return results


def table(results: Results, scales: list[int]) -> list[str]:
    """The Markdown table: median (worst) per scale, and whether the largest meets the target."""
    largest = max(scales)
    header = " | ".join(f"{scale:,} donations" for scale in scales)
    lines = [
        f"| query | {header} | ≤ {TARGET_MS:.0f} ms at {largest:,} |",
        "| --- |" + " ---: |" * len(scales) + " :---: |",
    ]
    for name, by_scale in results.items():
        cells = " | ".join(
            f"{by_scale[scale][0]:.1f} ms ({by_scale[scale][1]:.0f})" for scale in scales
        )
        median = by_scale[largest][0]
        verdict = "job" if name == JOB_SNAPSHOT else ("yes" if median <= TARGET_MS else "**NO**")
        lines.append(f"| {name} | {cells} | {verdict} |")
    return lines


def misses(results: Results, scales: list[int]) -> list[str]:
    largest = max(scales)
    return [
        f"{name}: {by_scale[largest][0]:.0f} ms at {largest:,} donations"
        for name, by_scale in results.items()
        if name != JOB_SNAPSHOT and by_scale[largest][0] > TARGET_MS
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--scales", default="10000,1000000")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    scales = [int(value) for value in args.scales.split(",")]
    results = run(args.server, scales, explain_slow=args.explain, keep=args.keep)
    print()
    print("\n".join(table(results, scales)))
    for miss in misses(results, scales):
        print(f"over the {TARGET_MS:.0f} ms target: {miss}")


if __name__ == "__main__":
    main()
