"""KPI pages (issue 8, point 7). Thin: the catalogue and the figures come from
monitoring.kpis, writes from monitoring.kpi_actions.

Access: the security coordinator and the administrator of the organisation, as for the
indicators dashboard (monitoring.indicator_access, DESIGN.md section 1); every other
member, and anyone of another organisation, gets the same 404.

- /o/<slug>/kpis/: the six strategies.
- /o/<slug>/kpis/strategy/<n>/: each KPI of the strategy by line of action, with its
  value over the last 12 months (computed live from the records, or the latest entered)
  and a trend per quarter over the last two years (server-rendered SVG, no JavaScript).
- /o/<slug>/kpis/strategy/<n>/kpis.csv: the same figures, one row per KPI and quarter.
- /o/<slug>/kpis/<kpi id>/enter/: the value of an entered KPI for a period, with its
  evidence. Computed KPIs have no form (404).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from amparo.core.access import not_found
from amparo.monitoring import indicator_access, kpi_actions, kpis
from amparo.monitoring.models import KpiEntry
from amparo.people.access import OrgContext
from amparo.people.views import org_view
from amparo.protocols.drill_trend import Trend, TrendPoint, trend_svg
from amparo.risk.actions import today

QUARTERS_SHOWN = 8  # two years


@dataclass(frozen=True)
class Quarter:
    start: date
    end: date

    @property
    def label(self) -> str:
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"


def quarters_up_to(day: date, count: int = QUARTERS_SHOWN) -> list[Quarter]:
    """The ``count`` calendar quarters ending with the one holding ``day``, oldest first."""
    year, index = day.year, (day.month - 1) // 3
    out = []
    for _i in range(count):
        start = date(year, 3 * index + 1, 1)
        next_start = date(year + (index == 3), (3 * index + 3) % 12 + 1, 1)
        out.append(Quarter(start, next_start - timedelta(days=1)))
        index -= 1
        if index < 0:
            year, index = year - 1, 3
    return out[::-1]


@dataclass
class KpiRow:
    kpi: kpis.Kpi
    value: float | None
    since: date | None
    until: date | None
    trend: list[tuple[Quarter, float | None]]

    @property
    def unit_label(self) -> str:
        return str(kpis.UNITS[self.kpi.unit])

    @property
    def svg(self) -> Any:
        points = [TrendPoint(q.start, v) for q, v in self.trend if v is not None]
        unit = "%" if self.kpi.unit == "percent" else self.unit_label
        return trend_svg(Trend(self.kpi.id, self.kpi.name, unit, points))


def _entries(ctx: OrgContext, kpi: kpis.Kpi) -> list[KpiEntry]:
    return list(KpiEntry.objects.filter(organisation=ctx.organisation, kpi_id=kpi.id))


def _latest_in(entries: list[KpiEntry], start: date, end: date) -> KpiEntry | None:
    """The latest entered value for a period ending within [start, end]."""
    inside = [e for e in entries if start <= e.period_end <= end]
    return max(inside, key=lambda e: (e.period_end, e.entered_at), default=None)


def kpi_row(ctx: OrgContext, kpi: kpis.Kpi, day: date) -> KpiRow:
    quarters = quarters_up_to(day)
    if kpi.computed:
        since, until = day - timedelta(days=364), day
        value = kpis.compute(kpi, ctx.organisation, since, until)
        trend = [(q, kpis.compute(kpi, ctx.organisation, q.start, q.end)) for q in quarters]
        return KpiRow(kpi, value, since, until, trend)
    entries = _entries(ctx, kpi)
    latest = max(entries, key=lambda e: (e.period_end, e.entered_at), default=None)
    trend = []
    for q in quarters:
        entry = _latest_in(entries, q.start, q.end)
        trend.append((q, None if entry is None else float(entry.value)))
    if latest is None:
        return KpiRow(kpi, None, None, None, trend)
    return KpiRow(kpi, float(latest.value), latest.period_start, latest.period_end, trend)


def _strategy(number: int) -> str:
    if number not in kpis.STRATEGIES:
        not_found()
    return str(kpis.STRATEGIES[number])


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}".rstrip("0")


@org_view
@require_GET
def kpi_index(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    indicator_access.require_indicators(ctx)
    strategies = [
        {
            "number": number,
            "title": title,
            "computed": sum(1 for k in kpis.of_strategy(number) if k.computed),
            "entered": sum(1 for k in kpis.of_strategy(number) if not k.computed),
        }
        for number, title in kpis.STRATEGIES.items()
    ]
    return render(request, "monitoring/kpi_index.html", {"ctx": ctx, "strategies": strategies})


@org_view
@require_GET
def kpi_strategy(request: HttpRequest, ctx: OrgContext, number: int) -> HttpResponse:
    indicator_access.require_indicators(ctx)
    title = _strategy(number)
    day = today()
    lines: dict[tuple[int, str], list[KpiRow]] = {}
    for kpi in kpis.of_strategy(number):
        lines.setdefault((kpi.line, kpi.line_title), []).append(kpi_row(ctx, kpi, day))
    return render(
        request,
        "monitoring/kpi_strategy.html",
        {
            "ctx": ctx,
            "number": number,
            "title": title,
            "lines": [(line, line_title, rows) for (line, line_title), rows in lines.items()],
        },
    )


@org_view
@require_GET
def kpi_strategy_csv(request: HttpRequest, ctx: OrgContext, number: int) -> HttpResponse:
    """One row per KPI and quarter (the last two years); the evidence of entered values
    is sealed and stays out of the file."""
    indicator_access.require_indicators(ctx)
    _strategy(number)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["kpi_id", "strategy", "line", "name", "reference_bullet", "unit", "method"]
        + ["quarter", "period_start", "period_end", "value"]
    )
    day = today()
    for kpi in kpis.of_strategy(number):
        row = kpi_row(ctx, kpi, day)
        for quarter, value in row.trend:
            writer.writerow(
                [kpi.id, kpi.strategy, kpi.line, kpi.name, kpi.bullet, kpi.unit, kpi.method]
                + [quarter.label, quarter.start, quarter.end, _number(value)]
            )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"kpis-{ctx.organisation.slug}-strategy-{number}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class KpiEntryForm(forms.Form):
    period_start = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    value = forms.DecimalField(label=gettext_lazy("Value"), max_digits=14, decimal_places=2)
    evidence = forms.CharField(
        label=gettext_lazy("Evidence"),
        help_text=gettext_lazy(
            "What the figure rests on: a survey, minutes, a report. Stored encrypted."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            raise ValidationError(_("The period ends before it starts."))
        return data


@org_view
@require_http_methods(["GET", "POST"])
def kpi_enter(request: HttpRequest, ctx: OrgContext, kpi_id: str) -> HttpResponse:
    indicator_access.require_indicators(ctx)
    kpi = kpis.kpi_by_id(kpi_id)
    if kpi is None or kpi.computed:
        not_found()
    form = KpiEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            kpi_actions.record_kpi_entry(
                request.user,
                ctx.organisation,
                kpi.id,
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
                value=Decimal(form.cleaned_data["value"]),
                evidence=form.cleaned_data["evidence"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Value recorded."))
            return redirect("kpi-strategy", ctx.organisation.slug, kpi.strategy)
    entries = KpiEntry.objects.filter(organisation=ctx.organisation, kpi_id=kpi.id)[:20]
    return render(
        request,
        "monitoring/kpi_enter.html",
        {
            "ctx": ctx,
            "kpi": kpi,
            "form": form,
            "entries": entries,
            "strategy_title": _strategy(kpi.strategy),
            "unit_label": kpis.UNITS[kpi.unit],
        },
    )
