"""Exports of incidents (issue 7, point 6) within the member's access: the coordinator
gets precise points with identity and description; other members get every point at its
cell centre with no identity, description or source id; partners get counts per cell,
cells under five left out. Every export is audited."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from amparo.core.models import AuditEntry
from tests.monitoring.test_map import PLACES, cell_centres, make_incident

SECRETS = ("Juana", "Pariamanu")


@pytest.fixture
def incidents(world):
    made = [make_incident(world.org_a, lat, lon) for lat, lon in PLACES]
    made.append(make_incident(world.org_a, description='=HYPERLINK("http://x")'))
    make_incident(world.org_b, -12.60, -69.19, description="de B")
    return made


def body(response):
    return b"".join(response.streaming_content).decode()


def url(name):
    return reverse(name, kwargs={"slug": "org-a"})


def test_the_coordinator_exports_precise_rows(world, login, incidents):
    client = login(world.coordinator)
    rows = list(csv.DictReader(io.StringIO(body(client.get(url("monitoring-export-csv"))))))
    assert len(rows) == 5
    assert {(float(r["latitude"]), float(r["longitude"])) for r in rows if r["latitude"]} == set(
        PLACES
    )
    assert all("Juana" in r["identity"] for r in rows)
    assert any(r["description"].startswith("'=") for r in rows)  # no formula in a spreadsheet
    assert "de B" not in str(rows)
    collection = json.loads(body(client.get(url("monitoring-export-geojson"))))
    assert len(collection["features"]) == 5
    assert AuditEntry.objects.filter(action="monitoring.incidents_exported").count() == 2


@pytest.mark.parametrize("persona", ["defender", "focal_point", "supervisor"])
def test_members_export_cell_centres_without_identity(world, login, incidents, persona):
    client = login(getattr(world, persona))
    centres = cell_centres(i.cell for i in incidents if i.cell)
    text = body(client.get(url("monitoring-export-csv")))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5
    assert "identity" not in rows[0] and "description" not in rows[0]
    for row in rows:
        if row["latitude"]:
            assert (float(row["longitude"]), float(row["latitude"])) in centres
    collection = json.loads(body(client.get(url("monitoring-export-geojson"))))
    points = [tuple(f["geometry"]["coordinates"]) for f in collection["features"] if f["geometry"]]
    assert len(points) == 4 and set(points) <= centres
    for secret in SECRETS:
        assert secret not in text and secret not in json.dumps(collection)


def test_partners_export_counts_of_five_or_more(world, login, incidents):
    from amparo.people.models import Role
    from conftest import make_persona

    partner = make_persona(world.org_a, Role.PARTNER, "partner@a.example")
    client = login(partner)
    assert list(csv.DictReader(io.StringIO(body(client.get(url("monitoring-export-csv")))))) == []
    for _ in range(2):
        make_incident(world.org_a, *PLACES[0])
    rows = list(csv.DictReader(io.StringIO(body(client.get(url("monitoring-export-csv"))))))
    assert [r["count"] for r in rows] == ["5"]
    centres = cell_centres(i.cell for i in incidents if i.cell)
    assert (float(rows[0]["longitude"]), float(rows[0]["latitude"])) in centres
    collection = json.loads(body(client.get(url("monitoring-export-geojson"))))
    assert [f["properties"]["count"] for f in collection["features"]] == [5]


def test_it_filters_the_export(world, login, incidents):
    make_incident(world.org_a, *PLACES[0], kind="attack")
    client = login(world.coordinator)
    rows = list(
        csv.DictReader(io.StringIO(body(client.get(url("monitoring-export-csv") + "?kind=attack"))))
    )
    assert [r["kind"] for r in rows] == ["attack"]
