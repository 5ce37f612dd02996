"""Charts drawn on the server as SVG (issue 7, point 4): no script, and no inline style,
so the strict Content-Security-Policy holds. Colours come from classes in
static/amparo/monitoring.css; sizes and positions are SVG presentation attributes.
Every text is escaped; the charts carry a <title> and are followed by their table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
LABEL_WIDTH = 190
ROW_HEIGHT = 22
BAR_HEIGHT = 15


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    css: str = ""


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def hbars(title: str, bars: Sequence[Bar]) -> SafeString:
    """Horizontal bars, one row per label, the value written at the bar's end."""
    height = max(1, len(bars)) * ROW_HEIGHT + 8
    top = max((b.value for b in bars), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 70
    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img"'
            ' xmlns="http://www.w3.org/2000/svg"><title>{}</title>',
            WIDTH,
            height,
            title,
        )
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * ROW_HEIGHT
        length = round(span * bar.value / top, 1)
        parts.append(
            format_html(
                '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect class="bar {}" x="{}" y="{}" width="{}" height="{}"></rect>'
                '<text class="chart-value" x="{}" y="{}">{}</text>',
                LABEL_WIDTH - 6,
                y + BAR_HEIGHT - 3,
                bar.label[:32],
                bar.css,
                LABEL_WIDTH,
                y,
                length,
                BAR_HEIGHT,
                LABEL_WIDTH + length + 5,
                y + BAR_HEIGHT - 3,
                _number(bar.value),
            )
        )
    parts.append(mark_safe("</svg>"))  # noqa: S308 - a constant
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped


@dataclass(frozen=True)
class Column:
    label: str
    segments: Sequence[Bar]  # stacked bottom-up


def stacked_columns(title: str, columns: Sequence[Column], legend: Sequence[Bar]) -> SafeString:
    """Columns (one per month) stacked by series, with a legend under the axis."""
    plot_height, left, bottom = 180, 40, 200
    count = max(1, len(columns))
    step = (WIDTH - left - 10) / count
    width = max(2.0, step * 0.7)
    top = max((sum(s.value for s in c.segments) for c in columns), default=0) or 1
    legend_rows = (len(legend) + 3) // 4
    height = bottom + 30 + legend_rows * 18
    parts = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img"'
            ' xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
            '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
            '<text class="chart-value" x="{}" y="{}" text-anchor="end">{}</text>',
            WIDTH,
            height,
            title,
            left,
            bottom,
            WIDTH - 10,
            bottom,
            left - 4,
            bottom - plot_height + 10,
            _number(top),
        )
    ]
    label_every = max(1, math.ceil(count / 12))
    for i, column in enumerate(columns):
        x = round(left + i * step + (step - width) / 2, 1)
        y = float(bottom)
        for segment in column.segments:
            h = round(plot_height * segment.value / top, 1)
            if h <= 0:
                continue
            y -= h
            parts.append(
                format_html(
                    '<rect class="bar {}" x="{}" y="{}" width="{}" height="{}">'
                    "<title>{}: {}</title></rect>",
                    segment.css,
                    x,
                    round(y, 1),
                    round(width, 1),
                    h,
                    f"{column.label} · {segment.label}",
                    _number(segment.value),
                )
            )
        if i % label_every == 0:
            parts.append(
                format_html(
                    '<text class="chart-label" x="{}" y="{}" text-anchor="middle">{}</text>',
                    round(x + width / 2, 1),
                    bottom + 14,
                    column.label,
                )
            )
    for i, item in enumerate(legend):
        lx, ly = left + (i % 4) * 150, bottom + 30 + (i // 4) * 18
        parts.append(
            format_html(
                '<rect class="bar {}" x="{}" y="{}" width="10" height="10"></rect>'
                '<text class="chart-label" x="{}" y="{}">{}</text>',
                item.css,
                lx,
                ly - 9,
                lx + 14,
                ly,
                item.label,
            )
        )
    parts.append(mark_safe("</svg>"))  # noqa: S308 - a constant
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped
