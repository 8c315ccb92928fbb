"""The appeal data against a bare JSON route, under gunicorn on loopback and through a CDN.

Target (design.md §6): what every article page view asks for costs the origin no more
than a trivial route. The trivial route is bare: a minimal Flask app with one route and
none of the service's hooks, mounted in the same gunicorn process. Compared with it: the
site document the widget asks for, and the single-decision API other clients use. Then
a realistic stream of page views goes through nginx's proxy_cache (bench/cdn_bench.py)
for the hit ratio, and Chromium measures the widget's layout shift on the demo article.
Also reports the widget's gzipped size (limit: 10 KB).

    python -m bench.appeal_bench              # a short run: 8 one-second slices each
    python -m bench.appeal_bench --rounds 30  # steadier numbers

The endpoints take turns in short slices, so background load on a shared machine hits
them alike and the ratio stays meaningful even when the absolute numbers move.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import urllib.request
from dataclasses import dataclass
from typing import Any

from flask import Flask, jsonify
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bench.cdn_bench import (
    PRODUCTION_CACHE_SECONDS,
    SITE_PATH,
    TIME_SCALE,
    VIEWS_PER_SECOND,
    CdnRun,
    caching_proxy,
    old_appeal_path,
    page_views,
    run_cdn,
)
from bench.layout_shift import (
    DESKTOP,
    PHONE,
    LayoutShift,
    launch_chromium,
    measure_layout_shift,
)
from bench.loadgen import LoadResult, get_load, have_wrk, wrk_get
from bench.servers import PROJECT_ROOT, bench_database, gunicorn, postgres_server_url
from service.core.pass_key import new_private_key_pem

APPEAL_QUERY = (
    "/api/v1/appeals?placements=top,bottom&article_id=port-carrig-flood-defences"
    "&section=news&tags=council,flooding&articles_read=3&reader=417"
)
TRIVIAL_PATH = "/bench/trivial"
TARGET_RATIO = 0.8
# Every request a URL the server has not answered yet (random reader and count), so the
# in-process answer memo cannot help: the full parse, decide and serialise path.
_WRK_DISTINCT = """
local n = 0
request = function()
  n = n + 1
  local path = string.format(
    "/api/v1/appeals?placements=top,bottom&article_id=story-%d&section=news"
    .. "&tags=council,flooding&articles_read=%d&reader=%d",
    n, math.random(0, 100), math.random(0, 999))
  return wrk.format("GET", path)
end
"""


def wrk_distinct(base: str, *, seconds: int, connections: int) -> LoadResult:
    """Load the appeal endpoint with a new URL on every request (needs wrk)."""
    return wrk_get(base, seconds=seconds, connections=connections, request_script=_WRK_DISTINCT)


def bare_app() -> Flask:
    """A minimal Flask app with one JSON route: no session, login, limiter or hooks."""
    app = Flask("bare")
    app.add_url_rule("/trivial", "trivial", lambda: jsonify(status="ok"))
    return app


def bench_app() -> Any:
    """The service's app, with the bare app answering /bench/*, for gunicorn to serve."""
    from service import create_app

    return DispatcherMiddleware(create_app(), {"/bench": bare_app()})


def _service_env(database_url: str) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "PUBLICATION_NAME": "The Bench Courier",
        "SUPPORTER_PASS_PRIVATE_KEY": new_private_key_pem(),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key-" + "k" * 32,
        "STRIPE_SECRET_KEY": "sk_test_" + "b" * 24,
        "STRIPE_WEBHOOK_SECRET": "whsec_bench" + "w" * 24,
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "ALLOWED_EMBED_ORIGINS": "https://news.example",
        "SUPPORTER_COUNT_OFFSET": "5432",
        "LOG_LEVEL": "WARNING",
    }


def _seed(database_url: str) -> None:
    from sqlalchemy.orm import Session

    from service.appeals.demo import seed_demo
    from service.core.db import build_engine

    engine = build_engine(database_url)
    try:
        with Session(engine) as session:
            seed_demo(session)
            session.commit()
    finally:
        engine.dispose()


def _median_ratio(numerators: list[LoadResult], denominators: list[LoadResult]) -> float:
    """The median over rounds of adjacent slices' throughput ratios.

    A burst of load from elsewhere on a shared machine slows one slice; comparing each
    slice with its neighbour and taking the median keeps such bursts out of the ratio.
    """
    ratios = sorted(
        n.per_second / d.per_second for n, d in zip(numerators, denominators, strict=True)
    )
    return ratios[len(ratios) // 2] if ratios else 0.0


@dataclass(frozen=True)
class AppealBench:
    trivial: LoadResult
    site: LoadResult
    appeal: LoadResult
    distinct: LoadResult | None
    widget_bytes: int
    widget_gzipped: int
    sample: dict[str, Any]
    ratio: float
    appeal_ratio: float
    distinct_ratio: float
    cdn: list[CdnRun]
    layout: dict[str, LayoutShift]

    def lines(self) -> list[str]:
        def row(name: str, r: LoadResult) -> str:
            return (
                f"| {name} | {r.per_second:,.0f} | {r.p50_ms:.2f} ms | {r.p99_ms:.2f} ms "
                f"| {r.errors} |"
            )

        verdict = "meets" if self.ratio >= TARGET_RATIO else "MISSES"
        site = next(run for run in self.cdn if run.name == "site document")
        cdn_rows = [
            f"| {run.name} | {run.views:,} | {run.seconds:.1f} s | {run.hit_ratio:.4f} "
            f"| {run.origin_requests:,} | {run.origin_per_thousand:.1f} "
            f"| {', '.join(f'{k} {v}' for k, v in sorted(run.statuses.items()))} |"
            for run in self.cdn
        ]
        cls_lines = [
            f"appeal CLS at {size}: "
            + ", ".join(f"{shift.cls:.3f} {label}" for label, shift in shifts)
            for size, shifts in self._layout_by_size().items()
        ]
        return [
            "## Appeal data vs a bare JSON route",
            "",
            "| endpoint | requests/s | p50 | p99 | errors |",
            "|---|---|---|---|---|",
            row(f"bare route `{TRIVIAL_PATH}` (minimal Flask app, no hooks)", self.trivial),
            row(f"site document `{SITE_PATH}` (what the widget asks for)", self.site),
            row("single decision `/api/v1/appeals` (other clients), one URL", self.appeal),
            *(
                [row("single decision, a new URL every request", self.distinct)]
                if self.distinct
                else []
            ),
            "",
            f"Ratio site document / bare route: **{self.ratio:.2f}** ({verdict} the "
            f"{TARGET_RATIO} target; median over rounds of each slice against the bare slice "
            "before it).",
            f"Ratio single decision / bare route: {self.appeal_ratio:.2f} (one URL), "
            + (f"{self.distinct_ratio:.2f} (a new URL every request)." if self.distinct else ""),
            f"Widget: {self.widget_bytes:,} bytes, **{self.widget_gzipped:,} bytes gzipped**.",
            "",
            "## Appeal data through a caching proxy (nginx proxy_cache)",
            "",
            f"A mid-size site's page views, {VIEWS_PER_SECOND} a second, articles Zipf-distributed "
            "over 300, readers from a pool of 20,000, replayed through nginx's `proxy_cache` "
            "in front of gunicorn (bench/cdn_bench.py; stale-while-revalidate and "
            f"`proxy_cache_background_update` on). Time runs {TIME_SCALE}x faster and the "
            f"service's cache lifetime is {TIME_SCALE}x shorter "
            f"({PRODUCTION_CACHE_SECONDS} s in production), so "
            f"{site.views:,} views model {site.views / VIEWS_PER_SECOND / 60:.0f} minutes of "
            "the site. Origin requests are counted in gunicorn's access log.",
            "",
            "| what each view asks for | views | took | served from cache | origin requests "
            "| origin requests per 1,000 views | nginx cache status |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
            *cdn_rows,
            "",
            f"appeal CDN hit ratio: {site.hit_ratio:.4f}",
            f"appeal origin requests per 1,000 views: {site.origin_per_thousand:.1f}",
            "",
            "## Layout shift from the widget",
            "",
            "Cumulative Layout Shift on `/demo/article` in Chromium (PerformanceObserver "
            "'layout-shift', from the first paint until the boxes have rendered and settled), "
            "with the publisher's top placeholder and without it; Google's 'good' is ≤ 0.1, "
            "our limit 0.01.",
            "",
            *cls_lines,
        ]

    def _layout_by_size(self) -> dict[str, list[tuple[str, LayoutShift]]]:
        sizes: dict[str, list[tuple[str, LayoutShift]]] = {}
        for key, shift in self.layout.items():
            size, label = key.split(" ", 1)
            sizes.setdefault(size, []).append((label, shift))
        return sizes


def _merge(results: list[LoadResult]) -> LoadResult:
    requests = sum(r.requests for r in results)
    seconds = sum(r.seconds for r in results)
    # Percentiles cannot be merged exactly; the median of the rounds' values is honest.
    p50 = sorted(r.p50_ms for r in results)[len(results) // 2]
    p99 = sorted(r.p99_ms for r in results)[len(results) // 2]
    return LoadResult(requests, seconds, p50, p99, sum(r.errors for r in results))


def widget_sizes() -> tuple[int, int]:
    source = (PROJECT_ROOT / "static" / "widget.js").read_bytes()
    return len(source), len(gzip.compress(source, 9))


def run_appeal_bench(
    server_url: str, *, seconds: int = 1, rounds: int = 8, connections: int = 8, views: int = 3000
) -> AppealBench:
    """Serve the app under gunicorn: load against the bare route, a CDN replay, and CLS."""
    with bench_database(server_url) as database_url:
        _seed(database_url)
        env = _service_env(database_url)
        with gunicorn("bench.appeal_bench:bench_app()", env, ready_path=TRIVIAL_PATH) as base:
            with urllib.request.urlopen(base + APPEAL_QUERY, timeout=5) as response:
                sample = json.loads(response.read())
            if not sample["top"]["show"]:
                raise RuntimeError(f"the demo campaign should show: {sample['top']}")
            # Warm every worker's cache and connection pool before measuring.
            for path in (SITE_PATH, APPEAL_QUERY, TRIVIAL_PATH):
                get_load(base + path, seconds=1, connections=connections)
            trivial, site, appeal, distinct = [], [], [], []
            for _ in range(rounds):
                for results, path in ((trivial, TRIVIAL_PATH), (site, SITE_PATH)):
                    results.append(get_load(base + path, seconds=seconds, connections=connections))
                appeal.append(
                    get_load(base + APPEAL_QUERY, seconds=seconds, connections=connections)
                )
                if have_wrk():
                    distinct.append(wrk_distinct(base, seconds=seconds, connections=connections))
            layout = layout_shifts(base)
        cdn = cdn_runs(env, views)
    raw, gzipped = widget_sizes()
    return AppealBench(
        _merge(trivial),
        _merge(site),
        _merge(appeal),
        _merge(distinct) if distinct else None,
        raw,
        gzipped,
        sample,
        ratio=_median_ratio(site, trivial),
        appeal_ratio=_median_ratio(appeal, trivial),
        distinct_ratio=_median_ratio(distinct, trivial[: len(distinct)]),
        cdn=cdn,
        layout=layout,
    )


def cdn_runs(env: dict[str, str], views: int) -> list[CdnRun]:
    """Replay page views through nginx's proxy_cache: the site document, then the old URLs."""
    import tempfile
    from pathlib import Path

    stream = page_views(views)
    scaled = {**env, "APPEAL_CACHE_SECONDS": str(PRODUCTION_CACHE_SECONDS // TIME_SCALE)}
    with tempfile.TemporaryDirectory(prefix="bench-origin-") as directory:
        log = Path(directory) / "access.log"
        with (
            gunicorn(
                "bench.appeal_bench:bench_app()",
                scaled,
                ready_path=TRIVIAL_PATH,
                extra_args=["--access-logfile", str(log)],
            ) as origin,
            caching_proxy(origin) as proxy,
        ):
            return [
                run_cdn(proxy, log, "site document", [SITE_PATH] * len(stream), SITE_PATH),
                run_cdn(
                    proxy,
                    log,
                    "before: the per-reader appeal URL",
                    [old_appeal_path(view) for view in stream],
                    "/api/v1/appeals?",
                ),
            ]


def layout_shifts(base: str) -> dict[str, LayoutShift]:
    """CLS on the demo article at a phone's and a desktop's size, with and without placeholder."""
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for viewport in (PHONE, DESKTOP):
                size = f"{viewport['width']}x{viewport['height']}"
                for label, query in (
                    ("(top placeholder)", ""),
                    ("(no placeholder)", "?placeholders=none"),
                ):
                    results[f"{size} {label}"] = measure_layout_shift(
                        browser, f"{base}/demo/article{query}", viewport
                    )
        finally:
            browser.close()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=1, help="per slice and endpoint")
    parser.add_argument("--rounds", type=int, default=8, help="slices per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    result = run_appeal_bench(
        postgres_server_url(),
        seconds=args.seconds,
        rounds=args.rounds,
        connections=args.connections,
    )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"load generator: {'wrk' if have_wrk() else 'threaded Python client'}; "
        f"cpus: {os.cpu_count()}; load average after the run: {load}"
    )
    print("\n".join(result.lines()))


if __name__ == "__main__":
    main()
