"""Hotspots (issue 7, point 2; reference Strategy 4, line 1): validation of the GeoJSON
geometry, the grid cell of points, lines and polygons, the actions with their audit
entries, who may map and change, and what the map sends to whom."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from amparo.core.models import AuditEntry
from amparo.monitoring import grid, hotspots
from amparo.monitoring.models import Hotspot

POINT = {"type": "Point", "coordinates": [-69.1891, -12.5934]}
LINE = {"type": "LineString", "coordinates": [[-70.1, -12.6], [-70.0, -12.5]]}
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[-70.0, -13.0], [-69.8, -13.0], [-69.8, -12.8], [-70.0, -12.8], [-70.0, -13.0]]
    ],
}
NOTES = "Campamento de Yupanqui-Reservado junto al caño"


def add(world, geometry=POINT, by=None, **fields):
    by = by or world.focal_point
    return hotspots.add_hotspot(
        by.user,
        world.org_a,
        kind=fields.pop("kind", "mining_camp"),
        observed_on=fields.pop("observed_on", dt.date(2025, 2, 1)),
        geometry=geometry,
        notes=fields.pop("notes", NOTES),
        mapped_by=by.user,
        **fields,
    )


@pytest.mark.parametrize(
    "geometry",
    [
        None,
        "POINT(1 2)",
        {"type": "MultiPoint", "coordinates": [[1, 2]]},
        {"type": "Point", "coordinates": [200, 0]},
        {"type": "Point", "coordinates": [0, -91]},
        {"type": "Point", "coordinates": ["-69", "-12"]},
        {"type": "Point", "coordinates": [True, 1]},
        {"type": "Point", "coordinates": [float("nan"), 1]},
        {"type": "Point", "coordinates": [1]},
        {"type": "LineString", "coordinates": [[1, 2]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},  # not closed
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
        {"type": "Polygon", "coordinates": []},
        {"type": "LineString", "coordinates": [[0, i / 1e4] for i in range(5001)]},
    ],
)
def test_it_rejects_a_bad_geometry(geometry):
    with pytest.raises(ValidationError):
        hotspots.validate_geometry(geometry)


def test_it_accepts_points_lines_polygons_and_features():
    assert hotspots.validate_geometry(POINT) == POINT
    assert hotspots.validate_geometry(LINE) == LINE
    assert hotspots.validate_geometry(SQUARE) == SQUARE
    feature = {"type": "Feature", "geometry": POINT, "properties": {}}
    assert hotspots.validate_geometry(feature) == POINT
    noisy = {"type": "Point", "coordinates": [-69.123456789, -12.1, 250.0]}
    assert hotspots.validate_geometry(noisy) == {
        "type": "Point",
        "coordinates": [-69.123457, -12.1],
    }


def test_it_places_each_geometry_in_its_cell():
    assert hotspots.cell_of_geometry(POINT) == grid.cell_of(-12.5934, -69.1891).id
    assert hotspots.cell_of_geometry(LINE) == grid.cell_of(-12.6, -70.1).id  # the first point
    lat, lon = hotspots.anchor_of(SQUARE)
    assert (round(lat, 6), round(lon, 6)) == (-12.9, -69.9)  # the centroid
    assert hotspots.cell_of_geometry(SQUARE) == grid.cell_of(-12.9, -69.9).id


def test_it_adds_changes_and_archives_with_audit(world):
    hotspot = add(world)
    assert hotspot.cell == grid.cell_of(-12.5934, -69.1891).id
    hotspots.change_hotspot(world.coordinator.user, hotspot, geometry=SQUARE, confidence="high")
    hotspot.refresh_from_db()
    assert hotspot.geometry == SQUARE
    assert hotspot.cell == grid.cell_of(-12.9, -69.9).id
    assert hotspot.confidence == "high"
    hotspots.archive_hotspot(world.coordinator.user, hotspot)
    hotspot.refresh_from_db()
    assert hotspot.archived_at is not None
    actions = list(
        AuditEntry.objects.filter(object_id=str(hotspot.pk)).values_list("action", flat=True)
    )
    assert actions == [
        "monitoring.hotspot_added",
        "monitoring.hotspot_changed",
        "monitoring.hotspot_archived",
    ]
    with pytest.raises(ValidationError):
        hotspots.change_hotspot(world.coordinator.user, hotspot, kind="coca")


def test_it_refuses_a_future_date_and_unknown_kinds(world):
    with pytest.raises(ValidationError) as caught:
        add(world, observed_on=timezone.now().date() + dt.timedelta(days=2), kind="volcano")
    assert set(caught.value.error_dict) == {"observed_on", "kind"}
    assert not Hotspot.objects.exists()


def test_it_seals_the_geometry_and_notes(world):
    add(world)
    with connection.cursor() as cursor:
        cursor.execute("SELECT geometry, notes FROM monitoring_hotspot")
        dump = str(cursor.fetchall())
    assert "69.1891" not in dump
    assert "Yupanqui" not in dump


def test_a_focal_point_maps_through_the_page(world, login):
    client = login(world.focal_point)
    page = reverse("map-hotspot-new", kwargs={"slug": "org-a"})
    assert client.get(page).status_code == 200
    response = client.post(
        page,
        {
            "kind": "airstrip",
            "observed_on": "2025-01-15",
            "confidence": "low",
            "source": "community",
            "latitude": "-12.4",
            "longitude": "-69.9",
            "notes": NOTES,
        },
    )
    assert response.status_code == 302
    hotspot = Hotspot.objects.get()
    assert hotspot.geometry == {"type": "Point", "coordinates": [-69.9, -12.4]}
    assert hotspot.mapped_by == world.focal_point.user
    bad = client.post(
        page,
        {
            "kind": "coca",
            "observed_on": "2025-01-15",
            "confidence": "low",
            "source": "media",
            "geometry": '{"type": "Point", "coordinates": [500, 1]}',
        },
    )
    assert bad.status_code == 200
    assert Hotspot.objects.count() == 1


def test_only_mappers_map_and_a_focal_point_changes_only_their_own(world, login):
    mine = add(world, by=world.focal_point)
    theirs = add(world, by=world.coordinator)
    new = reverse("map-hotspot-new", kwargs={"slug": "org-a"})
    for persona in (world.defender, world.supervisor):
        assert login(persona).get(new).status_code == 404
        edit = reverse("map-hotspot-edit", kwargs={"slug": "org-a", "hotspot_id": mine.pk})
        assert login(persona).get(edit).status_code == 404
    focal = login(world.focal_point)
    for hotspot, status in ((mine, 200), (theirs, 404)):
        edit = reverse("map-hotspot-edit", kwargs={"slug": "org-a", "hotspot_id": hotspot.pk})
        assert focal.get(edit).status_code == status
    archive = reverse("map-hotspot-archive", kwargs={"slug": "org-a", "hotspot_id": theirs.pk})
    assert focal.post(archive).status_code == 404
    assert login(world.coordinator).post(archive).status_code == 302
    theirs.refresh_from_db()
    assert theirs.archived_at is not None


def test_the_map_shows_hotspots_precisely_to_mappers_only(world, login):
    add(world, geometry=SQUARE)
    add(world, geometry=LINE, kind="logging_route")
    url = reverse("map-hotspots", kwargs={"slug": "org-a"})
    precise = login(world.focal_point).get(url).json()
    assert {f["geometry"]["type"] for f in precise["features"]} == {"Polygon", "LineString"}
    assert NOTES in str(precise)
    coarse = login(world.defender).get(url).json()
    centres = {tuple(reversed(grid.centre_of(h.cell))) for h in Hotspot.objects.all()}
    assert {tuple(f["geometry"]["coordinates"]) for f in coarse["features"]} <= centres
    assert all(f["geometry"]["type"] == "Point" for f in coarse["features"])
    assert NOTES not in str(coarse)
    only_routes = login(world.defender).get(url + "?hotspot_kind=logging_route").json()
    assert [f["properties"]["kind"] for f in only_routes["features"]] == ["logging_route"]
