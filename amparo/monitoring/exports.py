"""Exports of incidents as CSV and GeoJSON, within the member's access (issue 7, point 6;
DESIGN.md section 8). The same rules as the map (monitoring.access):

- the coordinator: one row per incident, at its precise point when known, with the
  sealed identity and description opened;
- other members: one row per incident placed at its grid cell's centre, with no
  identity, description or id in its source file (sealed columns are never even loaded);
- partners (anonymised data only): counts per grid cell, cells under k = 5 left out.

Rows are streamed from the database in chunks, so an export of a million incidents does
not hold them all in memory. Each export is audited (who, which filters, which form).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from amparo.core import audit
from amparo.monitoring import access, grid
from amparo.monitoring.map_views import MapFilterForm, filter_incidents
from amparo.monitoring.models import Incident
from amparo.people.access import OrgContext
from amparo.people.views import org_view

CHUNK = 2000
PRECISE_COLUMNS = [
    "id",
    "date",
    "country",
    "region",
    "kind",
    "level",
    "actor_type",
    "sector",
    "victims",
    "latitude",
    "longitude",
    "precise",
    "cell",
    "origin",
    "external_id",
    "identity",
    "description",
]
MEMBER_COLUMNS = [
    "date",
    "country",
    "region",
    "kind",
    "level",
    "actor_type",
    "sector",
    "victims",
    "latitude",
    "longitude",
    "cell",
]
COUNT_COLUMNS = ["cell", "latitude", "longitude", "count"]
READABLE = ["occurred_on", "country", "region", "kind", "level", "actor_type", "sector", "victims"]


def _safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula starts with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def records(ctx: OrgContext, filters: dict[str, Any]) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """The columns and rows this member may export, as plain values."""
    incidents = filter_incidents(access.incidents_visible_to(ctx), filters)
    if access.sees_precise_incidents(ctx):
        return PRECISE_COLUMNS, _precise(incidents)
    if access.smallest_count_shown(ctx) > 1:
        return COUNT_COLUMNS, _counts(incidents, access.smallest_count_shown(ctx))
    return MEMBER_COLUMNS, _coarse(incidents)


def _common(incident: Incident) -> dict[str, Any]:
    return {
        "date": incident.occurred_on.isoformat(),
        "country": incident.country,
        "region": incident.region,
        "kind": incident.kind,
        "level": incident.level,
        "actor_type": incident.actor_type,
        "sector": incident.sector,
        "victims": incident.victims,
    }


def _precise(incidents: QuerySet[Incident]) -> Iterator[dict[str, Any]]:
    for incident in incidents.order_by("-month", "-id").iterator(chunk_size=CHUNK):
        row = _common(incident)
        location = incident.location
        if location:
            lat, lon, precise = location["lat"], location["lon"], True
        elif incident.cell:
            (lat, lon), precise = grid.centre_of(incident.cell), False
        else:
            lat = lon = None
            precise = False
        row.update(
            {
                "id": str(incident.pk),
                "latitude": lat,
                "longitude": lon,
                "precise": precise,
                "cell": incident.cell,
                "origin": incident.origin,
                "external_id": incident.external_id,
                "identity": incident.identity,
                "description": incident.description,
            }
        )
        yield row


def _coarse(incidents: QuerySet[Incident]) -> Iterator[dict[str, Any]]:
    rows = incidents.order_by("-month", "-id").only("organisation_id", "cell", *READABLE)
    for incident in rows.iterator(chunk_size=CHUNK):
        row = _common(incident)
        lat, lon = grid.centre_of(incident.cell) if incident.cell else (None, None)
        row.update({"latitude": lat, "longitude": lon, "cell": incident.cell})
        yield row


def _counts(incidents: QuerySet[Incident], smallest: int) -> Iterator[dict[str, Any]]:
    cells = (
        incidents.exclude(cell="")
        .order_by()
        .values("cell")
        .annotate(count=Count("id"))
        .filter(count__gte=smallest)
        .order_by("cell")
    )
    for item in cells:
        lat, lon = grid.centre_of(item["cell"])
        yield {"cell": item["cell"], "latitude": lat, "longitude": lon, "count": item["count"]}


def csv_chunks(columns: list[str], rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for number, row in enumerate(rows, start=1):
        if isinstance(row.get("identity"), dict):
            row["identity"] = json.dumps(row["identity"], ensure_ascii=False)
        writer.writerow({key: _safe(value) for key, value in row.items()})
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def geojson_chunks(columns: list[str], rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield '{"type":"FeatureCollection","features":['
    first = True
    for row in rows:
        lat, lon = row.get("latitude"), row.get("longitude")
        geometry = None if lat is None else {"type": "Point", "coordinates": [lon, lat]}
        properties = {k: row.get(k) for k in columns if k not in ("latitude", "longitude")}
        feature = {"type": "Feature", "geometry": geometry, "properties": properties}
        yield ("" if first else ",") + json.dumps(feature, ensure_ascii=False)
        first = False
    yield "]}"


def _export(request: HttpRequest, ctx: OrgContext, form: str) -> StreamingHttpResponse:
    filters = MapFilterForm(request.GET).values()
    columns, rows = records(ctx, filters)
    audit.record(
        request.user,
        "monitoring.incidents_exported",
        organisation_id=ctx.organisation.pk,
        details={
            "form": form,
            "columns": "precise" if columns is PRECISE_COLUMNS else "coarse",
            "filters": {k: str(v) for k, v in filters.items()},
        },
    )
    if form == "csv":
        response = StreamingHttpResponse(csv_chunks(columns, rows), content_type="text/csv")
        name = "incidents.csv"
    else:
        response = StreamingHttpResponse(
            geojson_chunks(columns, rows), content_type="application/geo+json"
        )
        name = "incidents.geojson"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


# org_view is typed for HttpResponse; it hands a streaming response back unchanged.
@require_GET
@org_view  # type: ignore[arg-type]
def export_csv(request: HttpRequest, ctx: OrgContext) -> StreamingHttpResponse:
    return _export(request, ctx, "csv")


@require_GET
@org_view  # type: ignore[arg-type]
def export_geojson(request: HttpRequest, ctx: OrgContext) -> StreamingHttpResponse:
    return _export(request, ctx, "geojson")
