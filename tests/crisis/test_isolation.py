"""Organisation isolation for every crisis page and endpoint (DESIGN.md section 7): the
coordinator of organisation B, and a plain member of A with no task in the case, get the
same 404 as for a missing case. The routes are enumerated from the URL conf and the
OpenAPI schema, so a new one cannot be forgotten."""

from __future__ import annotations

import uuid

import pytest
from django.urls import get_resolver

from amparo.api import api
from amparo.crisis import actions
from amparo.crisis.models import CrisisKind

# Forms that only take a POST answer any GET with 405 before looking anything up (as the
# alerts app's): that says nothing about a case.
POST_ONLY = {"crisis-from-alert", "crisis-task-done", "crisis-note", "crisis-blackout"}


def crisis_patterns() -> list[str]:
    resolver = get_resolver()
    names = []
    for name in resolver.reverse_dict:
        if isinstance(name, str) and name.startswith("crisis-"):
            names.append(name)
    return sorted(set(names))


def page_urls(case, task, alert, playbook) -> dict[str, str]:
    base = f"/o/org-a/crisis/{case.pk}/"
    return {
        "crisis-list": "/o/org-a/crisis/",
        "crisis-new": "/o/org-a/crisis/new/",
        "crisis-playbooks": "/o/org-a/crisis/playbooks/",
        "crisis-playbook": f"/o/org-a/crisis/playbooks/{playbook.pk}/",
        "crisis-from-alert": f"/o/org-a/crisis/from-alert/{alert.pk}/",
        "crisis-detail": base,
        "crisis-task-done": f"{base}tasks/{task.pk}/done/",
        "crisis-note": f"{base}timeline/",
        "crisis-blackout": f"{base}blackout/",
        "crisis-advocacy": f"{base}advocacy/",
        "crisis-review": f"{base}review/",
    }


def api_routes(case, task) -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    routes = []
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/v1/crisis"):
            continue
        url = path.replace("{case_id}", str(case.pk)).replace("{task_id}", str(task.pk))
        for method in methods:
            routes.append((method, url))
    return sorted(routes)


@pytest.fixture
def setup(world, case, alert):
    task = case.tasks.first()
    return case, task, alert, case.playbook


def test_every_page_is_enumerated(setup):
    assert crisis_patterns() == sorted(page_urls(*setup))


def test_the_api_routes_are_in_openapi(setup):
    case, task, *_ = setup
    assert [m for m, _u in api_routes(case, task)].count("get") == 4
    assert len(api_routes(case, task)) == 7


@pytest.mark.parametrize("who", ["coordinator_b", "defender", "focal_point", "supervisor"])
def test_every_crisis_page_is_404_for_outsiders(world, login, setup, who):
    persona = getattr(world, who)
    c = login(persona)
    for name, url in page_urls(*setup).items():
        for method in ("post",) if name in POST_ONLY else ("get", "post"):
            response = getattr(c, method)(url, {"kind": "kidnapping", "text": "x", "on": "0"})
            assert response.status_code == 404, (who, name, method)
    case = setup[0]
    case.refresh_from_db()
    assert case.media_blackout
    assert case.timeline.filter(kind="note").count() == 0
    assert case.tasks.filter(done_at__isnull=False).count() == 0


@pytest.mark.parametrize("who", ["coordinator_b", "defender", "focal_point", "supervisor"])
def test_every_crisis_endpoint_is_404_for_outsiders(world, api_client, setup, who):
    case, task, *_ = setup
    c = api_client(getattr(world, who))
    for method, url in api_routes(case, task):
        body = {
            "organisation": "org-a",
            "kind": "attack",
            "text": "x",
        }
        if url.endswith("/cases") and method == "get":
            url += "?organisation=org-a"
        response = getattr(c, method)(url, body, content_type="application/json")
        if url.startswith("/api/v1/crisis/cases?") and who != "coordinator_b":
            # A member lists the cases they work on: none.
            assert response.status_code == 200, (who, method, url)
            assert response.json() == []
            continue
        assert response.status_code == 404, (who, method, url, response.content[:200])
    assert case.timeline.filter(kind="note").count() == 0
    assert case.tasks.filter(done_at__isnull=False).count() == 0


def test_a_missing_case_is_the_same_404(world, login, api_client):
    url = f"/o/org-a/crisis/{uuid.uuid4()}/"
    assert login(world.coordinator).get(url).status_code == 404
    response = api_client(world.coordinator).get(f"/api/v1/crisis/cases/{uuid.uuid4()}")
    assert response.status_code == 404


def test_org_b_sees_its_own_cases_only(world, login, setup):
    own = actions.open_crisis(world.coordinator_b.user, world.org_b, CrisisKind.EVICTION)
    c = login(world.coordinator_b)
    html = c.get("/o/org-b/crisis/").content.decode()
    assert str(own.pk) in html
    assert str(setup[0].pk) not in html
    assert c.get(f"/o/org-b/crisis/{setup[0].pk}/").status_code == 404
