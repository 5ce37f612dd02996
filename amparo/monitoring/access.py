"""Reads of monitoring records. Tenancy first, then role, one condition per line; any
failure is the same 404 (DESIGN.md section 7).

Who sees what on the map, in exports and in imports:
- Incidents: the security coordinator sees each incident at its precise point (when one
  is known) and exports it with identity and description. Every other member sees
  incidents only as counts per 10 km grid cell, placed at the cell's centre, with no
  identity or free text; for partners ("anonymised data", DESIGN.md section 1) a cell
  under k = 5 is left out, as in public output (DESIGN.md section 7).
- Hotspots (participatory mapping, reference Strategy 4, line 1): focal points and
  coordinators map them and see them precisely; a focal point changes or archives the
  hotspots they mapped, a coordinator any. Every other member sees each hotspot as its
  kind, date, confidence and source at its grid cell's centre: the community learns where
  the pressures are, while the exact camp or route a monitor walked (which can point to
  the monitor) and the notes stay with the mappers. A hotspot's photos (which can carry
  a GPS position in their metadata) are for the same mappers; a photo is added by whoever
  may change the hotspot.
- Imports: the coordinator only (an import writes identity data of victims).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from amparo.core.access import not_found
from amparo.monitoring.models import (
    Hotspot,
    HotspotPhoto,
    ImportJob,
    ImportPreset,
    Incident,
    IncidentTally,
)
from amparo.people.access import OrgContext, _uuid
from amparo.people.models import Role

PRECISE_INCIDENT_READERS = frozenset({Role.COORDINATOR})
HOTSPOT_MAPPERS = frozenset({Role.FOCAL_POINT, Role.COORDINATOR})
HOTSPOT_EDITORS_OF_ANY = frozenset({Role.COORDINATOR})
IMPORTERS = frozenset({Role.COORDINATOR})
# Roles that receive anonymised data only: counts below k are suppressed for them.
ANONYMISED_ONLY = frozenset({Role.PARTNER})
K_ANONYMITY = 5


# Incidents


def sees_precise_incidents(ctx: OrgContext) -> bool:
    return ctx.has_any(PRECISE_INCIDENT_READERS)


def smallest_count_shown(ctx: OrgContext) -> int:
    """The smallest per-cell count a member may see (1: every count)."""
    if sees_precise_incidents(ctx):
        return 1
    if ctx.roles and ctx.roles <= ANONYMISED_ONLY:
        return K_ANONYMITY
    return 1


def incidents_visible_to(ctx: OrgContext) -> QuerySet[Incident]:
    """The organisation's incidents; how precisely depends on sees_precise_incidents."""
    return Incident.objects.filter(organisation=ctx.organisation)


def tallies_visible_to(ctx: OrgContext) -> QuerySet[IncidentTally]:
    """The organisation's incident tallies (counts only; monitoring.tallies)."""
    return IncidentTally.objects.filter(organisation=ctx.organisation)


# Hotspots


def can_map_hotspots(ctx: OrgContext) -> bool:
    return ctx.has_any(HOTSPOT_MAPPERS)


def sees_precise_hotspots(ctx: OrgContext) -> bool:
    return ctx.has_any(HOTSPOT_MAPPERS)


def require_mapper(ctx: OrgContext) -> None:
    if not can_map_hotspots(ctx):
        not_found()


def hotspots_visible_to(ctx: OrgContext) -> QuerySet[Hotspot]:
    return Hotspot.objects.filter(organisation=ctx.organisation, archived_at__isnull=True)


def access_hotspot_to_change(ctx: OrgContext, hotspot_id: Any) -> Hotspot:
    hotspot = Hotspot.objects.filter(pk=_uuid(hotspot_id)).first()
    if hotspot is None:
        not_found()
    if hotspot.organisation_id != ctx.organisation.pk:
        not_found()
    if hotspot.archived_at is not None:
        not_found()
    if not can_map_hotspots(ctx):
        not_found()
    if ctx.has_any(HOTSPOT_EDITORS_OF_ANY):
        return hotspot
    if hotspot.mapped_by_id != ctx.user.pk:
        not_found()
    return hotspot


def hotspot_photos_visible_to(ctx: OrgContext) -> QuerySet[HotspotPhoto]:
    """Photos of the hotspots one sees precisely (none for anyone else)."""
    if not sees_precise_hotspots(ctx):
        return HotspotPhoto.objects.none()
    return HotspotPhoto.objects.filter(
        organisation=ctx.organisation, hotspot__archived_at__isnull=True
    )


def access_hotspot_photo_by_id(ctx: OrgContext, hotspot_id: Any, photo_id: Any) -> HotspotPhoto:
    photo = HotspotPhoto.objects.select_related("hotspot").filter(pk=_uuid(photo_id)).first()
    if photo is None:
        not_found()
    if photo.hotspot_id != _uuid(hotspot_id):
        not_found()
    if photo.organisation_id != ctx.organisation.pk:
        not_found()
    if photo.hotspot.archived_at is not None:
        not_found()
    if not sees_precise_hotspots(ctx):
        not_found()
    return photo


# Imports


def can_import(ctx: OrgContext) -> bool:
    return ctx.has_any(IMPORTERS)


def require_importer(ctx: OrgContext) -> None:
    if not can_import(ctx):
        not_found()


def import_jobs_visible_to(ctx: OrgContext) -> QuerySet[ImportJob]:
    if not can_import(ctx):
        return ImportJob.objects.none()
    return ImportJob.objects.filter(organisation=ctx.organisation)


def access_import_job_by_id(ctx: OrgContext, job_id: Any) -> ImportJob:
    job = ImportJob.objects.filter(pk=_uuid(job_id)).first()
    if job is None:
        not_found()
    if job.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_import(ctx):
        not_found()
    return job


def presets_visible_to(ctx: OrgContext) -> QuerySet[ImportPreset]:
    if not can_import(ctx):
        return ImportPreset.objects.none()
    return ImportPreset.objects.filter(organisation=ctx.organisation).order_by("name")


def access_import_preset_by_id(ctx: OrgContext, preset_id: Any) -> ImportPreset:
    preset = ImportPreset.objects.filter(pk=_uuid(preset_id)).first()
    if preset is None:
        not_found()
    if preset.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_import(ctx):
        not_found()
    return preset
