"""Hotspots: participatory mapping of the pressures on a territory (issue 7, point 2).

Reference, Strategy 4, line 1: community-based risk monitoring, with communities mapping
where illegal mining camps, logging routes, clandestine airstrips, land trafficking and
coca cultivation are. Focal points and coordinators map them (monitoring.access).

Every write is an action here: it validates, saves, and audits in one transaction. The
geometry is a GeoJSON Point, LineString or Polygon (CRS84: longitude, latitude), sealed
at rest; its readable grid cell is the cell of the polygon's centroid, the line's first
point, or the point, so that members who see hotspots coarsened see them there.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.monitoring import grid
from amparo.monitoring.models import Confidence, Hotspot, HotspotKind, HotspotSource
from amparo.people.models import Organisation

GEOMETRY_TYPES = ("Point", "LineString", "Polygon")
MAX_POSITIONS = 5000
DECIMALS = 6  # about 10 cm: more is noise from a phone's GPS
EDITABLE = ("kind", "observed_on", "confidence", "source", "geometry", "notes")


# Geometry


def _position(value: Any) -> list[float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise ValidationError(_("Each position is a longitude and a latitude."))
    lon, lat = value[0], value[1]
    for number in (lon, lat):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ValidationError(_("Coordinates are numbers."))
        if not math.isfinite(number):
            raise ValidationError(_("Coordinates are numbers."))
    if not -180 <= lon <= 180:
        raise ValidationError(_("A longitude is between -180 and 180."))
    if not -90 <= lat <= 90:
        raise ValidationError(_("A latitude is between -90 and 90."))
    return [round(float(lon), DECIMALS), round(float(lat), DECIMALS)]


def _positions(value: Any, at_least: int) -> list[list[float]]:
    if not isinstance(value, list | tuple) or len(value) < at_least:
        raise ValidationError(_("A line needs at least %(n)d positions.") % {"n": at_least})
    return [_position(item) for item in value]


def validate_geometry(geometry: Any) -> dict[str, Any]:
    """A clean GeoJSON geometry (a Feature is unwrapped), or ValidationError."""
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict):
        raise ValidationError(_("The geometry is not GeoJSON."))
    kind = geometry.get("type")
    if kind not in GEOMETRY_TYPES:
        raise ValidationError(_("The geometry is a Point, a LineString or a Polygon."))
    coordinates = geometry.get("coordinates")
    clean: Any
    count = 1
    if kind == "Point":
        clean = _position(coordinates)
    elif kind == "LineString":
        clean = _positions(coordinates, 2)
        count = len(clean)
    else:
        if not isinstance(coordinates, list) or not coordinates:
            raise ValidationError(_("A polygon needs at least one ring."))
        clean = []
        for ring in coordinates:
            positions = _positions(ring, 4)
            if positions[0] != positions[-1]:
                raise ValidationError(_("A polygon's ring ends where it starts."))
            clean.append(positions)
        count = sum(len(ring) for ring in clean)
    if count > MAX_POSITIONS:
        raise ValidationError(
            _("The geometry has more than %(n)d positions.") % {"n": MAX_POSITIONS}
        )
    return {"type": kind, "coordinates": clean}


def anchor_of(geometry: dict[str, Any]) -> tuple[float, float]:
    """(lat, lon) that places a geometry in the grid: the point, the line's first point,
    or the centroid of the polygon's outer ring (the mean of its corners when the ring
    has no area)."""
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return coordinates[1], coordinates[0]
    if kind == "LineString":
        return coordinates[0][1], coordinates[0][0]
    ring = coordinates[0]
    twice_area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(
        [p[:2] for p in ring[:-1]], [p[:2] for p in ring[1:]], strict=True
    ):
        cross = x0 * y1 - x1 * y0
        twice_area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(twice_area) < 1e-12:
        corners = ring[:-1]
        return (
            sum(p[1] for p in corners) / len(corners),
            sum(p[0] for p in corners) / len(corners),
        )
    return cy / (3 * twice_area), cx / (3 * twice_area)


def cell_of_geometry(geometry: dict[str, Any]) -> str:
    lat, lon = anchor_of(geometry)
    return grid.cell_of(max(-90.0, min(90.0, lat)), max(-180.0, min(180.0, lon))).id


def _check_fields(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    if "kind" in fields and fields["kind"] not in HotspotKind.values:
        errors["kind"] = _("Choose a kind of hotspot.")
    if "confidence" in fields and fields["confidence"] not in Confidence.values:
        errors["confidence"] = _("Choose a confidence.")
    if "source" in fields and fields["source"] not in HotspotSource.values:
        errors["source"] = _("Choose a source.")
    if "observed_on" in fields:
        observed_on = fields["observed_on"]
        if not isinstance(observed_on, dt.date) or observed_on > timezone.now().date():
            errors["observed_on"] = _("The date cannot be in the future.")
    if "geometry" in fields:
        try:
            fields["geometry"] = validate_geometry(fields["geometry"])
        except ValidationError as exc:
            errors["geometry"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return fields


# Actions


def add_hotspot(
    actor: Any,
    organisation: Organisation,
    *,
    kind: str,
    observed_on: dt.date,
    geometry: Any,
    confidence: str = Confidence.MEDIUM,
    source: str = HotspotSource.COMMUNITY,
    notes: str = "",
    mapped_by: Any = None,
) -> Hotspot:
    fields = _check_fields(
        {
            "kind": kind,
            "observed_on": observed_on,
            "confidence": confidence,
            "source": source,
            "geometry": geometry,
        }
    )
    with transaction.atomic():
        hotspot = Hotspot.objects.create(
            organisation=organisation,
            cell=cell_of_geometry(fields["geometry"]),
            notes=notes.strip(),
            mapped_by=mapped_by,
            **fields,
        )
        audit.record(
            actor,
            "monitoring.hotspot_added",
            hotspot,
            details={"kind": kind, "type": fields["geometry"]["type"], "cell": hotspot.cell},
        )
    return hotspot


def change_hotspot(actor: Any, hotspot: Hotspot, **changes: Any) -> Hotspot:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    fields = _check_fields(dict(changes))
    with transaction.atomic():
        locked = Hotspot.objects.select_for_update().get(pk=hotspot.pk)
        if locked.archived_at is not None:
            raise ValidationError(_("This hotspot is archived."))
        changed = sorted(name for name, value in fields.items() if getattr(locked, name) != value)
        for name, value in fields.items():
            setattr(locked, name, value.strip() if name == "notes" else value)
        if "geometry" in fields:
            locked.cell = cell_of_geometry(fields["geometry"])
        locked.save()
        # Names of the changed fields only: the values are sealed or readable already.
        audit.record(actor, "monitoring.hotspot_changed", locked, details={"fields": changed})
    return locked


def archive_hotspot(actor: Any, hotspot: Hotspot) -> Hotspot:
    with transaction.atomic():
        locked = Hotspot.objects.select_for_update().get(pk=hotspot.pk)
        if locked.archived_at is None:
            locked.archived_at = timezone.now()
            locked.save(update_fields=["archived_at", "updated_at"])
            audit.record(actor, "monitoring.hotspot_archived", locked)
    return locked
