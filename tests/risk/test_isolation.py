"""Organisation isolation and need-to-know for every risk page and API operation
(DESIGN.md section 7): the coordinator of B, a defender of A who is not the subject and
a supervisor of A get the same 404 on every route, see no sealed text and change
nothing. The routes come from the URL configuration and the router themselves, so a
new route these tests do not know fails them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from amparo.core.models import AuditEntry
from amparo.people import actions as people_actions
from amparo.people.models import Role
from amparo.risk import api as risk_api
from amparo.risk import urls as risk_urls
from amparo.risk.models import MitigationAction, RiskAssessment, RiskSubject
from conftest import make_persona
from tests.people.org_pages import random_id, without_csrf
from tests.risk.conftest import ACTION_TEXT, SCENARIO_TEXT, THREAT_TEXT

KNOWN_PAGES = {
    "risk-list",
    "risk-overdue",
    "risk-subject-new",
    "risk-subject",
    "risk-subject-schedule",
    "risk-assessment-new",
    "risk-assessment",
    "risk-action-add",
    "risk-action-done",
}
POST_ONLY = {"risk-subject-schedule", "risk-action-add", "risk-action-done"}
# Pages that list what one may see: a member without a part gets an empty list, not 404.
LISTS = {"risk-list"}
SECRETS = (THREAT_TEXT, SCENARIO_TEXT, ACTION_TEXT)


def ids(assessment):
    return {
        "subject_id": str(assessment.subject_id),
        "assessment_id": str(assessment.pk),
        "action_id": str(MitigationAction.objects.get(assessment=assessment).pk),
    }


def page_urls(slug, values):
    urls = {}
    for pattern in risk_urls.urlpatterns:
        kwargs = {"slug": slug}
        for name in pattern.pattern.converters:
            if name != "slug":
                assert name in values, f"route {pattern.name} takes {name}: teach this test"
                kwargs[name] = values[name]
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    return urls


def posts(world):
    return {
        "risk-subject-new": {"kind": "organisation", "reassess_every": "quarter"},
        "risk-subject-schedule": {"reassess_every": "half_year"},
        "risk-action-add": {
            "new-description": "Intrusa",
            "new-owner": str(world.defender_person.pk),
        },
        "risk-assessment-new": {"assessed_on": "2025-01-01", "likelihood": "5", "impact": "5"},
    }


def api_operations(values, slug="org-a"):
    operations = []
    for path, path_view in risk_api.router.path_operations.items():
        url = "/api/v1/risk" + path
        for name in re.findall(r"\{(\w+)\}", url):
            assert name in values, f"API path {path} takes {name}: teach this test"
            url = url.replace("{" + name + "}", values[name])
        for operation in path_view.operations:
            for method in operation.methods:
                operations.append((method, url))
    return operations


def api_body(world, url):
    if url.endswith("/subjects"):
        return {"organisation": "org-a", "kind": "organisation"}
    if url.endswith("/assessments"):
        return {
            "likelihood": 5,
            "impact": 5,
            "threats": [{"actor_type": "unknown", "description": "Intrusa", "rating": 1}],
            "vulnerabilities": [{"description": "Intrusa", "rating": 1}],
        }
    return {}


def state_of_org_a(world):
    return {
        "subjects": sorted(
            RiskSubject.objects.filter(organisation=world.org_a).values_list(
                "id", "reassess_every", "next_due_on", "updated_at"
            )
        ),
        "assessments": RiskAssessment.objects.count(),
        "actions": sorted(MitigationAction.objects.values_list("id", "done_at")),
        "audit": AuditEntry.objects.filter(action__startswith="risk.").count(),
    }


@pytest.fixture
def intruders(world):
    other = make_persona(world.org_a, Role.DEFENDER, "other-defender@a.example")
    people_actions.create_person("test", world.org_a, given_names="Zoila", user=other.user)
    return {
        "coordinator of B": world.coordinator_b,
        "defender of A, not the subject": other,
        "supervisor of A": world.supervisor,
    }


def test_it_knows_every_risk_route():
    assert {p.name for p in risk_urls.urlpatterns} == KNOWN_PAGES
    assert len(api_operations({"subject_id": "s", "assessment_id": "a", "action_id": "x"})) == 7


def test_it_serves_every_risk_page_to_coordinator_a(world, login, assessment):
    """The control for the refusals below."""
    c = login(world.coordinator)
    for name, url in page_urls("org-a", ids(assessment)).items():
        expected = 405 if name in POST_ONLY else 200
        assert c.get(url).status_code == expected, (name, url)


def test_it_hides_every_risk_page_from_those_without_a_part(world, login, assessment, intruders):
    data = posts(world)
    before = state_of_org_a(world)
    for who, persona in intruders.items():
        c = login(persona)
        for name, url in page_urls("org-a", ids(assessment)).items():
            got, posted = c.get(url), c.post(url, data.get(name, {}))
            for response in (got, posted):
                for secret in SECRETS:
                    assert secret.encode() not in response.content, (who, name)
            if name in LISTS and persona.organisation == world.org_a:
                assert got.status_code == 200, (who, name)
                assert str(assessment.subject_id) not in got.content.decode(), (who, name)
                continue
            assert got.status_code == (405 if name in POST_ONLY else 404), (who, name)
            assert posted.status_code == 404, (who, name)
    assert state_of_org_a(world) == before


def test_it_hides_org_a_records_behind_org_b_pages(world, login, assessment):
    c = login(world.coordinator_b)
    data = posts(world)
    before = state_of_org_a(world)
    for name, url in page_urls("org-b", ids(assessment)).items():
        if name in {"risk-list", "risk-overdue", "risk-subject-new"}:
            continue  # B's own pages, with no id of A in them
        assert c.get(url).status_code == (405 if name in POST_ONLY else 404), name
        assert c.post(url, data.get(name, {})).status_code == 404, name
    assert state_of_org_a(world) == before


def test_it_answers_missing_malformed_and_forbidden_alike(world, login, assessment):
    c = login(world.coordinator_b)
    responses = [
        c.get(f"/o/org-b/risk/assessments/{value}/")
        for value in (assessment.pk, random_id(), "not-a-uuid")
    ]
    assert {r.status_code for r in responses} == {404}
    assert len({without_csrf(r.content) for r in responses}) == 1


def test_it_hides_every_risk_api_operation(world, api_client, assessment, intruders):
    before = state_of_org_a(world)
    for who, persona in intruders.items():
        c = api_client(persona)
        for method, url in api_operations(ids(assessment)):
            if method == "GET":
                response = c.get(url, {"organisation": "org-a"})
            else:
                response = c.post(url, api_body(world, url), content_type="application/json")
            for secret in SECRETS:
                assert secret.encode() not in response.content, (who, method, url)
            if method == "GET" and url == "/api/v1/risk" and persona.organisation == world.org_a:
                assert response.status_code == 200, (who, url)
                assert response.json() == [], (who, url)
                continue
            assert response.status_code == 404, (who, method, url, response.content[:200])
    assert state_of_org_a(world) == before


def test_it_serves_the_api_to_coordinator_a_and_the_subject(world, api_client, assessment):
    c = api_client(world.coordinator)
    for method, url in api_operations(ids(assessment)):
        if method == "GET":
            response = c.get(url, {"organisation": "org-a"})
            assert response.status_code == 200, url
    detail = c.get(f"/api/v1/risk/assessments/{assessment.pk}").json()
    assert detail["threats"][0]["description"] == THREAT_TEXT
    assert detail["serious_and_imminent"] is True
    # The person assessed reads their own, through the same endpoint, and changes nothing.
    own = api_client(world.defender)
    assert own.get(f"/api/v1/risk/assessments/{assessment.pk}").status_code == 200
    action = MitigationAction.objects.get(assessment=assessment)
    assert own.post(f"/api/v1/risk/actions/{action.pk}/done").status_code == 404
    assert c.post(f"/api/v1/risk/actions/{action.pk}/done").status_code == 200


def test_it_refuses_a_threat_report_of_another_organisation(world, api_client, subject):
    from tests.risk.conftest import report_for

    foreign = report_for(world, world.org_b)
    body = api_body(world, "/assessments")
    body["threats"][0]["incident"] = str(foreign.pk)
    c = api_client(world.coordinator)
    response = c.post(
        f"/api/v1/risk/subjects/{subject.pk}/assessments", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert not RiskAssessment.objects.exists()
