"""`make bench`: run every benchmark once and write bench/RESULTS.md.

Everything runs on this machine over loopback: the service under gunicorn (the README's
production command), PostgreSQL (BENCH_DATABASE_URL, default the local server), the
Stripe sandbox standing in for Stripe, and wrk or a threaded Python client as the load.
`python -m bench --quick` is a smaller run for checking that the benchmarks work.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import load_average, machine_facts
from bench.servers import postgres_server_url, postgres_version

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def webhook_section(server_url: str, quick: bool) -> tuple[list[str], list[str]]:
    from bench.webhook_bench import (
        DUPLICATE_SENDERS,
        STRIPE_LATENCY_SECONDS,
        WORKER_PROCESSES,
        WORKER_THREADS,
        missed_targets,
        run_webhook_bench,
    )

    one_off, monthly = (20, 10) if quick else (150, 50)
    runs, expected, problems = run_webhook_bench(server_url, one_off=one_off, monthly=monthly)
    latency_ms = STRIPE_LATENCY_SECONDS * 1000
    lines = [
        "## Webhook ingestion on PostgreSQL",
        "",
        f"Real events from {one_off} one-off and {monthly} monthly sandbox checkouts "
        f"({expected.events} events of every type Stripe sends for them, ours and others), "
        "signed as Stripe signs them and POSTed to `/webhooks/stripe` under gunicorn "
        "(2 processes x 4 threads): signature check, event stored once (unique id) with its "
        "job, 200. Job workers apply them (`flask --app service worker`, "
        f"{WORKER_PROCESSES} processes x {WORKER_THREADS} threads): Stripe read first with "
        "nothing locked, then inbox row and customer locked and the ledger written. The "
        f"sandbox adds {latency_ms:.0f} ms to every Stripe API call. Events/s applied counts "
        "from the first delivery until every event is applied or ignored; ack latencies are "
        "the deliveries' answers. Each run starts on a fresh database.",
        "",
        "| run | deliveries | distinct events | distinct events/s applied | deliveries/s acked "
        "| ack p50 | ack p99 | answered 5xx, then stored by the retry |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        lines.append(
            f"| {run.name} | {run.deliveries} | {run.distinct_events} "
            f"| {run.events_per_second:.1f} | {run.load.per_second:.0f} "
            f"| {_ms(run.load.p50_ms)} | {_ms(run.load.p99_ms)} | {len(run.load.failed)} |"
        )
    first = runs[0]
    lines += [
        "",
        f"webhook events/s at +{latency_ms:.0f} ms: {first.events_per_second:.1f}",
        f"webhook ack p99: {first.load.p99_ms:.0f} ms",
    ]
    lines += [
        "",
        f"Exactly-once check after each run (expected: {expected.events} events stored, "
        f"{expected.donations} donations totalling {expected.donated_minor} cents, "
        f"{expected.monthly} monthly donations, {expected.supporters} supporters):",
        "",
        "| run | events stored | failed | donations | cents | monthly | supporters |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in runs:
        ledger = run.ledger
        lines.append(
            f"| {run.name} | {ledger.events} | {ledger.events_failed} | {ledger.donations} "
            f"| {ledger.donated_minor} | {ledger.monthly} | {ledger.supporters} |"
        )
    verdict = (
        f"**Exactly once: yes** — {DUPLICATE_SENDERS} concurrent copies of every event left "
        "the same ledger as one copy."
        if not problems
        else "**Exactly once: NO** — " + "; ".join(problems)
    )
    misses = missed_targets(runs[0])
    lines += [
        "",
        verdict,
        "",
        "Targets (≥ 50 events/s applied, ack p99 < 100 ms): "
        + ("met." if not misses else "NOT met: " + "; ".join(misses) + "."),
        "",
    ]
    return lines, problems + misses


def checkout_section(server_url: str, quick: bool) -> tuple[list[str], list[str]]:
    from bench.checkout_bench import run_checkout_bench

    sequential, concurrent = (50, 25) if quick else (300, 100)
    runs = run_checkout_bench(server_url, sequential=sequential, concurrent=concurrent)
    lines = [
        "## Checkout API overhead",
        "",
        "`POST /api/v1/checkout` under gunicorn on PostgreSQL, with the sandbox as Stripe "
        "answering at once. *Sandbox* is the sandbox's own time per Checkout Session "
        "(measured inside it); *ours* is end-to-end minus that, per request (validation, "
        "the attempt committed before Stripe is called, the stripe package, the outcome "
        "committed, the loopback hop). Stripe's real latency (hundreds of ms) adds to this.",
        "",
        "| run | requests | req/s | p50 | p99 | sandbox p50 | sandbox p99 | ours p50 "
        "| ours p99 | 201s | attempts recorded |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    problems = []
    for run in runs:
        lines.append(
            f"| {run.name} | {run.load.requests} | {run.load.per_second:.0f} "
            f"| {_ms(run.load.p50_ms)} | {_ms(run.load.p99_ms)} | {_ms(run.sandbox_p50_ms)} "
            f"| {_ms(run.sandbox_p99_ms)} | {_ms(run.overhead_p50_ms)} "
            f"| {_ms(run.overhead_p99_ms)} | {run.load.statuses.get(201, 0)} "
            f"| {run.attempts_recorded} |"
        )
        if run.load.statuses.get(201, 0) != run.load.requests:
            problems.append(f"checkout {run.name}: answers {run.load.statuses}")
        if run.sessions_created != run.load.requests:
            problems.append(
                f"checkout {run.name}: {run.sessions_created} sessions for "
                f"{run.load.requests} requests"
            )
    lines.append("")
    return lines, problems


def appeal_section(server_url: str, quick: bool) -> tuple[list[str], list[str]]:
    from bench.appeal_bench import TARGET_RATIO, run_appeal_bench
    from bench.layout_shift import GOOD_CLS
    from bench.loadgen import have_wrk

    seconds, rounds, views = (2, 1, 1000) if quick else (3, 7, 3000)
    result = run_appeal_bench(
        server_url, seconds=seconds, rounds=rounds, connections=8, views=views
    )
    loader = "wrk" if have_wrk() else "the threaded Python client"
    lines = result.lines()
    at = lines.index("## Appeal data through a caching proxy (nginx proxy_cache)")
    lines[at:at] = [
        f"{loader}, 8 connections on loopback, {rounds} alternating rounds of {seconds} s per "
        "endpoint after a warm-up; all routes in one gunicorn (README's production command), "
        "the demo campaign seeded in PostgreSQL.",
        "",
        *wsgi_cost_lines(server_url),
    ]
    if result.ratio < TARGET_RATIO:
        print(f"bench: the site document/bare ratio {result.ratio:.2f} misses {TARGET_RATIO}")
    problems = [f"appeal endpoints answered {result.appeal.errors} errors"] * bool(
        result.appeal.errors or result.trivial.errors or result.site.errors
    )
    problems += [
        f"layout shift {shift.cls:.3f} at {key} is above {GOOD_CLS}"
        for key, shift in result.layout.items()
        if shift.cls > GOOD_CLS
    ]
    return [*lines, ""], problems


def wsgi_cost_lines(server_url: str) -> list[str]:
    """The same comparison without the network: what each request costs the server."""
    import os

    from bench.appeal_bench import APPEAL_QUERY, SITE_PATH, TRIVIAL_PATH, _seed, _service_env
    from bench.servers import bench_database
    from bench.wsgi_cost import PER_SLICE, SLICES, measure

    with bench_database(server_url) as database_url:
        _seed(database_url)
        saved = dict(os.environ)
        os.environ.update(_service_env(database_url))
        try:
            from bench.appeal_bench import bench_app

            app = bench_app()
            costs = measure(
                app,
                TRIVIAL_PATH,
                {
                    "site document (a CDN miss)": lambda _i: SITE_PATH,
                    "single decision, one URL": lambda _i: APPEAL_QUERY,
                    "single decision, a new URL every request": lambda i: APPEAL_QUERY.replace(
                        "reader=417", f"reader={i}"
                    ),
                },
            )
            app.app.extensions["database"]["engine"].dispose()
        finally:
            os.environ.clear()
            os.environ.update(saved)
    lines = [
        "Server CPU per request, in process (no network, no load generator sharing the "
        f"cores): median of {SLICES} interleaved slices of {PER_SLICE} requests.",
        "",
        "| endpoint | µs per request | bare route / this (throughput ratio on one core) |",
        "| --- | ---: | ---: |",
    ]
    names = {"trivial": "bare route (minimal Flask app)"}
    lines += [
        f"| {names.get(c.name, c.name)} | {c.microseconds:.0f} | {c.ratio:.2f} |" for c in costs
    ]
    site = next(c for c in costs if c.name.startswith("site document"))
    # A cost ratio: the site document's CPU per request over the bare route's.
    lines += ["", f"appeal origin cost per miss / bare route: {1 / site.ratio:.2f}"]
    return [*lines, ""]


def stall_section(server_url: str, quick: bool) -> tuple[list[str], list[str]]:
    from bench.stall_bench import (
        PROBE_CONNECTIONS,
        STALLED_CHECKOUTS,
        STRIPE_SECONDS,
        TARGET_RATIO,
        run_stall_bench,
    )

    seconds = 5 if quick else 15
    runs = run_stall_bench(server_url, seconds=seconds)
    lines = [
        "## Article pages while Stripe stalls",
        "",
        f"The sandbox answers every Stripe call after {STRIPE_SECONDS:.0f} s; "
        f"{STALLED_CHECKOUTS} readers start checkouts (each clicks again a second after "
        f"its answer) while {PROBE_CONNECTIONS} connections read `GET /api/v1/appeals` back "
        f"to back for {seconds} s; *idle* is the same probe just before, with no checkouts. "
        "gunicorn as in the README (2 processes x 4 threads), PostgreSQL, a fresh server "
        "per set-up.",
        "",
        "| set-up | appeal p50 idle | p99 idle | p50 stalled | p99 stalled "
        "| probe errors stalled | p99 stalled/idle | checkout answers |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        answered = run.stalled.requests > run.stalled.errors

        def stalled(value: float, answered: bool = answered) -> str:
            return _ms(value if answered else None)  # no probe answered: no latency

        answers = ", ".join(f"{n} x {status}" for status, n in sorted(run.checkouts.items()))
        lines.append(
            f"| {run.name} | {_ms(run.idle.p50_ms)} | {_ms(run.idle.p99_ms)} "
            f"| {stalled(run.stalled.p50_ms)} | {stalled(run.stalled.p99_ms)} "
            f"| {run.stalled.errors} "
            f"| {run.ratio:.2f} | {answers} |"
        )
    ratio = runs[0].ratio
    lines += ["", f"appeal p99 stalled/idle: {ratio:.2f}", ""]
    problems = []
    if ratio > TARGET_RATIO:
        problems.append(f"appeal p99 stalled/idle {ratio:.2f} is over {TARGET_RATIO}")
    return lines, problems


def reports_section(server_url: str, quick: bool) -> tuple[list[str], list[str]]:
    from bench.reports_bench import TARGET_MS, misses, run, table

    scales = [10_000] if quick else [10_000, 1_000_000]
    results = run(server_url, scales)
    lines = [
        "## Staff reports on PostgreSQL",
        "",
        "Every query the staff pages run, through the functions the views call, on a "
        "database of this run's own (`bench_reports_<random>`, dropped after) filled with "
        "set-based SQL: one supporter per five donations, a fifth with a recurring gift, two "
        "years of payments, checkouts, beacon counters and daily trend snapshots. Median of "
        f"5 runs after a warm-up (worst in brackets); target {TARGET_MS:.0f} ms per view.",
        "",
        *table(results, scales),
        "",
    ]
    return lines, misses(results, scales)


SECTIONS: dict[str, Callable[[str, bool], tuple[list[str], list[str]]]] = {
    "appeal": appeal_section,
    "stall": stall_section,
    "webhooks": webhook_section,
    "checkout": checkout_section,
    "reports": reports_section,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small runs, to check they work")
    parser.add_argument(
        "--only", choices=sorted(SECTIONS), action="append", help="run only these benchmarks"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    server_url = postgres_server_url()
    try:
        pg_version = postgres_version(server_url)
    except Exception as error:
        print(f"bench: PostgreSQL is needed at {server_url} ({error})", file=sys.stderr)
        print("bench: set BENCH_DATABASE_URL (CREATE DATABASE allowed)", file=sys.stderr)
        return 2

    facts = machine_facts(pg_version)
    started = datetime.now(UTC)
    began = time.monotonic()
    body: list[str] = []
    problems: list[str] = []
    for name, section in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        print(f"bench: {name}...", flush=True)
        lines, found = section(server_url, args.quick)
        body += lines
        problems += found
    minutes = (time.monotonic() - began) / 60

    command = "make bench" + (
        " (python -m bench " + " ".join(argv or sys.argv[1:]) + ")"
        if (argv or sys.argv[1:])
        else ""
    )
    header = [
        "# Benchmark results",
        "",
        f"- Command: `{command}` (took {minutes:.1f} minutes)",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC",
        "- Everything on one machine over loopback: client, gunicorn, PostgreSQL, sandbox.",
        "",
        "| machine | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in facts.items()),
        f"| Load average after the run (1 min) | {load_average()} |",
        "",
    ]
    args.output.write_text("\n".join(header + body).rstrip() + "\n")
    print(f"bench: wrote {args.output}")
    for problem in problems:
        print(f"bench: PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
