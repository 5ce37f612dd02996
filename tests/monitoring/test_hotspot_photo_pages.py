"""The hotspot pages and photos (issue 9, point 1): a photo added with the hotspot form
streams into the vault, the list and the hotspot's page list the photos, and a download
is audited and reached only by the organisation's mappers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from amparo.core.models import AuditEntry
from amparo.incidents import vault
from amparo.monitoring import hotspots
from amparo.monitoring.models import Hotspot, HotspotPhoto
from tests.monitoring.test_hotspot_photos import AMR, JPEG, POINT, blobs, stage


@pytest.fixture(autouse=True)
def vault_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


FIELDS = {
    "kind": "airstrip",
    "observed_on": "2025-01-15",
    "confidence": "low",
    "source": "community",
    "latitude": "-12.4",
    "longitude": "-69.9",
}


def photo_url(photo):
    return reverse(
        "map-hotspot-photo",
        kwargs={"slug": "org-a", "hotspot_id": photo.hotspot_id, "photo_id": photo.pk},
    )


def test_a_focal_point_maps_a_hotspot_with_a_photo(world, login):
    client = login(world.focal_point)
    new = reverse("map-hotspot-new", kwargs={"slug": "org-a"})
    assert b'enctype="multipart/form-data"' in client.get(new).content
    photo_file = SimpleUploadedFile("airstrip.jpg", JPEG, content_type="image/jpeg")
    response = client.post(new, {**FIELDS, "photo": photo_file})
    assert response.status_code == 302, response.content[:2000]
    hotspot = Hotspot.objects.get()
    photo = HotspotPhoto.objects.get()
    assert (photo.hotspot, photo.name, photo.uploaded_by) == (
        hotspot,
        "airstrip.jpg",
        world.focal_point.user,
    )
    assert blobs() == [f"{photo.pk}.bin"]

    page = client.get(reverse("map-hotspot-list", kwargs={"slug": "org-a"}))
    assert b"airstrip.jpg" in page.content
    assert photo_url(photo).encode() in page.content
    edit = reverse("map-hotspot-edit", kwargs={"slug": "org-a", "hotspot_id": hotspot.pk})
    assert photo_url(photo).encode() in client.get(edit).content

    download = client.get(photo_url(photo))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == JPEG
    assert download["Content-Type"] == "image/jpeg"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    entry = AuditEntry.objects.get(action="monitoring.hotspot_photo_downloaded")
    assert entry.actor == f"user:{world.focal_point.user.pk}"


def test_a_photo_is_added_when_changing_a_hotspot_and_a_non_photo_is_refused(world, login):
    hotspot = hotspots.add_hotspot(
        world.focal_point.user,
        world.org_a,
        kind="coca",
        observed_on=dt.date(2025, 1, 1),
        geometry=POINT,
        mapped_by=world.focal_point.user,
    )
    client = login(world.focal_point)
    edit = reverse("map-hotspot-edit", kwargs={"slug": "org-a", "hotspot_id": hotspot.pk})
    voice = SimpleUploadedFile("note.jpg", AMR, content_type="image/jpeg")
    response = client.post(edit, {**FIELDS, "photo": voice}, follow=True)
    assert response.status_code == 200
    assert b"note.jpg" in response.content  # named as not kept
    assert not HotspotPhoto.objects.exists()
    photo_file = SimpleUploadedFile("coca.jpg", JPEG, content_type="image/jpeg")
    assert client.post(edit, {**FIELDS, "photo": photo_file}).status_code == 302
    assert [p.name for p in hotspot.photos.all()] == ["coca.jpg"]
    assert len(blobs()) == 1


def test_csrf_is_checked_after_the_vault_handler_is_installed(world, login):
    client = login(world.focal_point)
    client.handler.enforce_csrf_checks = True
    new = reverse("map-hotspot-new", kwargs={"slug": "org-a"})
    photo_file = SimpleUploadedFile("airstrip.jpg", JPEG, content_type="image/jpeg")
    assert client.post(new, {**FIELDS, "photo": photo_file}).status_code == 403
    assert not Hotspot.objects.exists()
    assert blobs() == []
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(new).text)[1]
    photo_file = SimpleUploadedFile("airstrip.jpg", JPEG, content_type="image/jpeg")
    response = client.post(new, {**FIELDS, "photo": photo_file, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert HotspotPhoto.objects.count() == 1


def test_it_validates_ownership(world, login):
    hotspot = hotspots.add_hotspot(
        world.focal_point.user,
        world.org_a,
        kind="coca",
        observed_on=dt.date(2025, 1, 1),
        geometry=POINT,
        mapped_by=world.focal_point.user,
    )
    photo = hotspots.add_photos(world.focal_point.user, hotspot, [stage(world)]).photos[0]
    assert login(world.coordinator).get(photo_url(photo)).status_code == 200
    for persona in (world.coordinator_b, world.defender, world.supervisor):
        assert login(persona).get(photo_url(photo)).status_code == 404
    # Another organisation's URL with this photo: the same 404.
    other = reverse(
        "map-hotspot-photo",
        kwargs={"slug": "org-b", "hotspot_id": hotspot.pk, "photo_id": photo.pk},
    )
    assert login(world.coordinator_b).get(other).status_code == 404
    listing = login(world.defender).get(reverse("map-hotspot-list", kwargs={"slug": "org-a"}))
    assert listing.status_code == 404
    assert AuditEntry.objects.filter(action="monitoring.hotspot_photo_downloaded").count() == 1
    assert vault.blob_path(photo.organisation_id, photo.pk).exists()
