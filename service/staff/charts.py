"""Server-rendered SVG charts: accessible, no JavaScript, nothing from a CDN.

Each chart is a <figure> holding an <svg role="img"> with <title>/<desc> and, under it, the
same numbers as a table (collapsed in <details>) for screen readers and copy-paste.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Narrow enough that labels stay legible when a phone scales the chart down.
WIDTH = 480
HEIGHT = 220
MARGIN_LEFT = 60
MARGIN_RIGHT = 12
MARGIN_TOP = 12
MARGIN_BOTTOM = 40
# Colour-blind-safe pair (Okabe-Ito blue and orange); series are also told apart by shape.
COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7")

_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int | float]


TICKS = 4


def axis_top(value: float, integer: bool = False) -> float:
    """The axis maximum: TICKS steps of 1, 2 or 5 times a power of ten, covering value.

    Counts (integer) never get fractional steps, so a week of 1 does not read "0.25".
    """
    wanted = max(value, 0) / TICKS
    if wanted <= 0:
        return float(TICKS)
    power = 10 ** math.floor(math.log10(wanted))
    step = next(s * power for s in (1, 2, 5, 10) if wanted <= s * power)
    if integer:
        step = max(step, 1)
    return float(step * TICKS)


def _is_integer(series: Sequence[Series]) -> bool:
    return all(isinstance(v, int) for s in series for v in s.values)


def _plot_box() -> tuple[float, float, float, float]:
    return (
        MARGIN_LEFT,
        MARGIN_TOP,
        WIDTH - MARGIN_LEFT - MARGIN_RIGHT,
        HEIGHT - MARGIN_TOP - MARGIN_BOTTOM,
    )


def _axes(labels: Sequence[str], top: float, fmt: Callable[[float], str]) -> list[str]:
    left, upper, width, height = _plot_box()
    parts = []
    for i in range(TICKS + 1):
        value = top * i / TICKS
        y = upper + height - height * i / TICKS
        parts.append(
            f'<line class="grid" x1="{left}" x2="{left + width}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(fmt(value))}</text>"
        )
    step = width / max(len(labels), 1)
    # At most eight labels (every other bucket, every third, …), so labels never overlap.
    every = max(1, math.ceil(len(labels) / 8))
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = left + step * (i + 0.5)
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{upper + height + 16}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    parts = []
    x = MARGIN_LEFT
    for index, item in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text class="legend" x="{x + 14}" y="{HEIGHT - 5}">{escape(item.name)}</text>'
        )
        x += 24 + 7 * len(item.name)
    return parts


def _figure(
    kind: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    body: list[str],
    fmt: Callable[[float], str],
) -> Markup:
    chart_id = f"chart-{next(_ids)}"
    svg = (
        f'<svg class="chart chart-{kind}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )
    head = "".join(f'<th scope="col">{escape(s.name)}</th>' for s in series)
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        + "".join(f'<td class="num">{escape(fmt(s.values[i]))}</td>' for s in series)
        + "</tr>"
        for i, label in enumerate(labels)
    )
    table = (
        f"<details><summary>{escape(title)}: the numbers</summary>"
        f'<table class="data"><thead><tr><th scope="col"></th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></details>"
    )
    # Every interpolated text above went through escape(); numbers are formatted floats.
    return Markup(  # noqa: S704
        f'<figure class="chart-figure"><figcaption>{escape(title)}</figcaption>'
        f"{svg}{table}</figure>"
    )


def _describe(labels: Sequence[str], series: Sequence[Series], fmt: Callable[[float], str]) -> str:
    parts = []
    for item in series:
        if not item.values:
            continue
        peak = max(range(len(item.values)), key=lambda i: item.values[i])
        parts.append(
            f"{item.name}: from {fmt(item.values[0])} in {labels[0]} to "
            f"{fmt(item.values[-1])} in {labels[-1]}, highest {fmt(item.values[peak])} "
            f"in {labels[peak]}."
        )
    return " ".join(parts) or "No data yet."


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> Markup:
    """Grouped vertical bars, one group per label and one bar per series."""
    top = axis_top(max((max(s.values, default=0) for s in series), default=0), _is_integer(series))
    left, upper, width, height = _plot_box()
    step = width / max(len(labels), 1)
    bar = step * 0.8 / max(len(series), 1)
    body = _axes(labels, top, fmt)
    for index, item in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        for i, value in enumerate(item.values):
            bar_height = height * max(value, 0) / top
            x = left + step * i + step * 0.1 + bar * index
            y = upper + height - bar_height
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{bar_height:.1f}" '
                f'fill="{colour}"><title>{escape(labels[i])}, {escape(item.name)}: '
                f"{escape(fmt(value))}</title></rect>"
            )
    if len(series) > 1:
        body += _legend(series)
    return _figure("bar", title, _describe(labels, series, fmt), labels, series, body, fmt)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> Markup:
    """One line with point markers per series."""
    top = axis_top(max((max(s.values, default=0) for s in series), default=0), _is_integer(series))
    left, upper, width, height = _plot_box()
    step = width / max(len(labels), 1)
    body = _axes(labels, top, fmt)
    for index, item in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        points = [
            (left + step * (i + 0.5), upper + height - height * max(v, 0) / top)
            for i, v in enumerate(item.values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dash = ' stroke-dasharray="6 4"' if index % 2 else ""
        body.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        for i, (x, y) in enumerate(points):
            marker = (
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                if index % 2 == 0
                else f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" '
                f'fill="{colour}">'
            )
            closing = "</circle>" if index % 2 == 0 else "</rect>"
            body.append(
                f"{marker}<title>{escape(labels[i])}, {escape(item.name)}: "
                f"{escape(fmt(item.values[i]))}</title>{closing}"
            )
    body += _legend(series)
    return _figure("line", title, _describe(labels, series, fmt), labels, series, body, fmt)
