"""The public report (monitoring.public): counts only, cells under k = 5 suppressed,
points at grid-cell centres, no free text; preview, publish (frozen), the public page and
its downloads. The property test draws arbitrary data sets."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest
from django.test import Client
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amparo.monitoring import grid, public, tallies
from amparo.monitoring.models import Incident, PublicReport
from amparo.people import actions as people_actions
from tests.incidents.pdftext import pdf_text

JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)
KNOWN = "Madre de Dios"  # organisation A's own region: a known administrative area


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def incident(org, month, kind="threat", region=KNOWN, point=None, text="", identity=None):
    cell = grid.cell_of(*point).id if point else ""
    return Incident(
        organisation=org,
        origin="import",
        occurred_on=month,
        month=month,
        country="PE",
        region=region,
        kind=kind,
        cell=cell,
        location={"lat": point[0], "lon": point[1]} if point else None,
        description=text,
        identity=identity,
    )


def check_public(data, secrets):
    """The rules, on the frozen data and every file made from it."""
    for row in data["areas"]:
        assert row["count"] >= public.K
    for row in data["cells"]:
        assert row["count"] >= public.K
        assert (row["lat"], row["lon"]) == grid.centre_of(row["cell"])
    geo = public.to_geojson(data)
    for feature in geo["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert (lat, lon) == grid.centre_of(feature["properties"]["cell"])
    outputs = [json.dumps(data, ensure_ascii=False), public.to_csv(data), public.geojson_text(data)]
    for secret in secrets:
        for out in outputs:
            assert secret not in out


def test_it_suppresses_cells_under_five(world):
    a = world.org_a
    point = (-12.5933, -69.1891)
    tallies.create_facts(
        [incident(a, JAN, point=point) for _ in range(5)]
        + [incident(a, JAN, "attack", point=point) for _ in range(4)]
        + [incident(a, FEB, point=point) for _ in range(6)]
        + [incident(world.org_b, JAN, point=point) for _ in range(9)]
    )
    data = public.build(a, JAN, FEB)
    assert [(r["area"], r["month"], r["kind"], r["count"]) for r in data["areas"]] == [
        (KNOWN, "2025-01", "threat", 5),
        (KNOWN, "2025-02", "threat", 6),
    ]
    assert data["total"] == 11  # the 4 attacks are nowhere, not even in a total
    cell = grid.cell_of(*point)
    assert [(r["cell"], r["month"], r["count"]) for r in data["cells"]] == [
        (cell.id, "2025-01", 5),
        (cell.id, "2025-02", 6),
    ]
    assert (data["cells"][0]["lat"], data["cells"][0]["lon"]) == cell.centre
    assert "attack" not in public.to_csv(data)


def test_a_region_the_organisation_does_not_know_is_free_text(world):
    a = world.org_a
    people_actions.create_directory_entry(
        "test", a, category="police", region="Tambopata", name="Comisaría"
    )
    tallies.create_facts(
        [incident(a, JAN, region="madre de  DIOS") for _ in range(3)]
        + [incident(a, JAN, region="Madre de Dios") for _ in range(2)]
        + [incident(a, JAN, region="Tambopata") for _ in range(5)]
        + [incident(a, JAN, region="Casa de Rosa Huamán") for _ in range(5)]
    )
    data = public.build(a, JAN, JAN)
    assert {(r["area"], r["count"]) for r in data["areas"]} == {
        (KNOWN, 5),
        ("Tambopata", 5),
        ("", 5),
    }
    assert "Rosa" not in public.to_csv(data)
    assert "Other or unspecified area" in public.to_csv(data)


secret_text = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=4, max_size=12).map(
    lambda s: "Qy" + s
)
points = st.tuples(
    st.floats(min_value=-15.0, max_value=-9.0), st.floats(min_value=-72.0, max_value=-68.0)
)
rows = st.lists(
    st.tuples(
        st.sampled_from([JAN, FEB]),
        st.sampled_from(["threat", "attack", "killing"]),
        st.one_of(st.just(KNOWN), secret_text),
        st.one_of(st.none(), points, st.just((-12.6, -69.2))),
        secret_text,
        secret_text,
    ),
    min_size=0,
    max_size=60,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=rows, repeat=st.integers(min_value=1, max_value=7))
def test_no_published_cell_is_under_five_no_point_is_finer_no_free_text(world, data, repeat):
    tallies.delete_facts(Incident.objects.filter(organisation=world.org_a))
    facts = []
    for month, kind, region, point, description, name in data:
        for _ in range(repeat):
            facts.append(
                incident(
                    world.org_a,
                    month,
                    kind,
                    region,
                    point,
                    text=description,
                    identity={"names": name, "gender": "female"},
                )
            )
    random.Random(0).shuffle(facts)
    tallies.create_facts(facts)
    built = public.build(world.org_a, JAN, FEB)
    secrets = {r[4] for r in data} | {r[5] for r in data}
    secrets |= {r[2] for r in data if r[2] != KNOWN}
    check_public(built, secrets)
    total_published = sum(r["count"] for r in built["areas"])
    assert total_published <= len(facts)


def test_publishing_freezes_the_report_and_the_public_page_serves_it(world, login):
    a = world.org_a
    point = (-12.5933, -69.1891)
    tallies.create_facts(
        [
            incident(a, JAN, point=point, text="Qysecretword", identity={"names": "Qyname"})
            for _ in range(7)
        ]
    )
    c = login(world.coordinator)
    preview = c.get("/o/org-a/public-reports/preview/?start=2025-01&end=2025-01")
    assert preview.status_code == 200
    assert b"Qysecret" not in preview.content
    assert b"Publish" in preview.content
    assert PublicReport.objects.count() == 0  # a preview publishes nothing
    response = c.post("/o/org-a/public-reports/preview/", {"start": "2025-01", "end": "2025-01"})
    assert response.status_code == 302
    report = PublicReport.objects.get()
    assert report.published_at is not None
    assert report.data["total"] == 7
    # Later data does not change a published report.
    tallies.create_facts([incident(a, JAN, point=point) for _ in range(5)])
    anonymous = Client()
    page = anonymous.get("/public/org-a/reports/")
    assert page.status_code == 200
    assert b"Qysecret" not in page.content and b"Qyname" not in page.content
    base = f"/public/org-a/reports/{report.pk}/"
    csv_text = anonymous.get(base + "report.csv").content.decode()
    assert "Madre de Dios,2025-01,threat,7" in csv_text
    geo = json.loads(anonymous.get(base + "report.geojson").content)
    assert geo["features"][0]["geometry"]["coordinates"] == list(
        reversed(grid.cell_of(*point).centre)
    )
    pdf = anonymous.get(base + "report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content)
    assert "Madre de Dios" in text
    assert "Qysecret" not in text and "Qyname" not in text
    check_public(report.data, {"Qysecretword", "Qyname"})
