"""The public report (issue 7, point 5; reference Strategy 4, line 4: independent
monitoring and public reporting), anonymised by construction (DESIGN.md section 7):

- Built from counts only (the tallies of ``monitoring.tallies``). Two tables:
  * by **area, month and kind** (the CSV and the PDF). The area is the region, but only
    a region the organisation knows as an administrative area: its own region and the
    regions of its directory (entered by staff, about public services). A threat report's
    region is typed by the reporter, so any other value is treated as free text and
    counted under "other or unspecified area", whose label is ours, never the input's.
  * by **10 km grid cell, month and kind** (the GeoJSON): each feature is a point at the
    cell's centre (``monitoring.grid``), so no point is finer than the grid.
- Any count under k = 5 is suppressed: the row is left out (and so are no totals that
  would let it be recovered: the report's totals are sums of the published rows only).
- No free text at all: no description, identity, place, title or region typed by anyone;
  the report's title is generated from the organisation's name and the period.

Known limit: the two tables cut the same incidents two ways (areas and cells); in
contrived cases a small count could be narrowed down by comparing them. Both are
published at k = 5 and neither carries identities; complementary suppression across the
two tables is not done.

A published report is frozen: ``PublicReport.data`` holds the rows as published, and the
CSV, GeoJSON and the stored PDF are rendered from it, so later data never changes it.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections import defaultdict
from datetime import date
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.monitoring import grid
from amparo.monitoring.dashboard import Filters
from amparo.monitoring.models import IncidentKind, IncidentTally, PublicReport
from amparo.people.models import DirectoryEntry, Organisation

K = 5  # DESIGN.md section 7: counts by (area, month, type) are suppressed below k = 5.
OTHER_AREA = ""  # rendered as "Other or unspecified area"
FORMAT_VERSION = 1
PDF_ROWS = 400


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def known_areas(organisation: Organisation) -> dict[str, str]:
    """Normalised name -> the label published, for the administrative areas the
    organisation has named itself (its region and its directory's regions)."""
    names = [
        organisation.region,
        *DirectoryEntry.objects.filter(organisation=organisation)
        .order_by()
        .values_list("region", flat=True)
        .distinct(),
    ]
    areas: dict[str, str] = {}
    for name in names:
        label = " ".join((name or "").split())
        if label:
            areas.setdefault(_key(label), label)
    return areas


def _period(start: date, end: date) -> Filters:
    return Filters(start=start, end=end)


def build(organisation: Organisation, start: date, end: date) -> dict[str, Any]:
    """The report's rows for the whole months from ``start`` to ``end``: what would be
    published now. Two aggregates in SQL; Python only merges the area rows and drops
    the ones under k."""
    f = _period(start, end)
    counted = IncidentTally.objects.filter(
        organisation=organisation, period__gte=f.start, period__lte=f.end
    ).order_by()
    areas = known_areas(organisation)
    merged: dict[tuple[str, str, str], int] = defaultdict(int)
    by_area = counted.filter(grain="rk").values_list("region", "period", "kind", "n")
    area_of: dict[str, str] = {}
    for region, month, kind, n in by_area:  # one row per (region, month, kind)
        if region not in area_of:
            area_of[region] = areas.get(_key(region or ""), OTHER_AREA)
        area = area_of[region]
        merged[(area, month.strftime("%Y-%m"), kind)] += n
    area_rows = [
        {"area": area, "month": month, "kind": kind, "count": n}
        for (area, month, kind), n in sorted(merged.items())
        if n >= K
    ]
    cell_rows = []
    # Grain "ck" has one row per (cell, month, kind): each row is a published count.
    by_cell = (
        counted.filter(grain="ck", n__gte=K)
        .values_list("cell", "period", "kind", "n")
        .order_by("cell", "period", "kind")
    )
    for cell, month, kind, n in by_cell:
        try:
            lat, lon = grid.centre_of(cell)
        except ValueError:
            continue  # not a grid cell id: never published
        cell_rows.append(
            {
                "cell": cell,
                "lat": lat,
                "lon": lon,
                "month": month.strftime("%Y-%m"),
                "kind": kind,
                "count": n,
            }
        )
    return {
        "version": FORMAT_VERSION,
        "k": K,
        "grid_km": grid.CELL_KM,
        "start": f.start.strftime("%Y-%m"),
        "end": f.end.strftime("%Y-%m"),
        "areas": area_rows,
        "cells": cell_rows,
        "total": sum(r["count"] for r in area_rows),
    }


def title_for(organisation: Organisation, start: date, end: date) -> str:
    return _("%(organisation)s: incidents against defenders, %(start)s to %(end)s") % {
        "organisation": organisation.name,
        "start": start.strftime("%Y-%m"),
        "end": end.strftime("%Y-%m"),
    }


# Rendering: from the frozen data only.


def area_label(area: str) -> str:
    return area or _("Other or unspecified area")


def kind_label(kind: str) -> str:
    return str(IncidentKind(kind).label) if kind in IncidentKind.values else kind


def to_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["area", "month", "kind", "count"])
    for row in data.get("areas", []):
        writer.writerow([area_label(row["area"]), row["month"], row["kind"], row["count"]])
    return out.getvalue()


def to_geojson(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "properties": {"k": data.get("k", K), "grid_km": data.get("grid_km", grid.CELL_KM)},
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                "properties": {
                    "cell": row["cell"],
                    "month": row["month"],
                    "kind": row["kind"],
                    "count": row["count"],
                },
            }
            for row in data.get("cells", [])
        ],
    }


def summary(data: dict[str, Any]) -> dict[str, Any]:
    """Tables for the preview, the PDF and the public page: by month and kind, and by
    area, each summing the published rows only."""
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_area: dict[str, int] = defaultdict(int)
    kinds: set[str] = set()
    for row in data.get("areas", []):
        months[row["month"]][row["kind"]] += row["count"]
        by_area[row["area"]] += row["count"]
        kinds.add(row["kind"])
    kind_order = [k for k in IncidentKind.values if k in kinds]
    return {
        "kinds": [{"code": k, "label": kind_label(k)} for k in kind_order],
        "months": [
            {
                "month": month,
                "counts": [months[month].get(k, 0) for k in kind_order],
                "total": sum(months[month].values()),
            }
            for month in sorted(months)
        ],
        "areas": [
            {"label": area_label(area), "count": n}
            for area, n in sorted(by_area.items(), key=lambda item: -item[1])
        ],
        "rows": [
            {**row, "area_label": area_label(row["area"]), "kind_label": kind_label(row["kind"])}
            for row in data.get("areas", [])
        ],
        "cells": len(data.get("cells", [])),
        "total": data.get("total", 0),
    }


def render_pdf(organisation: Organisation, report: PublicReport, language: str = "es") -> bytes:
    """The PDF, rendered offline like the dossiers (incidents.dossier): no URL fetched."""
    # Imported here: WeasyPrint loads Pango and takes a second, which no other page needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    with translation.override(language):
        html = render_to_string(
            "monitoring/public_report_pdf.html",
            {
                "organisation": organisation,
                "report": report,
                "data": report.data,
                "summary": summary(report.data),
                "language": language,
                # Beyond this many rows the PDF refers to the CSV (WeasyPrint's time grows
                # with the table; the budget is 10 s for the whole report).
                "rows_fit": len(report.data.get("areas", [])) <= PDF_ROWS,
            },
        )
    refuse_all = URLFetcher(allowed_protocols=())
    return bytes(HTML(string=html, base_url=None, url_fetcher=refuse_all).write_pdf())


def publish(actor: Any, organisation: Organisation, start: date, end: date) -> PublicReport:
    """Build the counts now, freeze them with their PDF, and publish (audited). The PDF
    is rendered before the transaction, so the database is not held while it runs."""
    end = max(start, end)
    data = build(organisation, start, end)
    report = PublicReport(
        organisation=organisation,
        title=title_for(organisation, start, end)[:200],
        period_start=start,
        period_end=end,
        data=data,
    )
    language = translation.get_language() or "es"
    report.pdf = render_pdf(organisation, report, language[:2])
    with transaction.atomic():
        report.published_at = timezone.now()
        report.published_by = actor if getattr(actor, "is_authenticated", False) else None
        report.save(force_insert=True)
        audit.record(
            actor,
            "monitoring.public_report_published",
            report,
            details={"start": data["start"], "end": data["end"], "total": data["total"]},
        )
    return report


def geojson_text(data: dict[str, Any]) -> str:
    return json.dumps(to_geojson(data), ensure_ascii=False)
