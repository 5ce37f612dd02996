"""The hotspot observation form, submitted by a phone, goes through the hotspot action;
its photo lands in the vault attached to the hotspot, also when it comes in a later part
of a split submission."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from amparo.channels.models import OpenRosaSubmission
from amparo.channels.openrosa import actions
from amparo.core.models import AuditEntry
from amparo.incidents.vault import evidence_dir
from amparo.monitoring import hotspots
from amparo.monitoring.models import Hotspot, HotspotPhoto
from tests.channels.openrosa_phone import AMR, JPEG, Phone


@pytest.fixture(autouse=True)
def vault_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


def hotspot_xml(shape: str = "point", point: str = "", trace: str = "", photo: str = "") -> bytes:
    return (
        '<data id="amparo_hotspot_observation" version="2026112801">'
        f"<kind>mining_camp</kind><observed_on>2026-05-01</observed_on><shape>{shape}</shape>"
        f"<point>{point}</point><trace>{trace}</trace><photo>{photo}</photo>"
        "<notes>Balsas en el río</notes>"
        f"<meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta></data>"
    ).encode()


def blobs() -> list[str]:
    if not evidence_dir().exists():
        return []
    return sorted(p.name for p in evidence_dir().rglob("*") if p.is_file())


@pytest.fixture
def phone(world, client):
    device, password = actions.create_device("test", world.org_a, label="Monitor")
    return Phone(client, device.username, password)


def test_a_point_becomes_a_hotspot(phone, world):
    response = phone.submit(
        "org-a",
        hotspot_xml(point="-12.5933 -69.1891 180 5", photo="c.jpg"),
        [("c.jpg", JPEG, "image/jpeg")],
    )
    assert response.status_code == 201, response.content
    hotspot = Hotspot.objects.get()
    assert hotspot.organisation == world.org_a
    assert hotspot.kind == "mining_camp"
    assert hotspot.geometry["type"] == "Point"
    assert hotspot.geometry["coordinates"][:2] == [-69.1891, -12.5933]
    assert hotspot.notes == "Balsas en el río"
    assert OpenRosaSubmission.objects.get().subject_type == "monitoring.hotspot"
    photo = HotspotPhoto.objects.get()
    assert (photo.hotspot, photo.organisation, photo.name) == (hotspot, world.org_a, "c.jpg")
    assert (photo.content_type, photo.size) == ("image/jpeg", len(JPEG))
    assert photo.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert b"".join(hotspots.read_photo("test", photo)) == JPEG
    assert blobs() == [f"{photo.pk}.bin"]
    # Sealed at rest: the blob does not hold the photo's bytes.
    assert JPEG[20:60] not in next(evidence_dir().rglob("*.bin")).read_bytes()
    assert AuditEntry.objects.filter(action="monitoring.hotspot_photos_added").count() == 1


def test_a_route_becomes_a_line(phone):
    trace = "-12.59 -69.18 0 5;-12.60 -69.19 0 5;-12.61 -69.20 0 5"
    response = phone.submit("org-a", hotspot_xml(shape="line", trace=trace))
    assert response.status_code == 201, response.content
    assert Hotspot.objects.get().geometry["type"] == "LineString"


def test_a_point_without_coordinates_is_refused(phone):
    response = phone.submit("org-a", hotspot_xml(point=""))
    assert response.status_code == 400
    assert not Hotspot.objects.exists()
    assert not OpenRosaSubmission.objects.exists()


def test_a_photo_in_a_later_part_is_added_to_the_hotspot(phone):
    xml = hotspot_xml(point="-12.5933 -69.1891 180 5", photo="c.jpg")
    first = phone.submit("org-a", xml, [], incomplete=True)
    assert first.status_code == 201, first.content
    hotspot = Hotspot.objects.get()
    assert not hotspot.photos.exists()
    last = phone.submit("org-a", xml, [("c.jpg", JPEG, "image/jpeg")])
    assert last.status_code == 201, last.content
    assert [p.name for p in hotspot.photos.all()] == ["c.jpg"]
    again = phone.submit("org-a", xml, [("c.jpg", JPEG, "image/jpeg")])
    assert "ya se recibió".encode() in again.content
    assert Hotspot.objects.count() == 1
    assert HotspotPhoto.objects.count() == 1
    assert len(blobs()) == 1


def test_a_file_that_is_not_a_photo_is_not_kept(phone):
    response = phone.submit(
        "org-a",
        hotspot_xml(point="-12.5933 -69.1891 180 5", photo="c.jpg"),
        [("c.jpg", AMR, "image/jpeg")],
    )
    assert response.status_code == 201, response.content
    assert Hotspot.objects.exists()
    assert b"c.jpg" in response.content
    assert not HotspotPhoto.objects.exists()
    assert blobs() == []
