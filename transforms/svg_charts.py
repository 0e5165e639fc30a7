"""Small inline SVG charts for the HTML report: no JavaScript, no CDN, every text escaped.

Two shapes cover the report: horizontal bars (one row per label; several series either side by
side or overlaid, the funnel look: leads, then MQLs, then conversions inside them) and vertical
columns (one group per category: weeks, score buckets).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


@dataclass(frozen=True)
class Series:
    """One series of a chart: a name for the legend, one value per label, a colour."""

    name: str
    values: Sequence[float]
    color: str


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above ``value`` (an axis end)."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exp
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exp + 1))


def fmt(value: float) -> str:
    """1234 -> '1,234'; 0.5 -> '0.5'."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12, fill: str = "#333", weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-weight="{weight}">{escape(text)}</text>')


def _clip(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def legend(series: Sequence[Series]) -> str:
    """An HTML legend for a chart."""
    items = "".join(
        f'<span class="key"><span class="swatch" style="background:{escape(s.color)}"></span>{escape(s.name)}</span>'
        for s in series
    )
    return f'<div class="legend">{items}</div>'


def hbar_chart(labels: Sequence[str], series: Sequence[Series], *, title: str, overlay: bool = False,
               width: int = 640, label_width: int = 170, row_height: int = 28) -> str:
    """Horizontal bars, one row per label.

    Args:
        overlay: draw the series on top of each other (nested values: leads >= MQLs >= converted);
            otherwise side by side within the row.
    """
    n = len(labels)
    value_width = 110
    plot = width - label_width - value_width
    top = max((max(s.values, default=0) for s in series), default=0)
    scale = plot / nice_max(top) if top else 0
    height = n * row_height + 8
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="100%" style="max-width:{width}px;{FONT}"><title>{escape(title)}</title>']
    for i, label in enumerate(labels):
        y = 4 + i * row_height
        parts.append(_text(label_width - 8, y + row_height / 2 + 4, _clip(str(label), 26), anchor="end"))
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{plot}" height="{row_height - 6}" fill="#f3f5f8" rx="3"/>')
        if overlay:
            for k, s in enumerate(series):
                inset = k * 3
                w = s.values[i] * scale
                parts.append(f'<rect x="{label_width}" y="{y + 3 + inset}" width="{w:.1f}" height="{row_height - 6 - 2 * inset}" '
                             f'fill="{escape(s.color)}" rx="3"><title>{escape(f"{label}: {s.name} {fmt(s.values[i])}")}</title></rect>')
        else:
            band = (row_height - 6) / max(1, len(series))
            for k, s in enumerate(series):
                w = s.values[i] * scale
                parts.append(f'<rect x="{label_width}" y="{y + 3 + k * band:.1f}" width="{w:.1f}" height="{band:.1f}" '
                             f'fill="{escape(s.color)}" rx="2"><title>{escape(f"{label}: {s.name} {fmt(s.values[i])}")}</title></rect>')
        value = " / ".join(fmt(s.values[i]) for s in series)
        parts.append(_text(label_width + plot + 8, y + row_height / 2 + 4, value, size=12, fill="#222", weight="600"))
    parts.append("</svg>")
    return "".join(parts)


def column_chart(categories: Sequence[str], series: Sequence[Series], *, title: str, width: int = 720,
                 height: int = 240) -> str:
    """Vertical columns grouped by category, with a y axis and light grid lines."""
    left, right, top_pad, bottom = 48, 12, 12, 46
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max((max(s.values, default=0) for s in series), default=0)
    axis_max = nice_max(top)
    n = max(1, len(categories))
    group = plot_w / n
    bar = max(2.0, min(40.0, (group * 0.8) / max(1, len(series))))
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="100%" style="max-width:{width}px;{FONT}"><title>{escape(title)}</title>']
    for k in range(5):
        value = axis_max * k / 4
        y = top_pad + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        parts.append(_text(left - 6, y + 4, fmt(value), anchor="end", size=11, fill="#666"))
    every = max(1, math.ceil(n / 14))  # thin out the labels when there are many categories
    for i, category in enumerate(categories):
        x0 = left + i * group + (group - bar * len(series)) / 2
        for k, s in enumerate(series):
            h = plot_h * s.values[i] / axis_max if axis_max else 0
            parts.append(f'<rect x="{x0 + k * bar:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                         f'fill="{escape(s.color)}" rx="1.5"><title>{escape(f"{category}: {s.name} {fmt(s.values[i])}")}</title></rect>')
        if i % every == 0:
            parts.append(_text(left + i * group + group / 2, height - bottom + 16, _clip(str(category), 12), anchor="middle", size=11, fill="#555"))
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top_pad + plot_h}" y2="{top_pad + plot_h}" stroke="#999"/>')
    parts.append("</svg>")
    return "".join(parts)
