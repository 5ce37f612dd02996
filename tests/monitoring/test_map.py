"""The map page and its GeoJSON endpoints (issue 7, point 3): strict CSP with Leaflet
from /static/, the offline base layer and the reference layers with attribution, and
coarsening: a defender or a partner never receives an incident point finer than the
10 km grid (every coordinate is a cell centre); only the coordinator gets points."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from amparo.monitoring import grid, tallies
from amparo.monitoring.models import Incident, IncidentOrigin, month_of
from amparo.people.models import Role
from conftest import make_persona

# Puerto Maldonado and around: several points inside one cell, and a second cell.
PLACES = [(-12.5934, -69.1891), (-12.5921, -69.1870), (-12.5902, -69.1855), (-11.0311, -68.7622)]


def make_incident(org, lat=None, lon=None, *, day=dt.date(2024, 5, 3), **fields):
    cell = grid.cell_of(lat, lon).id if lat is not None else ""
    (incident,) = tallies.create_facts(
        [
            Incident(
                organisation=org,
                origin=IncidentOrigin.MANUAL,
                occurred_on=day,
                month=month_of(day),
                kind=fields.pop("kind", "threat"),
                level=fields.pop("level", "high"),
                cell=cell,
                location={"lat": lat, "lon": lon} if lat is not None else None,
                identity=fields.pop("identity", {"name": "Juana Secreta-Quispe"}),
                description=fields.pop("description", "Texto sellado Pariamanu"),
                **fields,
            )
        ]
    )
    return incident


def cell_centres(cells):
    return {tuple(reversed(grid.centre_of(cell))) for cell in cells}


def coordinates(collection):
    found = []
    for feature in collection["features"]:
        geometry = feature["geometry"]
        assert geometry["type"] == "Point"
        found.append(tuple(geometry["coordinates"]))
    return found


@pytest.fixture
def incidents(world):
    made = [make_incident(world.org_a, lat, lon) for lat, lon in PLACES]
    make_incident(world.org_a)  # no place: on no map
    make_incident(world.org_b, -12.60, -69.19)  # another organisation's
    return made


@pytest.fixture
def partner(world):
    return make_persona(world.org_a, Role.PARTNER, "partner@a.example")


def url(name, slug="org-a", **kwargs):
    return reverse(name, kwargs={"slug": slug, **kwargs})


def test_it_serves_the_page_with_no_inline_script_or_style(world, login):
    response = login(world.defender).get(url("map"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<style" not in html
    assert " style=" not in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in tag, tag
    assert all(not body.strip() for body in re.findall(r"<script[^>]*>(.*?)</script>", html, re.S))
    assert 'src="/static/vendor/leaflet/leaflet.js"' in html
    assert 'href="/static/vendor/leaflet/leaflet.css"' in html
    assert 'src="/static/amparo/map.js"' in html
    # Every script, style sheet and tile address is our own: nothing from a CDN.
    # (Matching "cdn" in the whole page was flaky: a random CSRF token can hold it.)
    for address in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert not re.match(r"(?:[a-z]+:)?//", address, re.I), address
    assert "Earth Genome / Amazon Mining Watch" in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_it_allows_the_tile_origin_only_when_configured(world, login, settings):
    client = login(world.defender)
    assert "tile.example.org" not in client.get(url("map"))["Content-Security-Policy"]
    settings.AMPARO_MAP_TILE_URL = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    response = client.get(url("map"))
    assert "img-src 'self' data: https://*.tile.example.org" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert (
        'data-tile-url="https://{s}.tile.example.org/{z}/{x}/{y}.png"' in response.content.decode()
    )


@pytest.mark.parametrize("persona", ["defender", "focal_point", "supervisor", "partner"])
def test_it_sends_no_incident_point_finer_than_the_grid(world, login, incidents, persona, partner):
    who = partner if persona == "partner" else getattr(world, persona)
    collection = login(who).get(url("map-incidents")).json()
    centres = cell_centres(i.cell for i in incidents)
    points = coordinates(collection)
    assert set(points) <= centres
    for feature in collection["features"]:
        assert set(feature["properties"]) == {"cell", "count"}
    precise = {(i.location["lon"], i.location["lat"]) for i in incidents}
    assert not precise & set(points)
    if persona != "partner":
        assert sorted(f["properties"]["count"] for f in collection["features"]) == [1, 3]


def test_it_leaves_out_cells_under_five_for_partners(world, login, partner, incidents):
    assert login(partner).get(url("map-incidents")).json()["features"] == []
    for _ in range(2):
        make_incident(world.org_a, *PLACES[0])
    features = login(partner).get(url("map-incidents")).json()["features"]
    assert [f["properties"]["count"] for f in features] == [5]


def test_it_gives_the_coordinator_the_precise_points(world, login, incidents):
    collection = login(world.coordinator).get(url("map-incidents")).json()
    assert sorted(coordinates(collection)) == sorted((lon, lat) for lat, lon in PLACES)
    assert collection["more"] is False
    assert all(f["properties"]["precise"] for f in collection["features"])
    assert "Juana" not in str(collection)


def test_it_pages_the_coordinators_points(world, login, incidents, monkeypatch):
    from amparo.monitoring import map_views

    monkeypatch.setattr(map_views, "PAGE_SIZE", 3)
    client = login(world.coordinator)
    first = client.get(url("map-incidents")).json()
    second = client.get(url("map-incidents") + "?page=2").json()
    assert first["more"] is True and second["more"] is False
    ids = [f["id"] for f in first["features"] + second["features"]]
    assert len(ids) == len(set(ids)) == 4


def test_it_filters_by_date_kind_and_level(world, login):
    make_incident(world.org_a, *PLACES[0], day=dt.date(2023, 1, 10), kind="attack")
    make_incident(world.org_a, *PLACES[0], day=dt.date(2024, 6, 1), kind="threat", level="low")
    make_incident(world.org_a, *PLACES[3], day=dt.date(2024, 6, 2), kind="threat", level="high")
    client = login(world.coordinator)

    def count(query):
        return len(client.get(url("map-incidents") + "?" + query).json()["features"])

    assert count("") == 3
    assert count("from=2024-01-01") == 2
    assert count("start=2024-01-01&end=2024-06-01") == 1
    assert count("to=2023-12-31") == 1
    assert count("kind=attack") == 1
    assert count("level=low") == 1
    assert count("kind=threat&level=high") == 1
    assert count("kind=nonsense") == 3  # an invalid filter is ignored


def test_it_serves_the_reference_layers_with_their_attribution(world, login):
    client = login(world.defender)
    countries = client.get(url("map-layer", layer="countries")).json()
    assert len(countries["features"]) == 3
    assert "Amazon Mining Watch" in countries["attribution"]
    mining = client.get(url("map-layer", layer="mining-detections")).json()
    in_2021 = client.get(url("map-layer", layer="mining-detections") + "?year=2021").json()
    assert 0 < len(in_2021["features"]) < len(mining["features"])
    assert {f["properties"]["year"] for f in in_2021["features"]} == {2021}
    indigenous = client.get(url("map-layer", layer="indigenous-territories")).json()
    assert len(indigenous["features"]) == 17
    assert client.get(url("map-layer", layer="secret")).status_code == 404


def test_it_serves_loaded_layers_from_the_database(world, login):
    from amparo.monitoring.layers import load_reference_layers

    load_reference_layers("test")
    response = login(world.defender).get(url("map-layer", layer="countries"))
    assert len(response.json()["features"]) == 3
