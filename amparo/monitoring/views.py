"""Indicator and public-report pages (issue 7, points 4 and 5). Thin: the figures come
from monitoring.dashboard, the report from monitoring.public, access from
monitoring.indicator_access. The map, hotspots and imports have their own view modules.

- /o/<slug>/indicators/: the dashboard (coordinator and administrator).
- /o/<slug>/public-reports/: published reports and the period to preview; the preview
  shows exactly what would be published, and its form publishes it.
- /public/<slug>/reports/: the published reports of one organisation, for anyone, with
  their CSV, GeoJSON and PDF.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from amparo.alerts.models import Level as Tier
from amparo.incidents.models import Level
from amparo.monitoring import dashboard, public
from amparo.monitoring import indicator_access as access
from amparo.monitoring.charts import Bar, Column, hbars, stacked_columns
from amparo.monitoring.models import ActorType, IncidentKind, PublicReport
from amparo.people.access import OrgContext
from amparo.people.views import org_view
from amparo.risk.actions import today

NO_LEVEL = "none"


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else (value or "-")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return _("%(n)d s") % {"n": round(seconds)}
    if seconds < 7200:
        return _("%(n).1f min") % {"n": seconds / 60}
    return _("%(n).1f h") % {"n": seconds / 3600}


def _charts(figures: dict[str, Any], f: dashboard.Filters) -> dict[str, Any]:
    kinds_seen = [
        k for k in IncidentKind.values if any(r["kind"] == k for r in figures["by_month_and_kind"])
    ]
    per_month: dict[date, dict[str, int]] = {m: {} for m in f.months}
    for row in figures["by_month_and_kind"]:
        per_month.setdefault(row["month"], {})[row["kind"]] = row["n"]
    columns = [
        Column(
            month.strftime("%Y-%m"),
            [Bar(_label(IncidentKind, k), counts.get(k, 0), f"kind-{k}") for k in kinds_seen],
        )
        for month, counts in sorted(per_month.items())
    ]
    legend = [Bar(_label(IncidentKind, k), 0, f"kind-{k}") for k in kinds_seen]
    kind_totals: dict[str, int] = {}
    for row in figures["by_month_and_kind"]:
        kind_totals[row["kind"]] = kind_totals.get(row["kind"], 0) + row["n"]
    levels = sorted(figures["by_level"], key=lambda r: -r["n"])
    regions = sorted(figures["by_region"], key=lambda r: -r["n"])[: dashboard.TOP_REGIONS]
    actors = sorted(figures["by_actor"], key=lambda r: -r["n"])
    return {
        "months": stacked_columns(_("Incidents by month and kind"), columns, legend),
        "kinds": hbars(
            _("Incidents by kind"),
            [
                Bar(_label(IncidentKind, k), n, f"kind-{k}")
                for k, n in sorted(kind_totals.items(), key=lambda kv: -kv[1])
            ],
        ),
        "levels": hbars(
            _("Incidents by level"),
            [
                Bar(
                    _label(Level, r["level"]) if r["level"] else _("Not assessed"),
                    r["n"],
                    f"level-{r['level'] or NO_LEVEL}",
                )
                for r in levels
            ],
        ),
        "regions": hbars(
            _("Incidents by region"),
            [Bar(r["region"] or _("Not given"), r["n"], "region") for r in regions],
        ),
        "actors": hbars(
            _("Incidents by actor type"),
            [Bar(_label(ActorType, r["actor_type"]), r["n"], "actor") for r in actors],
        ),
        "response": hbars(
            _("Median seconds to acknowledge, per tier"),
            [
                Bar(str(r["label"]), r["median"], f"tier-{r['tier']}")
                for r in figures["response_times"]
            ],
        ),
    }


@org_view
@require_GET
def indicators(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_indicators(ctx)
    now = today()
    f = dashboard.Filters.from_query(request.GET, now)
    figures = dashboard.indicators(ctx.organisation, f, now)
    for row in figures["response_times"]:
        row["median_text"] = _duration(row["median"])
        row["p90_text"] = _duration(row["p90"])
    return render(
        request,
        "monitoring/dashboard.html",
        {
            "ctx": ctx,
            "f": f,
            "figures": figures,
            "charts": _charts(figures, f),
            "regions": dashboard.regions_of(ctx.organisation),
            "kinds": IncidentKind.choices,
            "levels": Level.choices,
            "tiers": Tier.choices,
        },
    )


def _period(request: HttpRequest) -> tuple[date, date]:
    f = dashboard.Filters.from_query(request.POST or request.GET, today())
    return f.start, f.end


@org_view
@require_GET
def public_reports(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_indicators(ctx)
    start, end = _period(request)
    reports = PublicReport.objects.filter(organisation=ctx.organisation).defer("pdf", "data")
    return render(
        request,
        "monitoring/public_reports.html",
        {"ctx": ctx, "reports": reports, "start": start, "end": end},
    )


@org_view
@require_http_methods(["GET", "POST"])
def public_preview(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    """What would be published for the period, exactly; POST publishes it."""
    access.require_indicators(ctx)
    start, end = _period(request)
    if request.method == "POST":
        report = public.publish(request.user, ctx.organisation, start, end)
        messages.success(request, _("The report is published: %(title)s") % {"title": report.title})
        return redirect("public-reports", ctx.organisation.slug)
    data = public.build(ctx.organisation, start, end)
    return render(
        request,
        "monitoring/public_preview.html",
        {
            "ctx": ctx,
            "start": start,
            "end": end,
            "title": public.title_for(ctx.organisation, start, end),
            "data": data,
            "summary": public.summary(data),
        },
    )


# Public, no account.


@require_GET
def published_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    organisation = access.public_organisation(org_slug)
    reports = (
        PublicReport.objects.filter(organisation=organisation, published_at__isnull=False)
        .defer("pdf")
        .order_by("-period_end", "-published_at")
    )
    return render(
        request,
        "monitoring/public_list.html",
        {
            "organisation": organisation,
            "reports": [{"report": r, "summary": public.summary(r.data)} for r in reports],
        },
    )


def _download(body: bytes | str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def published_csv(request: HttpRequest, org_slug: str, report_id: str) -> HttpResponse:
    report = access.access_published_report(org_slug, report_id)
    return _download(
        public.to_csv(report.data), "text/csv; charset=utf-8", f"report-{report.pk}.csv"
    )


@require_GET
def published_geojson(request: HttpRequest, org_slug: str, report_id: str) -> HttpResponse:
    report = access.access_published_report(org_slug, report_id)
    return _download(
        public.geojson_text(report.data), "application/geo+json", f"report-{report.pk}.geojson"
    )


@require_GET
def published_pdf(request: HttpRequest, org_slug: str, report_id: str) -> HttpResponse:
    report = access.access_published_report(org_slug, report_id)
    return _download(bytes(report.pdf or b""), "application/pdf", f"report-{report.pk}.pdf")
