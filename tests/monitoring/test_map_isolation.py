"""Organisation isolation for every page and endpoint of the map, hotspots, imports and
exports (DESIGN.md section 7): the coordinator of B gets the same 404 on every route of A
and on every route of B given A's records, sees no sealed text and changes nothing. The
routes come from monitoring.map_urls itself, so a new route fails this test until it is
taught here."""

from __future__ import annotations

import pytest
from django.urls import reverse

from amparo.monitoring import hotspots, imports, map_urls
from amparo.monitoring.models import Hotspot, ImportJob
from tests.monitoring.test_hotspot_photos import stage, vault_dir  # noqa: F401
from tests.monitoring.test_hotspots import NOTES, add
from tests.monitoring.test_map import make_incident
from tests.people.org_pages import random_id

POST_ONLY = {"map-hotspot-archive"}
# Data endpoints answer a POST with 405 before looking at the member: the same for all.
GET_ONLY = {
    "map-hotspot-photo",
    "map-incidents",
    "map-hotspots",
    "map-layer",
    "monitoring-export-csv",
    "monitoring-export-geojson",
}
# Pages every member of the organisation may open (what they see is their access).
MEMBER_PAGES = {
    "map",
    "map-incidents",
    "map-hotspots",
    "map-layer",
    "monitoring-export-csv",
    "monitoring-export-geojson",
}


@pytest.fixture
def records(world):
    hotspot = add(world)
    make_incident(world.org_a, -12.5934, -69.1891, identity={"name": "Juana Secreta-Quispe"})
    job = imports.upload(
        "test", world.org_a, filename="a.csv", raw=b"fecha,tipo\n2024-01-01,threat\n"
    )
    photo = hotspots.add_photos(world.focal_point.user, hotspot, [stage(world)]).photos[0]
    return {
        "hotspot_id": str(hotspot.pk),
        "job_id": str(job.pk),
        "layer": "countries",
        "photo_id": str(photo.pk),
    }


def urls_for(slug, values):
    urls = {}
    for pattern in map_urls.urlpatterns:
        kwargs = {"slug": slug}
        for name in pattern.pattern.converters:
            if name != "slug":
                assert name in values, f"route {pattern.name} takes {name}: teach this test"
                kwargs[name] = values[name]
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    return urls


def pattern_args(name):
    pattern = next(p for p in map_urls.urlpatterns if p.name == name)
    return list(pattern.pattern.converters)


def content(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_it_knows_every_route():
    assert {p.name for p in map_urls.urlpatterns} == MEMBER_PAGES | {
        "map-hotspot-list",
        "map-hotspot-new",
        "map-hotspot-edit",
        "map-hotspot-archive",
        "map-hotspot-photo",
        "monitoring-imports",
        "monitoring-import",
        "monitoring-import-mapping",
    }


def test_it_validates_ownership(world, login, records):
    client = login(world.coordinator_b)
    for slug in ("org-a", "org-b"):
        for name, url in urls_for(slug, records).items():
            takes_a_record = set(pattern_args(name)) & {"hotspot_id", "job_id", "photo_id"}
            if slug == "org-b" and not takes_a_record:
                # B's own pages answer, with none of A's records.
                response = client.get(url)
                assert response.status_code == 200, (name, url)
                assert b"Juana" not in content(response)
                assert b"-69.1891" not in content(response)
                continue
            if name not in POST_ONLY:
                assert client.get(url).status_code == 404, (name, url)
            expected = 405 if name in GET_ONLY else 404
            assert client.post(url, {"kind": "coca"}).status_code == expected, (name, url)
    assert Hotspot.objects.get().notes == NOTES
    assert Hotspot.objects.get().archived_at is None
    assert ImportJob.objects.count() == 1


def test_it_answers_404_for_unknown_ids(world, login, records):
    client = login(world.coordinator)
    unknown = {
        "hotspot_id": random_id(),
        "job_id": "not-a-uuid",
        "layer": "nothing",
        "photo_id": random_id(),
    }
    for name, url in urls_for("org-a", unknown).items():
        if name in {
            "map-hotspot-edit",
            "map-hotspot-archive",
            "monitoring-import",
            "monitoring-import-mapping",
        }:
            assert client.post(url).status_code == 404, name
        if name in {"map-layer", "map-hotspot-photo"}:
            assert client.get(url).status_code == 404, name


def test_it_asks_to_sign_in(client, records):
    for url in urls_for("org-a", records).values():
        response = client.get(url)
        assert response.status_code in (302, 405), url
        assert "Juana" not in response.content.decode()
