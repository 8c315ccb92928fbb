"""Server-side CPU per request, in process: the appeal endpoint against the trivial one.

Load over loopback on a 2-core machine shares the cores with the load generator (and
with anything else running), so its ratio swings from run to run. Calling the WSGI app
directly, in interleaved slices, measures what each request costs the server itself;
the median of the slices' ratios is stable even on a busy machine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.test import EnvironBuilder

SLICES = 15
PER_SLICE = 300


@dataclass(frozen=True)
class WsgiCost:
    name: str
    microseconds: float
    ratio: float  # trivial's cost / this one's: the throughput ratio on one core


def _caller(app: Any) -> Callable[[str], None]:
    def start_response(*_args: Any) -> None:
        return None

    def call(url: str) -> None:
        path, _, query = url.partition("?")
        environ = EnvironBuilder(path=path, query_string=query).get_environ()
        for _chunk in app(environ, start_response):
            pass

    return call


def measure(app: Any, trivial: str, others: dict[str, Callable[[int], str]]) -> list[WsgiCost]:
    """Median cost per request of each endpoint, and its ratio to the trivial one."""
    call = _caller(app)
    counter = iter(range(10**9))
    kinds: dict[str, Callable[[int], str]] = {"trivial": lambda _i: trivial, **others}
    for make in kinds.values():  # warm up caches and memos
        for _ in range(100):
            call(make(next(counter)))
    costs: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(SLICES):
        for name, make in kinds.items():
            urls = [make(next(counter)) for _ in range(PER_SLICE)]
            began = time.perf_counter()
            for url in urls:
                call(url)
            costs[name].append((time.perf_counter() - began) / PER_SLICE)
    ratios = {
        name: statistics.median(t / o for t, o in zip(costs["trivial"], costs[name], strict=True))
        for name in kinds
    }
    return [WsgiCost(name, statistics.median(costs[name]) * 1e6, ratios[name]) for name in kinds]
