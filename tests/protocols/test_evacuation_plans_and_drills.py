"""Evacuation plans and drills (issue 8, point 3; reference, Strategy 2, line 3 and
Strategy 1, line 4): routes, transport, shelters and provisions for coordinators, focal
points and administrators; a summary with the counts of children, elderly and people
with disabilities for other members; a drill log with evacuation time, share following
the protocol and critical errors, and its trend as server-rendered SVG."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from amparo.core.models import AuditEntry
from amparo.protocols import evacuation
from amparo.protocols.drill_trend import drill_trends, trend_svg
from amparo.protocols.models import Drill, EvacuationPlan, PlanStatus

SHELTER = "Local comunal Huepetuhe-Reservado"
PLAN_ROUTE = "Por el puente colgante Mazuko-Sigilo"
PROVISION = "Doña Irma-Oculta usa silla de ruedas: bote con rampa"
DRILL_NOTE = "Don Tito-Reservado se perdió en la trocha"


def make_plan(world, organisation=None, **overrides):
    fields = {
        "name": "Plan de evacuación comunal",
        "status": PlanStatus.OPERATIONAL,
        "community": "Comunidad Nativa Tres Islas-Oculta",
        "safe_routes": PLAN_ROUTE,
        "transport": "Dos botes con motor peque-peque",
        "temporary_shelters": SHELTER,
        "by_local_authorities": True,
        "by_health_services": True,
        "coordination_contacts": "Centro de salud +51 982 000 111",
        "children": 12,
        "elderly": 5,
        "with_disabilities": 2,
        "provisions_disabilities": PROVISION,
    }
    fields.update(overrides)
    actor = world.coordinator.user if organisation in (None, world.org_a) else "test"
    return evacuation.create_evacuation_plan(actor, organisation or world.org_a, **fields)


def drill(world, held_on, seconds, followed, participants=20, errors=0, **kw):
    return evacuation.record_drill(
        world.coordinator.user,
        kw.pop("organisation", world.org_a),
        held_on=held_on,
        scenario=kw.pop("scenario", "incursion"),
        participants=participants,
        followed_protocol=followed,
        evacuation_seconds=seconds,
        critical_errors=errors,
        **kw,
    )


@pytest.fixture
def plan(world):
    return make_plan(world)


def test_it_creates_a_plan_with_the_reference_parts(world, plan):
    assert plan.coordinating_bodies == ["local authorities", "health services"]
    assert (plan.children, plan.elderly, plan.with_disabilities) == (12, 5, 2)
    entry = AuditEntry.objects.get(action="evacuation_plan.created")
    assert entry.details["children"] == 12
    assert SHELTER not in str(entry.details) and PLAN_ROUTE not in str(entry.details)
    evacuation.update_evacuation_plan(world.coordinator.user, plan, children=14)
    plan.refresh_from_db()
    assert plan.children == 14
    assert AuditEntry.objects.get(action="evacuation_plan.updated").details["changed"] == [
        "children"
    ]


def test_it_shows_routes_to_coordinators_focal_points_and_admins_only(world, login, plan):
    from amparo.people.models import Role
    from conftest import make_persona

    url = f"/o/org-a/protocols/evacuation/{plan.pk}/"
    admin = make_persona(world.org_a, Role.ADMIN, "admin@a.example")
    for persona in (world.coordinator, world.focal_point, admin):
        page = login(persona).get(url).content.decode()
        assert SHELTER in page and PLAN_ROUTE in page and PROVISION in page
    for persona in (world.defender, world.supervisor):
        response = login(persona).get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert SHELTER not in page and PLAN_ROUTE not in page and PROVISION not in page
        assert 'data-count="children">12' in page
        assert "local authorities" in page


def test_it_creates_and_edits_a_plan_from_the_page(world, login):
    c = login(world.coordinator)
    form = {
        "name": "Plan río arriba",
        "status": "draft",
        "safe_routes": PLAN_ROUTE,
        "children": "3",
        "elderly": "1",
        "with_disabilities": "0",
    }
    response = c.post("/o/org-a/protocols/evacuation/new/", form)
    assert response.status_code == 302, response.content.decode()[:1500]
    plan = EvacuationPlan.objects.get()
    assert plan.safe_routes == PLAN_ROUTE
    form.update(status="operational", elderly="4")
    assert c.post(f"/o/org-a/protocols/evacuation/{plan.pk}/edit/", form).status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.elderly) == ("operational", 4)
    assert (
        login(world.focal_point).get(f"/o/org-a/protocols/evacuation/{plan.pk}/edit/").status_code
        == 404
    )


def test_it_validates_a_drill(world, plan):
    with pytest.raises(ValidationError):
        drill(world, date(2025, 1, 1), 600, followed=21, participants=20)
    with pytest.raises(ValidationError):
        drill(world, date(2025, 1, 1), 0, followed=1)
    with pytest.raises(ValidationError):
        drill(world, date(2025, 1, 1), 600, followed=1, scenario="picnic")
    with pytest.raises(ValidationError):
        drill(world, date(2999, 1, 1), 600, followed=1)
    other = make_plan(world, organisation=world.org_b)
    with pytest.raises(ValidationError):
        drill(world, date(2025, 1, 1), 600, followed=1, evacuation_plan=other)
    assert Drill.objects.count() == 0


def test_it_records_a_drill_from_the_page_and_keeps_notes_for_detail_readers(world, login, plan):
    c = login(world.coordinator)
    response = c.post(
        "/o/org-a/protocols/drills/new/",
        {
            "held_on": "2025-04-02",
            "scenario": "forced_eviction",
            "evacuation_plan": str(plan.pk),
            "participants": "30",
            "followed_protocol": "24",
            "evacuation_minutes": "12.5",
            "critical_errors": "2",
            "notes": DRILL_NOTE,
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    item = Drill.objects.get()
    assert (item.evacuation_seconds, item.share_following, item.evacuation_plan) == (
        750,
        0.8,
        plan,
    )
    assert DRILL_NOTE in login(world.focal_point).get("/o/org-a/protocols/drills/").content.decode()
    page = login(world.defender).get("/o/org-a/protocols/drills/").content.decode()
    assert DRILL_NOTE not in page
    assert "2025-04-02" in page and "(80%)" in page
    assert login(world.defender).get("/o/org-a/protocols/drills/new/").status_code == 404


def test_it_draws_the_trend_oldest_first(world, plan):
    drill(world, date(2025, 3, 1), 900, followed=10, errors=4, evacuation_plan=plan)
    drill(world, date(2025, 1, 1), 1200, followed=8, errors=6, evacuation_plan=plan)
    drill(world, date(2025, 5, 1), 600, followed=18, errors=1, evacuation_plan=plan)
    drill(world, date(2025, 4, 1), None, followed=15, errors=2, evacuation_plan=plan)
    labels = {"evacuation_minutes": "t", "share_following": "s", "critical_errors": "e"}
    time, share, errors = drill_trends(Drill.objects.all(), labels)
    assert [p.value for p in time.points] == [20.0, 15.0, 10.0]
    assert time.change == -10.0
    assert [p.value for p in share.points] == [40.0, 50.0, 75.0, 90.0]
    assert [p.value for p in errors.points] == [6, 4, 2, 1]
    svg = str(trend_svg(time))
    assert svg.startswith("<svg") and 'data-trend="evacuation_minutes"' in svg
    points = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    ys = [float(p.split(",")[1]) for p in points]
    assert ys == sorted(ys)  # SVG y grows downwards: falling times climb down the chart
    assert "<script" not in svg


def test_it_shows_the_trend_on_the_drill_log_and_the_plan(world, login, plan):
    drill(world, date(2025, 1, 1), 1200, followed=8, evacuation_plan=plan)
    drill(world, date(2025, 2, 1), 900, followed=12, evacuation_plan=plan)
    for url in ("/o/org-a/protocols/drills/", f"/o/org-a/protocols/evacuation/{plan.pk}/"):
        page = login(world.defender).get(url).content.decode()
        assert 'data-testid="trend-evacuation_minutes"' in page
        assert 'data-testid="trend-share_following"' in page
        assert "<polyline" in page


def test_it_escapes_labels_in_the_chart(world, plan):
    drill(world, date(2025, 1, 1), 60, followed=1)
    labels = {"evacuation_minutes": "<b>x</b>", "share_following": "s", "critical_errors": "e"}
    svg = str(trend_svg(drill_trends(Drill.objects.all(), labels)[0]))
    assert "<b>" not in svg and "&lt;b&gt;" in svg
