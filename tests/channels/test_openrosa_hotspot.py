"""The hotspot observation form, submitted by a phone, goes through the hotspot action."""

from __future__ import annotations

import uuid

import pytest

from amparo.channels.models import OpenRosaSubmission
from amparo.channels.openrosa import actions
from amparo.monitoring.models import Hotspot
from tests.channels.openrosa_phone import JPEG, Phone


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
