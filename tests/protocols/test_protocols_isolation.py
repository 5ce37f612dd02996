"""Organisation isolation and roles on every protocols page (issue 8: "Organisation
isolation for every page and endpoint"; protocols.access): another organisation's
coordinator and a partner get the same 404 as a missing record on every route and change
nothing; members read; only coordinators and administrators write. The routes come from
protocols.urls itself, so a new route these tests do not know fails them."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from amparo.core.models import AuditEntry
from amparo.people.models import Role
from amparo.protocols import community, institutional, urls
from amparo.protocols.models import (
    CommunityProtocol,
    ComplianceCheck,
    Drill,
    EvacuationPlan,
    InstitutionalPolicy,
    ProtocolTraining,
    ProtocolVersion,
)
from conftest import make_persona
from tests.people.org_pages import random_id, without_csrf
from tests.protocols.test_community_builder import (
    CONTACT,
    GATHERING,
    ROUTE,
    SIGNAL,
    make_protocol,
)
from tests.protocols.test_evacuation_plans_and_drills import (
    DRILL_NOTE,
    PLAN_ROUTE,
    SHELTER,
    drill,
    make_plan,
)
from tests.protocols.test_institutional_policy import CHAIN, FINDINGS

SEALED = [SIGNAL, CONTACT, ROUTE, GATHERING, PLAN_ROUTE, SHELTER, DRILL_NOTE, CHAIN, FINDINGS]
READ_ROUTES = {
    "protocols",
    "protocol-detail",
    "protocol-version",
    "protocol-card",
    "evacuation-detail",
    "drill-list",
    "institutional-policy",
}
WRITE_ROUTES = {
    "protocol-new",
    "protocol-edit",
    "protocol-status",
    "protocol-train",
    "evacuation-new",
    "evacuation-edit",
    "drill-new",
    "institutional-edit",
    "compliance-check-new",
    "compliance-check-resolve",
}
POST_ONLY = {"protocol-status", "protocol-train", "compliance-check-resolve"}


@pytest.fixture
def records(world):
    protocol = make_protocol(world)
    plan = make_plan(world, protocol=protocol)
    drill(world, date(2025, 1, 5), 600, followed=5, protocol=protocol, notes=DRILL_NOTE)
    institutional.update_institutional_policy(
        world.coordinator.user, world.org_a, has_security_manual=True, chain_of_command=CHAIN
    )
    check = institutional.record_compliance_check(
        world.coordinator.user,
        world.org_a,
        checked_on=date(2025, 2, 1),
        status="gaps_found",
        findings=FINDINGS,
    )
    return {"protocol_id": protocol.pk, "plan_id": plan.pk, "check_id": check.pk, "number": 1}


def page_urls(slug, ids):
    pages = {}
    for pattern in urls.urlpatterns:
        kwargs = {"slug": slug}
        for name in pattern.pattern.converters:
            if name != "slug":
                assert name in ids, f"route {pattern.name} takes {name}: teach me"
                kwargs[name] = ids[name]
        pages[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    return pages


def posts(world):
    """Valid posts, so that a refusal is the access check and not the form."""
    return {
        "protocol-new": {"title": "Intrusa", "language": "es"},
        "protocol-edit": {"title": "Intrusa", "language": "es"},
        "protocol-status": {"status": "retired"},
        "protocol-train": {
            "person": str(world.defender_person.pk),
            "trained_on": "2025-01-01",
        },
        "evacuation-new": {
            "name": "Intrusa",
            "status": "draft",
            "children": "0",
            "elderly": "0",
            "with_disabilities": "0",
        },
        "evacuation-edit": {
            "name": "Intrusa",
            "status": "retired",
            "children": "0",
            "elderly": "0",
            "with_disabilities": "0",
        },
        "drill-new": {
            "held_on": "2025-01-01",
            "scenario": "other",
            "participants": "3",
            "followed_protocol": "1",
            "critical_errors": "0",
        },
        "institutional-edit": {"chain_of_command": "Intrusa"},
        "compliance-check-new": {"checked_on": "2025-01-01", "status": "compliant"},
        "compliance-check-resolve": {"resolved_on": "2025-02-02"},
    }


def state():
    return {
        "protocols": sorted(
            CommunityProtocol.objects.values_list("id", "current_version", "status", "updated_at")
        ),
        "versions": ProtocolVersion.objects.count(),
        "trainings": ProtocolTraining.objects.count(),
        "plans": sorted(EvacuationPlan.objects.values_list("id", "status", "updated_at")),
        "drills": Drill.objects.count(),
        "policies": sorted(
            InstitutionalPolicy.objects.values_list("organisation_id", "updated_at")
        ),
        "checks": sorted(ComplianceCheck.objects.values_list("id", "status")),
        "audit": AuditEntry.objects.count(),
    }


def assert_reveals_nothing(response, label):
    body = response.content.decode(errors="replace")
    assert [s for s in SEALED if s in body] == [], label


def test_it_knows_every_route():
    names = {p.name for p in urls.urlpatterns}
    assert names == READ_ROUTES | WRITE_ROUTES, "a new route needs its access tests here"
    assert all(str(p.pattern).startswith("o/<slug:slug>/protocols/") for p in urls.urlpatterns)


def test_it_serves_every_route_to_coordinator_a(world, login, records):
    """The control for the refusals below."""
    c = login(world.coordinator)
    for name, url in page_urls("org-a", records).items():
        expected = 405 if name in POST_ONLY else 200
        assert c.get(url).status_code == expected, name
    for name, body in posts(world).items():
        url = page_urls("org-a", records)[name]
        assert c.post(url, body).status_code == 302, name


@pytest.mark.parametrize("who", ["coordinator_b", "partner_a"])
def test_it_hides_every_route_from_other_organisations_and_partners(who, world, login, records):
    persona = (
        make_persona(world.org_a, Role.PARTNER, "partner@a.example")
        if who == "partner_a"
        else getattr(world, who)
    )
    c = login(persona)
    before = state()
    bodies = posts(world)
    for name, url in page_urls("org-a", records).items():
        if who == "partner_a" and name == "protocols":
            # The page itself lists the lessons from crises to every member.
            response = c.get(url)
            assert response.status_code == 200
            assert 'data-testid="community-protocols"' not in response.content.decode()
            assert_reveals_nothing(response, name)
            continue
        for response in (c.get(url), c.post(url, bodies.get(name, {}))):
            assert response.status_code == 404, (who, name, response.status_code)
            assert_reveals_nothing(response, (who, name))
    if who == "coordinator_b":
        # A's ids behind B's own address.
        for name, url in page_urls("org-b", records).items():
            if name in (READ_ROUTES | WRITE_ROUTES) - {
                "protocols",
                "protocol-new",
                "evacuation-new",
                "drill-new",
                "drill-list",
                "institutional-policy",
                "institutional-edit",
                "compliance-check-new",
            }:
                for response in (c.get(url), c.post(url, bodies.get(name, {}))):
                    assert response.status_code == 404, (who, name)
                    assert_reveals_nothing(response, (who, name))
        # B's own pages do not show A's records.
        for name in ("protocols", "drill-list", "institutional-policy"):
            response = c.get(page_urls("org-b", records)[name])
            assert response.status_code == 200
            assert_reveals_nothing(response, name)
    assert state() == before


@pytest.mark.parametrize("who", ["defender", "focal_point", "supervisor"])
def test_it_lets_members_read_but_not_write(who, world, login, records):
    c = login(getattr(world, who))
    pages = page_urls("org-a", records)
    for name in READ_ROUTES:
        assert c.get(pages[name]).status_code == 200, (who, name)
    before = state()
    bodies = posts(world)
    for name in WRITE_ROUTES:
        for response in (c.get(pages[name]), c.post(pages[name], bodies.get(name, {}))):
            assert response.status_code == 404, (who, name)
    assert state() == before


def test_it_lets_an_administrator_write(world, login, records):
    admin = make_persona(world.org_a, Role.ADMIN, "admin@a.example")
    c = login(admin)
    url = page_urls("org-a", records)["protocol-status"]
    assert c.post(url, {"status": "adopted"}).status_code == 302
    assert CommunityProtocol.objects.get(pk=records["protocol_id"]).status == "adopted"


def test_it_answers_missing_malformed_and_forbidden_alike(world, login, records):
    c = login(world.coordinator_b)
    responses = [
        c.get(f"/o/org-b/protocols/community/{protocol_id}/")
        for protocol_id in (records["protocol_id"], random_id(), "not-a-uuid")
    ]
    assert {r.status_code for r in responses} == {404}
    assert len({without_csrf(r.content) for r in responses}) == 1
    a = login(world.coordinator)
    missing = a.get(f"/o/org-a/protocols/community/{records['protocol_id']}/versions/9/")
    assert missing.status_code == 404


def test_it_keeps_a_protocol_of_b_out_of_a_drill_of_a(world, login, records):
    protocol_b = make_protocol(world, organisation=world.org_b)
    c = login(world.coordinator)
    response = c.post(
        "/o/org-a/protocols/drills/new/",
        {**posts(world)["drill-new"], "protocol": str(protocol_b.pk)},
    )
    assert response.status_code == 200  # not a choice of A's form
    assert Drill.objects.filter(protocol=protocol_b).count() == 0
    with pytest.raises(Exception):  # noqa: B017 - the action refuses it too
        community.record_protocol_training(
            world.coordinator.user,
            protocol_b,
            world.defender_person,
            trained_on=date(2025, 1, 1),
        )
