"""Small server-side SVG charts for the report pages: no script, readable in print.

One chart shape serves every report: horizontal bars, one group per category
(a practice, a week), one bar per series, each bar labelled with its value,
and an optional reference line (a floor, an even share).  Series differ by
fill *and* by pattern, so a chart printed in black and white still reads;
every chart carries a title and a description for screen readers, and the
page shows the same figures as a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 640
LABEL_WIDTH = 150  # left column for category names
VALUE_WIDTH = 70  # right margin for the value printed after each bar
BAR = 14
GAP = 4  # between bars of one group
GROUP_GAP = 12
TOP = 28  # room for the legend
FILLS = ("#1f5fa8", "#c26a00", "#2e7d32", "#7b1fa2")
PATTERNS = ("solid", "hatch", "dots", "cross")


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]  # one per category


@dataclass(frozen=True)
class Reference:
    """A vertical line at a value, e.g. the enhanced-access floor."""

    label: str
    value: float


def _number(value: float, unit: str) -> str:
    text = f"{value:,.1f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


def _defs() -> str:
    """Fill patterns: the second series hatched, the third dotted, the fourth crossed."""
    return (
        "<defs>"
        '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#c26a00" stroke-width="3"/></pattern>'
        '<pattern id="dots" width="5" height="5" patternUnits="userSpaceOnUse">'
        '<rect width="5" height="5" fill="#fff"/>'
        '<circle cx="2.5" cy="2.5" r="1.6" fill="#2e7d32"/></pattern>'
        '<pattern id="cross" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="6" fill="#fff"/>'
        '<path d="M0 0L6 6M6 0L0 6" stroke="#7b1fa2" stroke-width="1.4"/></pattern>'
        "</defs>"
    )


def _fill(index: int) -> str:
    pattern = PATTERNS[index % len(PATTERNS)]
    return FILLS[0] if pattern == "solid" else f"url(#{pattern})"


def _legend(series: Sequence[Series]) -> list[str]:
    """One swatch and name per series, along the top."""
    parts = []
    for i, s in enumerate(series):
        left = LABEL_WIDTH + i * 150
        parts.append(
            f'<rect x="{left}" y="6" width="14" height="12" fill="{_fill(i)}" stroke="#333"/>'
            f'<text x="{left + 20}" y="16" font-size="12">{escape(s.name)}</text>'
        )
    return parts


def _reference_line(reference: Reference, rx: float, height: int, unit: str) -> str:
    """The dashed line of a target or floor, labelled at its foot."""
    return (
        f'<line x1="{rx:.1f}" y1="{TOP - 4}" x2="{rx:.1f}" y2="{height - 16}" '
        f'stroke="#b00020" stroke-width="2" stroke-dasharray="6 3"/>'
        f'<text x="{rx:.1f}" y="{height - 4}" font-size="11" text-anchor="middle" '
        f'fill="#b00020">{escape(reference.label)} {escape(_number(reference.value, unit))}'
        "</text>"
    )


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    chart_id: str,
    unit: str = "",
    reference: Reference | None = None,
    description: str = "",
) -> Markup:
    """An accessible SVG bar chart; values below zero are drawn as zero-length bars.

    ``chart_id`` makes the chart's element ids unique on its page.
    """
    if any(len(s.values) != len(categories) for s in series):
        raise ValueError("every series needs one value per category")
    values = [v for s in series for v in s.values]
    top = max([*values, reference.value if reference else 0.0, 0.0]) or 1.0
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    group = len(series) * (BAR + GAP) - GAP + GROUP_GAP
    height = TOP + group * len(categories) + 20

    def x(value: float) -> float:
        return LABEL_WIDTH + plot * max(value, 0.0) / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description or title)}</desc>',
        _defs(),
    ]
    parts.extend(_legend(series))
    for c, category in enumerate(categories):
        y0 = TOP + c * group
        middle = y0 + (group - GROUP_GAP) / 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{middle + 4:.1f}" font-size="12" '
            f'text-anchor="end">{escape(category)}</text>'
        )
        for i, s in enumerate(series):
            y = y0 + i * (BAR + GAP)
            value = s.values[c]
            end = x(value)
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{end - LABEL_WIDTH:.1f}" height="{BAR}" '
                f'fill="{_fill(i)}" stroke="#333" stroke-width="0.5"/>'
                f'<text x="{end + 4:.1f}" y="{y + BAR - 3}" font-size="11">'
                f"{escape(_number(value, unit))}</text>"
            )
    if reference is not None:
        parts.append(_reference_line(reference, x(reference.value), height, unit))
    parts.append("</svg>")
    return Markup("".join(parts))
