"""Hotspots: participatory mapping of the pressures on a territory (issue 7, point 2).

Reference, Strategy 4, line 1: community-based risk monitoring, with communities mapping
where illegal mining camps, logging routes, clandestine airstrips, land trafficking and
coca cultivation are. Focal points and coordinators map them (monitoring.access).
A hotspot may have photos (``HotspotPhoto``): from the phone's observation form
(OpenRosa, issue 9) or added on its page, kept in the evidence vault (incidents.vault)
as evidence files are, and every download audited.

Every write is an action here: it validates, saves, and audits in one transaction. The
geometry is a GeoJSON Point, LineString or Polygon (CRS84: longitude, latitude), sealed
at rest; its readable grid cell is the cell of the polygon's centroid, the line's first
point, or the point, so that members who see hotspots coarsened see them there.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.incidents import vault
from amparo.monitoring import grid
from amparo.monitoring.models import (
    Confidence,
    Hotspot,
    HotspotKind,
    HotspotPhoto,
    HotspotSource,
)
from amparo.people.models import Organisation, User

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


# Photos


@dataclass
class PhotosAdded:
    """What ``add_photos`` did: the photos stored, and the ones refused (name, why)."""

    photos: list[HotspotPhoto] = field(default_factory=list)
    refused_files: list[tuple[str, str]] = field(default_factory=list)


def add_photos(actor: Any, hotspot: Hotspot, photos: Sequence[vault.StagedEvidence]) -> PhotosAdded:
    """Photos of a hotspot, staged by the vault while the request streamed in (hashed,
    size-checked, typed from their bytes, sealed under their own keys), kept in one
    transaction and audited as ``monitoring.hotspot_photos_added`` (ids and hashes, no
    name). Only images are kept; a photo the hotspot already has (the same SHA-256, a
    phone's part sent again) is not stored twice. Refused files are named in the
    answer; if anything fails, every staged blob is removed."""
    for staged in photos:
        if not staged.refused and not staged.content_type.startswith("image/"):
            staged.refused = _("it is not a photo")
            staged.discard()
    accepted = [p for p in photos if not p.refused]
    stored: list[vault.StagedEvidence] = []
    try:
        with transaction.atomic():
            locked = Hotspot.objects.select_for_update().get(pk=hotspot.pk)
            if locked.archived_at is not None:
                raise ValidationError(_("This hotspot is archived."))
            held = set(HotspotPhoto.objects.filter(hotspot=locked).values_list("sha256", flat=True))
            for staged in accepted:
                if staged.sha256 not in held:
                    held.add(staged.sha256)
                    stored.append(staged)
            rows: list[HotspotPhoto] = []
            if stored:
                now = timezone.now()
                user = actor if isinstance(actor, User) else None
                rows = [
                    HotspotPhoto(
                        **{**s.row_fields(), "organisation_id": locked.organisation_id},
                        hotspot=locked,
                        uploaded_at=now,
                        uploaded_by=user,
                    )
                    for s in stored
                ]
                HotspotPhoto.objects.bulk_create(rows)
                audit.record(
                    actor,
                    "monitoring.hotspot_photos_added",
                    locked,
                    details={
                        "photos": [
                            {"id": str(s.evidence_id), "sha256": s.sha256, "size": s.size}
                            for s in stored
                        ],
                        "refused": len(photos) - len(accepted),
                    },
                )
                # Final names now; if the commit fails, the except below removes them.
                for staged in stored:
                    staged.commit()
    except BaseException:
        for staged in photos:
            staged.discard()
        raise
    kept = {s.evidence_id for s in stored}
    for staged in accepted:
        if staged.evidence_id not in kept:
            staged.discard()
    return PhotosAdded(rows, [(p.name, p.refused) for p in photos if p.refused])


def read_photo(actor: Any, photo: HotspotPhoto) -> Iterator[bytes]:
    """The plaintext of a photo, chunk by chunk, after the audit log records who took
    it (as incidents.actions.read_evidence records a download of evidence). Raises
    incidents.vault.VaultError while streaming if the blob was altered."""
    with transaction.atomic():
        audit.record(
            actor,
            "monitoring.hotspot_photo_downloaded",
            photo,
            details={"hotspot": str(photo.hotspot_id), "sha256": photo.sha256},
        )
    return vault.read_blob(
        vault.blob_path(photo.organisation_id, photo.pk),
        photo.pk,
        vault.decode_key(photo.file_key),
    )
