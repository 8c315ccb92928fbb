"""Load generators on loopback: wrk for GET throughput, a threaded client for POSTs.

Every run is bounded: wrk by its duration, the Python client by its request count.
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

# wrk prints this JSON line from its done() hook: percentiles in microseconds.
_WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"non2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    statuses: dict[int, int] = field(default_factory=dict)
    # Requests answered 5xx or not at all, in the order they failed (for a retry).
    failed: list[Request] = field(default_factory=list, repr=False)
    # Each answered request's latency in seconds (in sending order for one sender).
    latencies: list[float] = field(default_factory=list, repr=False)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def wrk_get(
    url: str, *, seconds: int, connections: int, threads: int = 1, request_script: str = ""
) -> LoadResult:
    """Hammer one GET URL with wrk for a bounded time.

    `request_script` is Lua that may define wrk's `request` function (a new URL each time).
    """
    host = urlsplit(url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError("benchmarks send traffic to loopback only")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(request_script + _WRK_REPORT)
        output = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
    report = json.loads(output.strip().splitlines()[-1])
    return LoadResult(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        errors=report["non2xx"] + report["socket_errors"],
    )


@dataclass(frozen=True)
class Request:
    """One HTTP request to send."""

    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Collected:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    failed: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def send_all(
    base_url: str, senders: Sequence[Sequence[Request]], *, timeout: float = 30.0
) -> LoadResult:
    """Send each sender's requests in order over one keep-alive connection per sender.

    All senders run at once (one thread each); the result covers every request.
    """
    parts = urlsplit(base_url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError("benchmarks send traffic to loopback only")
    collected = _Collected()
    start_line = threading.Barrier(len(senders))

    def run(requests: Sequence[Request]) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        errors = 0
        failed: list[Request] = []
        start_line.wait()
        for request in requests:
            began = time.perf_counter()
            try:
                connection.request(
                    request.method, request.path, body=request.body, headers=request.headers
                )
                response = connection.getresponse()
                response.read()
                statuses[response.status] += 1
                if response.status >= 500:
                    failed.append(request)
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                errors += 1
                failed.append(request)
                connection.close()
                continue
            latencies.append(time.perf_counter() - began)
        connection.close()
        with collected.lock:
            collected.latencies.extend(latencies)
            collected.statuses.update(statuses)
            collected.errors += errors
            collected.failed.extend(failed)

    threads = [threading.Thread(target=run, args=(requests,)) for requests in senders]
    result = _run_and_summarise(threads, collected)
    return replace(result, failed=collected.failed, latencies=collected.latencies)


def python_get(url: str, *, seconds: float, connections: int) -> LoadResult:
    """The fallback when wrk is missing: keep-alive GETs from threads for a bounded time."""
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError("benchmarks send traffic to loopback only")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    deadline = time.perf_counter() + seconds
    collected = _Collected()

    def run() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        errors = 0
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                statuses[response.status] += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                continue
            latencies.append(time.perf_counter() - began)
        connection.close()
        with collected.lock:
            collected.latencies.extend(latencies)
            collected.statuses.update(statuses)
            collected.errors += errors

    threads = [threading.Thread(target=run) for _ in range(connections)]
    return _run_and_summarise(threads, collected)


def _run_and_summarise(threads: list[threading.Thread], collected: _Collected) -> LoadResult:
    """Start the sender threads, wait for them, and summarise what they collected."""
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies = collected.latencies
    return LoadResult(
        requests=len(latencies) + collected.errors,
        seconds=elapsed,
        p50_ms=statistics.median(latencies) * 1000 if latencies else 0.0,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        errors=collected.errors + sum(n for s, n in collected.statuses.items() if s >= 400),
        statuses=dict(collected.statuses),
    )


def get_load(url: str, *, seconds: int, connections: int) -> LoadResult:
    """GET throughput and latency: wrk when installed, else the threaded client."""
    if have_wrk():
        return wrk_get(url, seconds=seconds, connections=connections)
    return python_get(url, seconds=seconds, connections=connections)
