"""Photos of hotspots (issue 9, point 1): kept in the evidence vault as evidence files
are (own key, sealed in chunks, hashed, typed from the bytes), added and read through
audited actions, reached only by the organisation's mappers."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404

from amparo.core.models import AuditEntry
from amparo.incidents import vault
from amparo.monitoring import access, hotspots
from amparo.monitoring.models import HotspotPhoto
from amparo.people.access import access_organisation_by_slug

POINT = {"type": "Point", "coordinates": [-69.1891, -12.5934]}
# A tiny JPEG (the bytes ODK Collect's camera files start with) and an AMR voice note.
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"Yupanqui camp, seen from the river" * 4
    + b"\xff\xd9"
)
AMR = b"#!AMR\n" + b"\x3c" * 400


@pytest.fixture(autouse=True)
def vault_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


def blobs() -> list[str]:
    if not vault.evidence_dir().exists():
        return []
    return sorted(p.name for p in vault.evidence_dir().rglob("*") if p.is_file())


def add(world, by=None):
    by = by or world.focal_point
    return hotspots.add_hotspot(
        by.user,
        world.org_a,
        kind="mining_camp",
        observed_on=dt.date(2025, 2, 1),
        geometry=POINT,
        mapped_by=by.user,
    )


def stage(world, name="camp.jpg", content=JPEG):
    return vault.stage_stream(world.org_a.pk, name, iter([content[:50], content[50:]]))


def test_it_keeps_a_photo_sealed_in_the_vault_with_audit(world):
    hotspot = add(world)
    added = hotspots.add_photos(world.focal_point.user, hotspot, [stage(world)])
    assert added.refused_files == []
    photo = HotspotPhoto.objects.get()
    assert [p.pk for p in added.photos] == [photo.pk]
    assert (photo.hotspot, photo.organisation, photo.name) == (hotspot, world.org_a, "camp.jpg")
    assert (photo.content_type, photo.size) == ("image/jpeg", len(JPEG))
    assert photo.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert photo.uploaded_by == world.focal_point.user
    assert blobs() == [f"{photo.pk}.bin"]
    blob = vault.blob_path(photo.organisation_id, photo.pk).read_bytes()
    assert blob.startswith(vault.MAGIC)
    assert b"Yupanqui" not in blob
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, file_key FROM monitoring_hotspotphoto")
        assert "camp.jpg" not in str(cursor.fetchall())
    entry = AuditEntry.objects.get(action="monitoring.hotspot_photos_added")
    assert entry.object_id == str(hotspot.pk)
    assert entry.details["photos"][0]["sha256"] == photo.sha256
    assert "camp.jpg" not in str(entry.details)

    assert b"".join(hotspots.read_photo(world.coordinator.user, photo)) == JPEG
    read = AuditEntry.objects.get(action="monitoring.hotspot_photo_downloaded")
    assert (read.object_id, read.details["hotspot"]) == (str(photo.pk), str(hotspot.pk))


def test_it_keeps_only_photos(world):
    hotspot = add(world)
    added = hotspots.add_photos(world.focal_point.user, hotspot, [stage(world, "a.jpg", AMR)])
    assert added.refused_files == [("a.jpg", "it is not a photo")]
    assert not HotspotPhoto.objects.exists()
    assert blobs() == []
    assert not AuditEntry.objects.filter(action="monitoring.hotspot_photos_added").exists()


def test_it_stores_the_same_photo_once(world):
    hotspot = add(world)
    hotspots.add_photos(world.focal_point.user, hotspot, [stage(world)])
    again = hotspots.add_photos(world.focal_point.user, hotspot, [stage(world, "copy.jpg")])
    assert again.photos == []
    assert HotspotPhoto.objects.count() == 1
    assert len(blobs()) == 1


def test_an_archived_hotspot_takes_no_photo(world):
    hotspot = add(world)
    hotspots.archive_hotspot(world.coordinator.user, hotspot)
    with pytest.raises(ValidationError):
        hotspots.add_photos(world.focal_point.user, hotspot, [stage(world)])
    assert not HotspotPhoto.objects.exists()
    assert blobs() == []


def test_a_tampered_photo_does_not_open(world):
    hotspot = add(world)
    photo = hotspots.add_photos(world.focal_point.user, hotspot, [stage(world)]).photos[0]
    path = vault.blob_path(photo.organisation_id, photo.pk)
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(vault.VaultError):
        b"".join(hotspots.read_photo(world.coordinator.user, photo))


def test_only_the_organisations_mappers_reach_a_photo(world):
    hotspot = add(world)
    other = add(world, by=world.coordinator)
    photo = hotspots.add_photos(world.focal_point.user, hotspot, [stage(world)]).photos[0]

    def ctx(persona, slug="org-a"):
        return access_organisation_by_slug(persona.user, slug)

    for persona in (world.focal_point, world.coordinator):
        assert access.access_hotspot_photo_by_id(ctx(persona), hotspot.pk, photo.pk) == photo
        assert list(access.hotspot_photos_visible_to(ctx(persona))) == [photo]
    for persona in (world.defender, world.supervisor):
        with pytest.raises(Http404):
            access.access_hotspot_photo_by_id(ctx(persona), hotspot.pk, photo.pk)
        assert not access.hotspot_photos_visible_to(ctx(persona)).exists()
    with pytest.raises(Http404):
        access.access_hotspot_photo_by_id(ctx(world.coordinator_b, "org-b"), hotspot.pk, photo.pk)
    assert not access.hotspot_photos_visible_to(ctx(world.coordinator_b, "org-b")).exists()
    for hotspot_id, photo_id in ((other.pk, photo.pk), (hotspot.pk, "nonsense")):
        with pytest.raises(Http404):
            access.access_hotspot_photo_by_id(ctx(world.coordinator), hotspot_id, photo_id)
    hotspots.archive_hotspot(world.coordinator.user, hotspot)
    with pytest.raises(Http404):
        access.access_hotspot_photo_by_id(ctx(world.coordinator), hotspot.pk, photo.pk)
