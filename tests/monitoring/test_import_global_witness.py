"""Importing the real Global Witness file (issue 7, must be shown by tests): every row is
imported or listed with the reason, counts per country and year match the file, names
are sealed identity data, and a re-import updates instead of duplicating."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count
from django.db.models.functions import ExtractYear

from amparo.core import crypto
from amparo.monitoring import countries, imports
from amparo.monitoring.imports import GLOBAL_WITNESS
from amparo.monitoring.layers import DATA_DIR
from amparo.monitoring.models import ImportState, Incident

GW_FILE = DATA_DIR / "global_witness_land_defenders_2012_2021.csv"


def file_rows():
    with GW_FILE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def import_gw(world, actor="test"):
    preset = next(
        p for p in imports.ensure_builtin_presets(world.org_a) if p.builtin == GLOBAL_WITNESS
    )
    job = imports.upload(
        actor, world.org_a, filename=GW_FILE.name, raw=GW_FILE.read_bytes(), preset=preset
    )
    imports.queue_import(actor, job, preset.mapping)
    done = imports.run_import(str(job.pk))
    assert done is not None
    done.refresh_from_db()
    return done


@pytest.fixture(autouse=True)
def keys_as_committed(world):
    """The test's transaction never commits, so the keyring would unwrap the new
    organisation's data key again for each of the file's ~3,500 sealed values. Treat it
    as committed, as it is in production; each test's organisation has a new scope."""
    crypto.keyring._uncommitted.clear()


@pytest.fixture
def gw_job(world):
    return import_gw(world)


def test_it_imports_or_lists_every_row(gw_job):
    rows = file_rows()
    assert gw_job.state == ImportState.DONE
    assert gw_job.total_rows == len(rows) == gw_job.processed_rows
    assert gw_job.imported_rows + len(gw_job.rejected) == len(rows)
    assert Incident.objects.count() == gw_job.imported_rows
    for item in gw_job.rejected:
        assert item["reason"]
        assert 2 <= item["row"] <= len(rows) + 1


def test_it_matches_the_file_per_country_and_year(gw_job):
    rows = file_rows()
    rejected_lines = {item["row"] for item in gw_job.rejected}
    expected = Counter(
        (countries.alpha2_of(row["country"]), int(row["date"][:4]))
        for line, row in enumerate(rows, start=2)
        if line not in rejected_lines
    )
    got = Counter(
        {
            (r["country"], r["year"]): r["n"]
            for r in Incident.objects.annotate(year=ExtractYear("occurred_on"))
            .values("country", "year")
            .annotate(n=Count("id"))
        }
    )
    assert got == expected
    # The country table maps each name of the file to its own code.
    names = {row["country"] for row in rows}
    assert len({countries.alpha2_of(name) for name in names}) == len(names)
    per_country = Counter(i.country for i in Incident.objects.all())
    assert per_country["PE"] == 51
    assert per_country["BO"] == 2
    assert per_country["BR"] == 342


def test_it_maps_the_columns_of_the_file(gw_job):
    rows = {row["id"]: row for row in file_rows()}
    incident = Incident.objects.get(external_id="recUtOzGtsS32htcx")
    assert incident.kind == "killing"
    assert incident.actor_type == "private_security"
    assert incident.country == "CO"
    assert incident.region == "Córdoba"
    assert incident.victims == 1
    assert incident.sector == ""
    assert str(incident.occurred_on) == rows["recUtOzGtsS32htcx"]["date"]
    assert incident.identity == {
        "name": "Aníbal Coronado Madera",
        "gender": "Male",
        "age": "49",
        "characteristics": "Other",
    }
    actors = Counter(Incident.objects.values_list("actor_type", flat=True))
    file_actors = Counter(row["perpetrator_type"] for row in rows.values())
    assert actors["hitmen"] == file_actors["Hitmen"]
    assert actors["unknown"] == file_actors["Unspecified"]
    assert actors["police"] == file_actors["Police"]
    assert actors["organised_crime"] == file_actors["Organised crime / mafias"]


def test_it_seals_the_names(gw_job):
    with connection.cursor() as cursor:
        cursor.execute("SELECT identity FROM monitoring_incident")
        dump = " ".join(str(value) for (value,) in cursor.fetchall())
    assert "Coronado" not in dump
    assert "Aníbal" not in dump


def test_it_updates_on_re_import(world, gw_job):
    Incident.objects.filter(external_id="recUtOzGtsS32htcx").update(region="changed")
    again = import_gw(world)
    assert Incident.objects.count() == gw_job.imported_rows == again.imported_rows
    assert Incident.objects.get(external_id="recUtOzGtsS32htcx").region == "Córdoba"
