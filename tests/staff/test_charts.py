"""SVG charts: accessible markup, escaped text, numbers also given as a table."""

from __future__ import annotations

from xml.etree import ElementTree

from service.staff.charts import Series, axis_top, bar_chart, line_chart


def _svg(markup: str) -> ElementTree.Element:
    start, end = markup.index("<svg"), markup.index("</svg>") + len("</svg>")
    return ElementTree.fromstring(markup[start:end])  # noqa: S314 (our own output)


def test_bar_chart_is_well_formed_accessible_svg_with_a_table() -> None:
    html = str(bar_chart("Revenue <by> month", ["Jan", "Feb"], [Series("EUR", [10, 30])]))
    svg = _svg(html)
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.get("role") == "img"
    title = svg.find(f"{ns}title")
    assert title is not None and title.text == "Revenue <by> month"
    desc = svg.find(f"{ns}desc")
    assert desc is not None and "highest 30 in Feb" in (desc.text or "")
    bars = svg.findall(f"{ns}rect")
    heights = [float(b.get("height", 0)) for b in bars]
    assert abs(heights[1] - 3 * heights[0]) < 0.2
    assert "<table" in html and '<td class="num">30</td>' in html
    assert "<by>" not in html


def test_line_chart_draws_one_line_per_series() -> None:
    html = str(
        line_chart("Weekly", ["a", "b", "c"], [Series("new", [1, 2, 3]), Series("gone", [0, 1, 0])])
    )
    svg = _svg(html)
    assert len(svg.findall("{http://www.w3.org/2000/svg}polyline")) == 2
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_axis_maximum_is_four_round_steps() -> None:
    assert [axis_top(v) for v in (0, 0.7, 3, 7, 12, 390, 4100)] == [4, 0.8, 4, 8, 20, 400, 8000]
    # Counts never get fractional steps.
    assert [axis_top(v, integer=True) for v in (1, 3, 5, 12)] == [4, 4, 8, 20]
