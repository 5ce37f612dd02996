"""The KPI pages, the CSV export and entered KPIs (issue 8, point 7), and organisation
isolation on every KPI URL."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
import time_machine

from amparo.core.models import AuditEntry
from amparo.monitoring.models import KpiEntry
from amparo.people.models import Role
from conftest import make_persona
from tests.protocols.test_evacuation_plans_and_drills import drill

pytestmark = pytest.mark.django_db

ENTERED = "s1l7-people-reached"
COMPUTED = "s1l4-average-evacuation-time"
EVIDENCE = "Lista de asistencia firmada en Boca Pariamanu-Reservada"


def urls(slug="org-a"):
    return [
        f"/o/{slug}/kpis/",
        f"/o/{slug}/kpis/strategy/1/",
        f"/o/{slug}/kpis/strategy/1/kpis.csv",
        f"/o/{slug}/kpis/{ENTERED}/enter/",
    ]


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(date(2025, 5, 15), tick=False):
        yield


def enter(client, value="120", start="2025-01-01", end="2025-03-31", evidence=EVIDENCE):
    return client.post(
        f"/o/org-a/kpis/{ENTERED}/enter/",
        {"period_start": start, "period_end": end, "value": value, "evidence": evidence},
    )


def test_it_validates_ownership(world, login):
    """Coordinator of B, and the defender, focal point and supervisor of A: 404."""
    for persona in (world.coordinator_b, world.defender, world.focal_point, world.supervisor):
        client = login(persona)
        for url in urls():
            assert client.get(url).status_code == 404, (persona.role, url)
        assert enter(client).status_code == 404
    assert not KpiEntry.objects.exists()


def test_anonymous_is_sent_to_login(world, client):
    for url in urls():
        assert client.get(url).status_code == 302


def test_coordinator_and_admin_see_every_page(world, login):
    admin = make_persona(world.org_a, Role.ADMIN, "admin@a.example")
    for persona in (world.coordinator, admin):
        client = login(persona)
        for url in urls():
            assert client.get(url).status_code == 200, url
        for n in range(1, 7):
            assert client.get(f"/o/org-a/kpis/strategy/{n}/").status_code == 200
    client = login(world.coordinator)
    assert client.get("/o/org-a/kpis/strategy/7/").status_code == 404
    assert client.get("/o/org-a/kpis/nope/enter/").status_code == 404
    # A computed KPI has no form: the records answer it.
    assert client.get(f"/o/org-a/kpis/{COMPUTED}/enter/").status_code == 404


def test_the_strategy_page_shows_live_values_and_a_trend(world, login):
    drill(world, date(2025, 2, 1), 600, 15)
    drill(world, date(2025, 4, 2), 300, 18)
    drill(world, date(2025, 4, 3), 60, 18, organisation=world.org_b)
    page = login(world.coordinator).get("/o/org-a/kpis/strategy/1/").content.decode()
    assert 'id="s1l4-average-evacuation-time"' in page
    assert re.search(r">7[.,]50?<", page)  # (10 + 5) / 2 minutes over the last 12 months
    assert 'data-trend="s1l4-average-evacuation-time"' in page
    assert "2025-Q1" in page and "2023-Q3" in page  # eight quarters
    # Strict CSP: no inline script or style.
    assert "<script>" not in page and "style=" not in page and "<style" not in page
    assert "percentage of participants following protocols correctly" in page


def test_the_csv_has_a_row_per_kpi_and_quarter(world, login):
    drill(world, date(2025, 2, 1), 600, 15)
    drill(world, date(2025, 4, 2), 300, 18)
    client = login(world.coordinator)
    enter(client)
    response = client.get("/o/org-a/kpis/strategy/1/kpis.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    evacuation = {r["quarter"]: r["value"] for r in rows if r["kpi_id"] == COMPUTED}
    assert len(evacuation) == 8
    assert evacuation["2025-Q1"] == "10" and evacuation["2025-Q2"] == "5"
    assert evacuation["2024-Q4"] == ""
    reached = {r["quarter"]: r["value"] for r in rows if r["kpi_id"] == ENTERED}
    assert reached["2025-Q1"] == "120"
    assert {r["method"] for r in rows} == {"computed", "entered"}
    assert EVIDENCE not in response.content.decode()


def test_an_entered_value_is_kept_with_its_evidence_and_audited(world, login):
    client = login(world.coordinator)
    response = enter(client)
    assert response.status_code == 302
    entry = KpiEntry.objects.get()
    assert (entry.organisation, entry.kpi_id, float(entry.value)) == (world.org_a, ENTERED, 120)
    assert (entry.period_start, entry.period_end) == (date(2025, 1, 1), date(2025, 3, 31))
    assert entry.evidence == EVIDENCE
    assert entry.entered_by == world.coordinator.user
    audit = AuditEntry.objects.get(action="monitoring.kpi_entered")
    assert audit.details["kpi"] == ENTERED and EVIDENCE not in str(audit.details)
    # A correction for the same period is a new entry; the latest is shown.
    enter(client, value="150")
    page = client.get("/o/org-a/kpis/strategy/1/").content.decode()
    assert "150" in page
    assert EVIDENCE in client.get(f"/o/org-a/kpis/{ENTERED}/enter/").content.decode()
    # Organisation B sees none of it.
    other = login(world.coordinator_b).get("/o/org-b/kpis/strategy/1/").content.decode()
    # (The random CSRF token could hold "150" by chance: leave it out.)
    other = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", other)
    assert "150" not in other


def test_an_entry_needs_a_period_in_order_and_evidence(world, login):
    client = login(world.coordinator)
    assert enter(client, start="2025-03-31", end="2025-01-01").status_code == 200
    assert enter(client, evidence="  ").status_code == 200
    assert enter(client, value="many").status_code == 200
    assert not KpiEntry.objects.exists()
