"""The appeal endpoint against a trivial JSON endpoint, both under gunicorn on loopback.

Target (design.md §6): the appeal endpoint, which runs on every article page view,
serves at least 0.8 of the trivial endpoint's requests per second. Both are routes of
the same app behind the same middleware and server, so the difference is our work:
query parsing, the (cached) campaigns and count, the decision, the JSON and its ETag.
Also reports the widget's gzipped size (target: a few KB).

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

from bench.loadgen import LoadResult, get_load, have_wrk, wrk_get
from bench.servers import PROJECT_ROOT, bench_database, gunicorn, postgres_server_url

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


def bench_app() -> Flask:
    """The service's app plus one trivial JSON route, for gunicorn to serve."""
    from service import create_app

    app = create_app()
    app.add_url_rule(TRIVIAL_PATH, "bench_trivial", lambda: jsonify(status="ok"))
    return app


def _service_env(database_url: str) -> dict[str, str]:
    return {
        "APP_ENV": "production",
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
    appeal: LoadResult
    distinct: LoadResult | None
    widget_bytes: int
    widget_gzipped: int
    sample: dict[str, Any]
    ratio: float
    distinct_ratio: float

    def lines(self) -> list[str]:
        def row(name: str, r: LoadResult) -> str:
            return (
                f"| {name} | {r.per_second:,.0f} | {r.p50_ms:.2f} ms | {r.p99_ms:.2f} ms "
                f"| {r.errors} |"
            )

        verdict = "meets" if self.ratio >= TARGET_RATIO else "MISSES"
        return [
            "## Appeal endpoint vs a trivial JSON endpoint",
            "",
            "| endpoint | requests/s | p50 | p99 | errors |",
            "|---|---|---|---|---|",
            row(f"trivial `{TRIVIAL_PATH}`", self.trivial),
            row("appeal `/api/v1/appeals` (both placements), one URL", self.appeal),
            *([row("appeal, a new URL every request", self.distinct)] if self.distinct else []),
            "",
            f"Ratio appeal / trivial: **{self.ratio:.2f}** ({verdict} the {TARGET_RATIO} target; "
            "median over rounds of each appeal slice against the trivial slice before it).",
            *(
                [
                    f"Ratio with a new URL every request: {self.distinct_ratio:.2f} "
                    "(no answer memo; the full parse, decide and serialise path)."
                ]
                if self.distinct
                else []
            ),
            f"Widget: {self.widget_bytes:,} bytes, **{self.widget_gzipped:,} bytes gzipped**.",
        ]


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
    server_url: str, *, seconds: int = 1, rounds: int = 8, connections: int = 8
) -> AppealBench:
    """Serve the app under gunicorn and alternate load on the two endpoints."""
    with bench_database(server_url) as database_url:
        _seed(database_url)
        env = _service_env(database_url)
        with gunicorn("bench.appeal_bench:bench_app()", env, ready_path=TRIVIAL_PATH) as base:
            with urllib.request.urlopen(base + APPEAL_QUERY, timeout=5) as response:
                sample = json.loads(response.read())
            if not sample["top"]["show"]:
                raise RuntimeError(f"the demo campaign should show: {sample['top']}")
            # Warm every worker's cache and connection pool before measuring.
            get_load(base + APPEAL_QUERY, seconds=1, connections=connections)
            get_load(base + TRIVIAL_PATH, seconds=1, connections=connections)
            trivial, appeal, distinct = [], [], []
            for _ in range(rounds):
                trivial.append(
                    get_load(base + TRIVIAL_PATH, seconds=seconds, connections=connections)
                )
                appeal.append(
                    get_load(base + APPEAL_QUERY, seconds=seconds, connections=connections)
                )
                if have_wrk():
                    distinct.append(wrk_distinct(base, seconds=seconds, connections=connections))
    raw, gzipped = widget_sizes()
    return AppealBench(
        _merge(trivial),
        _merge(appeal),
        _merge(distinct) if distinct else None,
        raw,
        gzipped,
        sample,
        ratio=_median_ratio(appeal, trivial),
        distinct_ratio=_median_ratio(distinct, trivial[: len(distinct)]),
    )


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
