"""The drill trend: evacuation time, share following the protocol and critical errors
over successive drills, as server-rendered SVG (no JavaScript; CSP forbids inline
scripts). The reference asks for the trend itself (Strategy 2, line 3 KPI: "reduction in
evacuation time during drills"; Strategy 1, line 4: "reduction of critical errors in
successive simulations")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from amparo.protocols.models import Drill

WIDTH, HEIGHT = 560, 180
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28


@dataclass(frozen=True)
class TrendPoint:
    held_on: date
    value: float


@dataclass(frozen=True)
class Trend:
    key: str
    label: str
    unit: str
    points: list[TrendPoint]

    @property
    def change(self) -> float | None:
        """Last minus first: negative is a reduction."""
        if len(self.points) < 2:
            return None
        return self.points[-1].value - self.points[0].value


def drill_trends(drills: Iterable[Drill], labels: dict[str, str]) -> list[Trend]:
    """The three series, oldest drill first. A drill without a timed evacuation has no
    point on the time series."""
    ordered = sorted(drills, key=lambda d: (d.held_on, d.recorded_at))
    time = [
        TrendPoint(d.held_on, round(d.evacuation_seconds / 60, 2))
        for d in ordered
        if d.evacuation_seconds is not None
    ]
    share = [
        TrendPoint(d.held_on, round(100 * d.share_following, 1))
        for d in ordered
        if d.share_following is not None
    ]
    errors = [TrendPoint(d.held_on, float(d.critical_errors)) for d in ordered]
    return [
        Trend("evacuation_minutes", labels["evacuation_minutes"], "min", time),
        Trend("share_following", labels["share_following"], "%", share),
        Trend("critical_errors", labels["critical_errors"], "", errors),
    ]


def _scale(value: float, low: float, high: float, out_low: float, out_high: float) -> float:
    if high == low:
        return (out_low + out_high) / 2
    return out_low + (value - low) * (out_high - out_low) / (high - low)


def trend_svg(trend: Trend) -> SafeString:
    """One line chart. Every value reaches the markup through format_html."""
    if not trend.points:
        return SafeString("")
    values = [p.value for p in trend.points]
    low = 0.0
    high = max(max(values), 100.0 if trend.unit == "%" else 1.0)
    n = len(trend.points)
    xs = [
        _scale(i, 0, max(n - 1, 1), LEFT, WIDTH - RIGHT) if n > 1 else (LEFT + WIDTH - RIGHT) / 2
        for i in range(n)
    ]
    ys = [_scale(v, low, high, HEIGHT - BOTTOM, TOP) for v in values]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3.5"><title>{}: {} {}</title></circle>',
        (
            (f"{x:.1f}", f"{y:.1f}", p.held_on.isoformat(), _number(p.value), trend.unit)
            for x, y, p in zip(xs, ys, trend.points, strict=True)
        ),
    )
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-size="10">{}</text>',
        (
            (f"{x:.1f}", HEIGHT - 8, p.held_on.isoformat())
            for x, p in zip(xs, trend.points, strict=True)
            if n <= 8 or p in (trend.points[0], trend.points[-1])
        ),
    )
    return format_html(
        '<svg class="trend" data-trend="{key}" viewBox="0 0 {w} {h}" width="100%" role="img" '
        'aria-label="{label}" xmlns="http://www.w3.org/2000/svg">'
        '<line x1="{left}" y1="{base}" x2="{right}" y2="{base}" stroke="currentColor" '
        'stroke-opacity=".4"/>'
        '<text x="4" y="{top_text}" font-size="10">{high} {unit}</text>'
        '<text x="4" y="{base}" font-size="10">0</text>'
        '<polyline points="{line}" fill="none" stroke="currentColor" stroke-width="2"/>'
        '<g fill="currentColor">{dots}</g>{ticks}</svg>',
        key=trend.key,
        w=WIDTH,
        h=HEIGHT,
        label=trend.label,
        left=LEFT,
        right=WIDTH - RIGHT,
        base=HEIGHT - BOTTOM,
        top_text=TOP + 8,
        high=_number(high),
        unit=trend.unit,
        line=line,
        dots=dots,
        ticks=ticks,
    )


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
