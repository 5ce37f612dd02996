"""Organisation isolation and need-to-know for the threats API (DESIGN.md section 7):
nothing of organisation A reaches the coordinator of B through any endpoint, and a
defender sees only the reports they filed or that are about them. The operations come
from the router itself, so a new endpoint that these tests do not know fails them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from amparo.alerts.models import Alert
from amparo.core.models import AuditEntry
from amparo.incidents import actions
from amparo.incidents.api import router
from amparo.incidents.models import ChecklistItem, ThreatReport
from amparo.people import actions as people_actions
from tests.people.org_pages import random_id

BASE = "/api/v1/threats"
THREAT = "Te estamos vigilando, deja de denunciar la tala"
BODIES = {
    "": {"verbatim": THREAT},
    "/{report_id}/checklist/{item_id}": {"status": "done", "notes": "Intrusa"},
    "/{report_id}/level": {"level": "high", "reason": "Intrusa sube el nivel"},
    "/{report_id}/status": {"status": "closed"},
}


def api_operations(slug: str, ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, URL, body) for every operation of the threats router, aimed at slug."""
    operations = []
    for path, path_view in router.path_operations.items():
        url = path
        for name in ("report_id", "item_id"):
            url = url.replace("{" + name + "}", ids.get(name, ""))
        assert "{" not in url, f"API path {path} takes an unknown id: teach this test"
        for operation in path_view.operations:
            for method in operation.methods:
                body = dict(BODIES.get(path, {}))
                full = BASE + url
                if path == "" and method == "POST":
                    body["organisation"] = slug
                if path == "" and method == "GET":
                    full += f"?organisation={slug}"
                operations.append((method, full, body))
    return operations


def call(c: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    if method == "GET":
        return c.get(url)
    return c.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def records(world: Any) -> dict[str, str]:
    receipt = actions.report_threat(
        world.coordinator.user,
        world.org_a,
        {"verbatim": THREAT, "place": "Sector Lucerna"},
        source="api",
        person=world.defender_person,
    )
    item = ChecklistItem.objects.filter(report=receipt.report).first()
    assert item is not None
    return {"report_id": str(receipt.report.pk), "item_id": str(item.pk)}


def state_of_org_a(world: Any) -> dict[str, Any]:
    return {
        "reports": sorted(
            (str(r.pk), r.level, r.status, r.updated_at)
            for r in ThreatReport.objects.filter(organisation=world.org_a)
        ),
        "items": sorted(
            (str(i.pk), i.status, i.notes)
            for i in ChecklistItem.objects.filter(organisation=world.org_a)
        ),
        "alerts": Alert.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def test_it_knows_every_threats_operation():
    operations = {
        (m, u.split("?")[0]) for m, u, _b in api_operations("o", {"report_id": "r", "item_id": "i"})
    }
    assert operations == {
        ("POST", BASE),
        ("GET", BASE),
        ("GET", f"{BASE}/r"),
        ("GET", f"{BASE}/r/checklist"),
        ("POST", f"{BASE}/r/checklist/i"),
        ("POST", f"{BASE}/r/level"),
        ("POST", f"{BASE}/r/status"),
    }, "a new endpoint needs its access tests here"


def test_it_hides_every_org_a_endpoint_from_coordinator_b(world, api_client, records):
    c = api_client(world.coordinator_b)
    before = state_of_org_a(world)
    bodies = set()
    for method, url, body in api_operations("org-a", records):
        response = call(c, method, url, body)
        assert response.status_code == 404, (method, url, response.content)
        bodies.add(response.content)
    assert len(bodies) == 1
    assert state_of_org_a(world) == before
    assert not ThreatReport.objects.filter(organisation=world.org_b).exists()
    # The control: A's coordinator is served by every one of them.
    control = api_client(world.coordinator)
    for method, url, body in api_operations("org-a", records):
        response = call(control, method, url, body)
        assert response.status_code in (200, 201), (method, url, response.content)


def test_it_hides_org_a_reports_behind_org_b_urls(world, api_client, records):
    """Org B's coordinator, aiming at org B but with A's ids, gets the same 404."""
    c = api_client(world.coordinator_b)
    before = state_of_org_a(world)
    for method, url, body in api_operations("org-b", records):
        if url.startswith(f"{BASE}?") or (url == BASE and method == "POST"):
            continue
        assert call(c, method, url, body).status_code == 404, url
    # Reporting into org B about a person of org A.
    response = call(
        c,
        "POST",
        BASE,
        {"organisation": "org-b", "verbatim": THREAT, "person": str(world.defender_person.pk)},
    )
    assert response.status_code == 404
    assert state_of_org_a(world) == before
    assert not ThreatReport.objects.filter(organisation=world.org_b).exists()


def test_it_answers_missing_malformed_and_forbidden_alike(world, api_client, records):
    c = api_client(world.coordinator_b)
    good = ChecklistItem.objects.get(pk=records["item_id"])
    own_b = actions.report_threat(
        world.coordinator_b.user, world.org_b, {"verbatim": "B"}, source="api"
    )
    own_item = ChecklistItem.objects.filter(report=own_b.report).first()
    bodies = set()
    for report_id in (records["report_id"], random_id(), "not-a-uuid", "1%20OR%201=1"):
        for path in ("", "/checklist"):
            response = c.get(f"{BASE}/{report_id}{path}")
            assert response.status_code == 404
            bodies.add(response.content)
    # An org-A item through org B's own report.
    for item_id in (str(good.pk), random_id(), "x"):
        url = f"{BASE}/{own_b.report.pk}/checklist/{item_id}"
        response = call(c, "POST", url, {"status": "done"})
        assert response.status_code == 404
        bodies.add(response.content)
    assert len(bodies) == 1
    assert own_item is not None
    good.refresh_from_db()
    assert good.status == "open"


def test_it_keeps_org_b_listings_free_of_org_a(world, api_client, records):
    c = api_client(world.coordinator_b)
    own = actions.report_threat(
        world.coordinator_b.user, world.org_b, {"verbatim": "B"}, source="api"
    )
    listed = c.get(f"{BASE}?organisation=org-b").json()
    assert [r["id"] for r in listed["items"]] == [str(own.report.pk)]
    assert listed["count"] == 1
    assert records["report_id"] not in json.dumps(listed)
    assert c.get(f"{BASE}?organisation=org-a").status_code == 404


# A defender's need to know


@pytest.fixture
def defender_view(world: Any) -> dict[str, list[ThreatReport]]:
    """Two reports the defender may see (one they filed, one about them) and two they
    may not (about someone else, about nobody)."""
    zoila = people_actions.create_person("test", world.org_a, given_names="Zoila")

    def report(user: Any, person: Any, text: str) -> ThreatReport:
        return actions.report_threat(
            user, world.org_a, {"verbatim": text}, source="api", person=person
        ).report

    return {
        "visible": [
            report(world.defender.user, world.defender_person, "Me siguieron"),
            report(world.focal_point.user, world.defender_person, "La siguieron a Rosa"),
        ],
        "hidden": [
            report(world.coordinator.user, zoila, "Zoila amenazada"),
            report(world.coordinator.user, None, "Amenaza general"),
        ],
    }


def test_a_defender_lists_and_reads_only_their_own_reports(world, api_client, defender_view):
    c = api_client(world.defender)
    listed = c.get(f"{BASE}?organisation=org-a").json()
    assert {r["id"] for r in listed["items"]} == {str(r.pk) for r in defender_view["visible"]}
    assert listed["count"] == 2
    text = json.dumps(listed)
    for report in defender_view["hidden"]:
        assert str(report.pk) not in text and report.receipt not in text
        assert c.get(f"{BASE}/{report.pk}").status_code == 404
        assert c.get(f"{BASE}/{report.pk}/checklist").status_code == 404
    filed, about = defender_view["visible"]
    assert c.get(f"{BASE}/{filed.pk}").json()["record"]["verbatim"] == "Me siguieron"
    # A report about them that someone else filed: their own case, its record and its
    # guidance (access.may_read_record), but not the evidence (for case readers).
    seen = c.get(f"{BASE}/{about.pk}").json()
    assert seen["record"]["verbatim"] == "La siguieron a Rosa"
    assert seen["evidence"] == []
    assert c.get(f"{BASE}/{about.pk}/checklist").status_code == 200


def test_a_defender_cannot_steer_even_their_own_report(world, api_client, defender_view):
    c = api_client(world.defender)
    before = state_of_org_a(world)
    own = defender_view["visible"][0]
    for path, body in (
        ("level", {"level": "high", "reason": "Quiero alta"}),
        ("status", {"status": "closed"}),
    ):
        assert call(c, "POST", f"{BASE}/{own.pk}/{path}", body).status_code == 404, path
    assert state_of_org_a(world) == before
