"""The map page and its GeoJSON endpoints (issue 7, point 3), and the hotspot pages
(point 2).

The page is Leaflet (vendored) with amparo/map.js; no inline script or style (strict
CSP). Its base layer is the Amazonian country outlines shipped in monitoring/data, so it
works with no internet; online tiles only when AMPARO_MAP_TILE_URL is set.

What each member gets is decided in monitoring.access. The incidents endpoint never
sends a precise point to anyone but a coordinator: for everyone else the database
counts incidents per 10 km grid cell (one GROUP BY, fast on a million rows) and each cell
is sent as its centre with the count. Coordinators get the precise points a page at a
time (``page``), newest first.

A hotspot's photos stream into the evidence vault while the request body arrives
(incidents.vault), so the hotspot form installs the vault's upload handler before
anything reads the body: it is ``csrf_exempt`` outside and ``csrf_protect`` inside,
Django's documented pattern, as the threat report form is. A photo is downloaded through
monitoring.access and monitoring.hotspots.read_photo, which audits the download.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from amparo.core.middleware import CONTENT_SECURITY_POLICY
from amparo.incidents import vault
from amparo.incidents.models import Level
from amparo.monitoring import access, grid, hotspots, layers
from amparo.monitoring.models import (
    Confidence,
    Hotspot,
    HotspotKind,
    HotspotSource,
    Incident,
    IncidentKind,
    ReferenceLayer,
)
from amparo.people.access import OrgContext
from amparo.people.views import org_view

PAGE_SIZE = 2000  # precise incident points per request (coordinators)
MAX_HOTSPOTS = 5000
GEOJSON = "application/geo+json"
LAYER_SLUGS = {source.slug: source for source in layers.REFERENCE_LAYERS}
MINING_YEARS = (2019, 2020, 2021, 2022, 2023)


# Filters


class MapFilterForm(forms.Form):
    """The filters of the map page; the endpoints read the same query string."""

    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of incident"),
        required=False,
        choices=[("", gettext_lazy("All")), *IncidentKind.choices],
    )
    level = forms.ChoiceField(
        label=gettext_lazy("Level"),
        required=False,
        choices=[("", gettext_lazy("All")), *Level.choices],
    )
    hotspot_kind = forms.ChoiceField(
        label=gettext_lazy("Kind of hotspot"),
        required=False,
        choices=[("", gettext_lazy("All")), *HotspotKind.choices],
    )
    year = forms.ChoiceField(
        label=gettext_lazy("Mining detections of"),
        required=False,
        choices=[("", gettext_lazy("All years")), *((str(y), str(y)) for y in MINING_YEARS)],
    )

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        data = data.copy()
        # The short names ``from`` and ``to`` (a keyword in Python) are the endpoints'.
        for short, name in (("from", "start"), ("to", "end")):
            if short in data and name not in data:
                data[name] = data[short]
        super().__init__(data, *args, **kwargs)

    def values(self) -> dict[str, Any]:
        """The valid filters; an invalid one is ignored, as if not given."""
        self.is_valid()
        return {
            name: value
            for name, value in getattr(self, "cleaned_data", {}).items()
            if value not in (None, "")
        }


def filter_incidents(incidents: QuerySet[Incident], filters: dict[str, Any]) -> QuerySet[Incident]:
    # Only columns of the incident_map_cover index: the map's counts never read a row.
    if "start" in filters:
        incidents = incidents.filter(occurred_on__gte=filters["start"])
    if "end" in filters:
        incidents = incidents.filter(occurred_on__lte=filters["end"])
    if "kind" in filters:
        incidents = incidents.filter(kind=filters["kind"])
    if "level" in filters:
        incidents = incidents.filter(level=filters["level"])
    return incidents


def _collection(features: list[dict[str, Any]], **members: Any) -> JsonResponse:
    body = {"type": "FeatureCollection", "features": features, **members}
    response = JsonResponse(
        body, content_type=GEOJSON, json_dumps_params={"separators": (",", ":")}
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _point(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


# The page


def tile_csp(tile_url: str) -> str:
    """The strict policy, with images also allowed from the tile server's origin."""
    parts = urlsplit(tile_url.replace("{s}", "*"))
    origin = f"{parts.scheme}://{parts.netloc}"
    return CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")


@org_view
def map_page(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    form = MapFilterForm(request.GET)
    form.values()
    slug = ctx.organisation.slug
    attributions = [
        (layer.title, layer.attribution, layer.licence)
        for layer in ReferenceLayer.objects.filter(slug__in=LAYER_SLUGS).order_by("slug")
    ] or [(s.title, s.attribution, s.licence) for s in layers.REFERENCE_LAYERS]
    response = render(
        request,
        "monitoring/map.html",
        {
            "ctx": ctx,
            "form": form,
            "precise_incidents": access.sees_precise_incidents(ctx),
            "precise_hotspots": access.sees_precise_hotspots(ctx),
            "can_map": access.can_map_hotspots(ctx),
            "can_import": access.can_import(ctx),
            "attributions": attributions,
            "tile_url": settings.AMPARO_MAP_TILE_URL,
            "tile_attribution": settings.AMPARO_MAP_TILE_ATTRIBUTION,
            "incidents_url": reverse("map-incidents", args=[slug]),
            "hotspots_url": reverse("map-hotspots", args=[slug]),
            "layer_url": reverse("map-layer", args=[slug, "LAYER"]),
        },
    )
    if settings.AMPARO_MAP_TILE_URL:
        response["Content-Security-Policy"] = tile_csp(settings.AMPARO_MAP_TILE_URL)
    return response


# Data endpoints


@require_GET
@org_view
def incidents_geojson(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    filters = MapFilterForm(request.GET).values()
    if access.sees_precise_incidents(ctx):
        incidents = filter_incidents(access.incidents_visible_to(ctx), filters).exclude(cell="")
        return _precise_incidents(request, incidents)
    return _incidents_by_cell(counts_by_cell(ctx, filters), access.smallest_count_shown(ctx))


def whole_years(filters: dict[str, Any]) -> bool:
    """Filters the yearly tallies answer: no kind or level, and dates (if any) that
    begin and end whole years."""
    if "kind" in filters or "level" in filters:
        return False
    start, end = filters.get("start"), filters.get("end")
    return (start is None or (start.month, start.day) == (1, 1)) and (
        end is None or (end.month, end.day) == (12, 31)
    )


def counts_by_cell(ctx: OrgContext, filters: dict[str, Any]) -> QuerySet[Any]:
    """(cell, count) of the incidents the filters select. Without a kind, a level or a
    date inside a year, the yearly tallies (monitoring.tallies, grain "cy") answer: a few
    thousand rows per year instead of every fact."""
    if whole_years(filters):
        rows = access.tallies_visible_to(ctx).filter(grain="cy")
        if filters.get("start"):
            rows = rows.filter(period__gte=filters["start"])
        if filters.get("end"):
            rows = rows.filter(period__lte=filters["end"])
        return rows.order_by().values("cell").annotate(count=Sum("n")).values_list("cell", "count")
    incidents = filter_incidents(access.incidents_visible_to(ctx), filters).exclude(cell="")
    return (
        incidents.order_by().values("cell").annotate(count=Count("*")).values_list("cell", "count")
    )


def _incidents_by_cell(rows: QuerySet[Any], smallest: int) -> HttpResponse:
    rows = rows.filter(count__gte=smallest)
    features = []
    for cell_id, count in rows:
        lat, lon = grid.centre_of(cell_id)
        features.append(
            {
                "type": "Feature",
                "geometry": _point(lat, lon),
                "properties": {"cell": cell_id, "count": count},
            }
        )
    return _collection(features, precision="cell")


def _precise_incidents(request: HttpRequest, incidents: QuerySet[Incident]) -> HttpResponse:
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    start = (page - 1) * PAGE_SIZE
    rows = list(
        incidents.order_by("-month", "-id").only(
            "id", "organisation_id", "occurred_on", "kind", "level", "cell", "location", "victims"
        )[start : start + PAGE_SIZE + 1]
    )
    more = len(rows) > PAGE_SIZE
    features = []
    # Translated once, not per incident (get_kind_display translates each time).
    kind_labels = {code: str(label) for code, label in IncidentKind.choices}
    for incident in rows[:PAGE_SIZE]:
        location = incident.location
        if location:
            lat, lon, precise = location["lat"], location["lon"], True
        else:
            (lat, lon), precise = grid.centre_of(incident.cell), False
        features.append(
            {
                "type": "Feature",
                "id": str(incident.pk),
                "geometry": _point(lat, lon),
                "properties": {
                    "kind": incident.kind,
                    "kind_label": kind_labels.get(incident.kind, incident.kind),
                    "level": incident.level,
                    "date": incident.occurred_on.isoformat(),
                    "victims": incident.victims,
                    "precise": precise,
                },
            }
        )
    return _collection(features, precision="point", page=page, more=more)


@require_GET
@org_view
def hotspots_geojson(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    filters = MapFilterForm(request.GET).values()
    found = access.hotspots_visible_to(ctx)
    if "start" in filters:
        found = found.filter(observed_on__gte=filters["start"])
    if "end" in filters:
        found = found.filter(observed_on__lte=filters["end"])
    if "hotspot_kind" in filters:
        found = found.filter(kind=filters["hotspot_kind"])
    found = found.order_by("-observed_on", "id")[:MAX_HOTSPOTS]
    precise = access.sees_precise_hotspots(ctx)
    features = [_hotspot_feature(ctx, hotspot, precise) for hotspot in found]
    return _collection(features, precision="geometry" if precise else "cell")


def _hotspot_feature(ctx: OrgContext, hotspot: Hotspot, precise: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "kind": hotspot.kind,
        "kind_label": str(hotspot.get_kind_display()),
        "observed_on": hotspot.observed_on.isoformat(),
        "confidence": str(hotspot.get_confidence_display()),
        "source": str(hotspot.get_source_display()),
    }
    if not precise:
        lat, lon = grid.centre_of(hotspot.cell)
        return {"type": "Feature", "geometry": _point(lat, lon), "properties": properties}
    properties["notes"] = hotspot.notes
    if _may_change(ctx, hotspot):
        properties["edit_url"] = reverse(
            "map-hotspot-edit", args=[ctx.organisation.slug, hotspot.pk]
        )
    return {
        "type": "Feature",
        "id": str(hotspot.pk),
        "geometry": hotspot.geometry,
        "properties": properties,
    }


def _may_change(ctx: OrgContext, hotspot: Hotspot) -> bool:
    if not access.can_map_hotspots(ctx):
        return False
    return ctx.has_any(access.HOTSPOT_EDITORS_OF_ANY) or hotspot.mapped_by_id == ctx.user.pk


@require_GET
@org_view
def layer_geojson(request: HttpRequest, ctx: OrgContext, layer: str) -> HttpResponse:
    """A reference layer (public data) with its attribution; ``year`` filters the mining
    detections. Read from the loaded layer, or from the shipped file before loading."""
    source = LAYER_SLUGS.get(layer)
    if source is None:
        raise Http404("Not found")
    stored = ReferenceLayer.objects.filter(slug=layer).first()
    if stored is not None:
        geojson, attribution = stored.geojson, stored.attribution
    else:
        geojson = json.loads((layers.DATA_DIR / source.filename).read_text(encoding="utf-8"))
        attribution = source.attribution
    features = geojson.get("features", [])
    year = request.GET.get("year", "")
    if year.isdigit():
        features = [f for f in features if str((f.get("properties") or {}).get("year")) == year]
    response = _collection(features, attribution=attribution, licence=source.licence)
    # Public data that changes only with a release: let the browser keep it an hour.
    response["Cache-Control"] = "private, max-age=3600"
    return response


# Hotspot pages


class HotspotForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=HotspotKind.choices)
    observed_on = forms.DateField(
        label=gettext_lazy("Observed on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    confidence = forms.ChoiceField(
        label=gettext_lazy("Confidence"), choices=Confidence.choices, initial=Confidence.MEDIUM
    )
    source = forms.ChoiceField(
        label=gettext_lazy("Source"), choices=HotspotSource.choices, initial="community"
    )
    latitude = forms.FloatField(label=gettext_lazy("Latitude (a point)"), required=False)
    longitude = forms.FloatField(label=gettext_lazy("Longitude (a point)"), required=False)
    geometry = forms.CharField(
        label=gettext_lazy("Or a line or polygon as GeoJSON"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            'For example {"type": "LineString", "coordinates": [[-70.1, -12.6], [-70.0, -12.5]]}'
            " (longitude first)."
        ),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes (encrypted)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photo = forms.FileField(
        label=gettext_lazy("Photo (encrypted)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/*"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lat, lon, text = data.get("latitude"), data.get("longitude"), data.get("geometry")
        if text:
            try:
                data["parsed_geometry"] = json.loads(text)
            except ValueError:
                self.add_error("geometry", _("This is not GeoJSON."))
        elif lat is not None and lon is not None:
            data["parsed_geometry"] = {"type": "Point", "coordinates": [lon, lat]}
        else:
            raise ValidationError(_("Give a latitude and a longitude, or a GeoJSON geometry."))
        return data

    @classmethod
    def initial_of(cls, hotspot: Hotspot) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "kind": hotspot.kind,
            "observed_on": hotspot.observed_on,
            "confidence": hotspot.confidence,
            "source": hotspot.source,
            "notes": hotspot.notes,
        }
        geometry = hotspot.geometry
        if geometry["type"] == "Point":
            initial["longitude"], initial["latitude"] = geometry["coordinates"][:2]
        else:
            initial["geometry"] = json.dumps(geometry)
        return initial


def _hotspot_fields(form: HotspotForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "kind": data["kind"],
        "observed_on": data["observed_on"],
        "confidence": data["confidence"],
        "source": data["source"],
        "geometry": data["parsed_geometry"],
        "notes": data["notes"],
    }


def with_photo_uploads(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Stream a posted photo into the vault (incidents.vault.VaultUploadHandler) as the
    body arrives; CSRF is checked after the handler is installed. Whatever the view did
    not keep is removed from the vault's staging area."""
    protected = csrf_protect(view)

    @functools.wraps(view)
    def wrapper(request: HttpRequest, ctx: OrgContext, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return protected(request, ctx, *args, **kwargs)
        handler = vault.VaultUploadHandler(request, ctx.organisation.pk)
        request.upload_handlers = [handler]
        try:
            return protected(request, ctx, *args, **kwargs)
        finally:
            for staged in handler.staged:
                vault.blob_path(staged.organisation_id, staged.evidence_id, part=True).unlink(
                    missing_ok=True
                )

    return wrapper


def _add_photo(request: HttpRequest, hotspot: Hotspot) -> None:
    """The form's photo, if one was chosen, to the hotspot; refused ones are named."""
    staged = [f.staged for f in request.FILES.getlist("photo") if isinstance(f, vault.StagedUpload)]
    if not staged:
        return
    added = hotspots.add_photos(request.user, hotspot, staged)
    for name, why in added.refused_files:
        messages.warning(request, _("Not kept: %(files)s.") % {"files": f"{name} ({why})"})


def _photo_rows(ctx: OrgContext, photos: Any) -> list[dict[str, Any]]:
    slug = ctx.organisation.slug
    return [
        {
            "photo": photo,
            "url": reverse("map-hotspot-photo", args=[slug, photo.hotspot_id, photo.pk]),
        }
        for photo in photos
    ]


def _errors_onto(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@org_view
def hotspot_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_mapper(ctx)
    rows = [
        (hotspot, _may_change(ctx, hotspot))
        for hotspot in access.hotspots_visible_to(ctx).select_related("mapped_by")[:500]
    ]
    photos = access.hotspot_photos_visible_to(ctx).filter(hotspot__in=[h for h, _m in rows])
    return render(
        request,
        "monitoring/hotspot_list.html",
        {
            "ctx": ctx,
            "rows": rows,
            "photos": _photo_rows(
                ctx, photos.select_related("hotspot").order_by("-hotspot__observed_on")
            ),
        },
    )


@csrf_exempt
@org_view
@with_photo_uploads
def hotspot_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_mapper(ctx)
    form = HotspotForm(
        request.POST or None, request.FILES or None, initial={"observed_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            hotspot = hotspots.add_hotspot(
                request.user, ctx.organisation, mapped_by=request.user, **_hotspot_fields(form)
            )
        except ValidationError as exc:
            _errors_onto(form, exc)
        else:
            _add_photo(request, hotspot)
            messages.success(request, _("Hotspot mapped."))
            return redirect("map-hotspot-list", ctx.organisation.slug)
    return render(
        request,
        "monitoring/hotspot_form.html",
        {"ctx": ctx, "form": form, "title": _("Map a hotspot")},
    )


@csrf_exempt
@org_view
@with_photo_uploads
def hotspot_edit(request: HttpRequest, ctx: OrgContext, hotspot_id: str) -> HttpResponse:
    hotspot = access.access_hotspot_to_change(ctx, hotspot_id)
    form = HotspotForm(
        request.POST or None, request.FILES or None, initial=HotspotForm.initial_of(hotspot)
    )
    if request.method == "POST" and form.is_valid():
        try:
            hotspot = hotspots.change_hotspot(request.user, hotspot, **_hotspot_fields(form))
        except ValidationError as exc:
            _errors_onto(form, exc)
        else:
            _add_photo(request, hotspot)
            messages.success(request, _("Hotspot changed."))
            return redirect("map-hotspot-list", ctx.organisation.slug)
    photos = access.hotspot_photos_visible_to(ctx).filter(hotspot=hotspot)
    return render(
        request,
        "monitoring/hotspot_form.html",
        {
            "ctx": ctx,
            "form": form,
            "title": _("Change a hotspot"),
            "hotspot": hotspot,
            "photos": _photo_rows(ctx, photos),
        },
    )


@require_GET
@org_view  # type: ignore[arg-type]  # a streaming response, not an HttpResponse
def hotspot_photo(
    request: HttpRequest, ctx: OrgContext, hotspot_id: str, photo_id: str
) -> StreamingHttpResponse:
    """The photo as it was received, decrypted as it streams; the audit log records the
    download first. Always an attachment, never rendered by the browser."""
    photo = access.access_hotspot_photo_by_id(ctx, hotspot_id, photo_id)
    response = StreamingHttpResponse(
        hotspots.read_photo(request.user, photo),
        content_type=photo.content_type or "application/octet-stream",
    )
    response["Content-Disposition"] = content_disposition_header(True, photo.name) or ""
    response["Content-Length"] = str(photo.size)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@org_view
def hotspot_archive(request: HttpRequest, ctx: OrgContext, hotspot_id: str) -> HttpResponse:
    hotspot = access.access_hotspot_to_change(ctx, hotspot_id)
    hotspots.archive_hotspot(request.user, hotspot)
    messages.success(request, _("Hotspot archived."))
    return redirect("map-hotspot-list", ctx.organisation.slug)
