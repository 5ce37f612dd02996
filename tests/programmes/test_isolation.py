"""Organisation isolation and need-to-know for every referral page and endpoint
(DESIGN.md sections 1 and 7): nothing of organisation A reaches the coordinator of B;
in A, the members who are neither the security coordinator, the assigned psychologist
nor the person referred get the same 404 as for a missing referral; the person referred
may only read. Routes and operations come from the URL configuration and the router
themselves, so a new one these tests do not know fails them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from amparo.core.models import AuditEntry
from amparo.people import actions as people_actions
from amparo.people.models import Role
from amparo.programmes import actions
from amparo.programmes import urls as programme_urls
from amparo.programmes.api import router
from amparo.programmes.models import PsychosocialReferral, PsychosocialSession
from conftest import make_persona
from tests.people.org_pages import random_id
from tests.programmes.conftest import NOTES, REASON, past

pytestmark = pytest.mark.django_db

KNOWN_PAGES = {
    "referral-list",
    "referral-new",
    "referral-detail",
    "referral-session",
    "referral-next-session",
    "referral-healing",
    "referral-psychologist",
    "referral-close",
    "referral-notes",
}
POST_ONLY = {
    "referral-session",
    "referral-next-session",
    "referral-healing",
    "referral-psychologist",
    "referral-close",
}
# Pages any member opens: they list only what the member may see.
MEMBER_PAGES = {"referral-list"}


def forms(world, care) -> dict[str, dict[str, Any]]:
    return {
        "referral-new": {
            "person": str(world.defender_person.pk),
            "professional": str(care.trauma.pk),
            "urgency": "urgent",
            "reason": "Intrusa",
            "consent": "on",
        },
        "referral-session": {
            "held_on": past().isoformat(),
            "duration_minutes": "30",
            "attended": "on",
            "clinical_notes": "Intrusa",
        },
        "referral-next-session": {"next_session": "2099-01-01T10:00"},
        "referral-healing": {"community_healing_practices": "Intrusa"},
        "referral-psychologist": {"psychologist": ""},
    }


def page_urls(slug: str, referral_id: str) -> dict[str, str]:
    urls = {}
    for pattern in programme_urls.urlpatterns:
        assert pattern.name in KNOWN_PAGES, f"route {pattern.name} is new: teach this test"
        kwargs = {"slug": slug}
        for name in pattern.pattern.converters:
            if name == "referral_id":
                kwargs[name] = referral_id
            elif name != "slug":
                raise AssertionError(f"route {pattern.name} takes {name}: teach this test")
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    assert set(urls) == KNOWN_PAGES
    return urls


API = "/api/v1/referrals"


def api_operations(slug: str, referral_id: str, world, care) -> list[tuple[str, str, dict]]:
    bodies = {
        "": {
            "organisation": slug,
            "person": str(world.defender_person.pk),
            "professional": str(care.trauma.pk),
            "reason": "Intrusa",
            "consent": True,
        },
        "/{referral_id}/sessions": {"held_on": past().isoformat(), "duration_minutes": 30},
    }
    operations = []
    for path, path_view in router.path_operations.items():
        url = path.replace("{referral_id}", referral_id)
        assert "{" not in url, f"API path {path} takes an unknown id: teach this test"
        for operation in path_view.operations:
            for method in operation.methods:
                full = API + url
                if path == "" and method == "GET":
                    full += f"?organisation={slug}"
                operations.append((method, full, bodies.get(path, {})))
    assert len(operations) == 6, "a new endpoint: teach this test"
    return operations


def call(c, method: str, url: str, body: dict) -> Any:
    if method == "GET":
        return c.get(url)
    return c.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def records(world, care):
    actions.record_session(
        care.psychologist.user,
        care.referral,
        held_on=past(2),
        duration_minutes=50,
        attended=True,
        clinical_notes=NOTES,
    )
    return care


def state(world) -> Any:
    return (
        sorted(
            PsychosocialReferral.objects.values_list(
                "id", "status", "psychologist_id", "next_session_at", "updated_at"
            )
        ),
        PsychosocialSession.objects.count(),
        AuditEntry.objects.count(),
    )


def outsiders(world, care) -> dict[str, Any]:
    """Members of A who must not see the referral, and the coordinator of B."""
    admin = make_persona(world.org_a, Role.ADMIN, "admin@a.example")
    lawyer = make_persona(world.org_a, Role.LAWYER, "lawyer@a.example")
    other_defender = make_persona(world.org_a, Role.DEFENDER, "otra@a.example")
    people_actions.create_person("test", world.org_a, given_names="Otra", user=other_defender.user)
    return {
        "focal point": world.focal_point,
        "supervisor": world.supervisor,
        "admin": admin,
        "lawyer": lawyer,
        "another psychologist": care.other_psychologist,
        "another defender": other_defender,
    }


def assert_refused_everywhere(c, urls, world, care, who, member: bool) -> None:
    data = forms(world, care)
    for name, url in urls.items():
        if member and name in MEMBER_PAGES:
            response = c.get(url)
            assert response.status_code == 200, (who, name)
            assert str(care.referral.pk) not in response.content.decode(), (who, name)
            continue
        if name not in POST_ONLY:
            assert c.get(url).status_code == 404, (who, name, "GET")
        response = c.post(url, data.get(name, {}))
        assert response.status_code == 404, (who, name, "POST", response.status_code)


def test_the_coordinator_of_b_gets_404_on_every_page(world, records, login):
    before = state(world)
    c = login(world.coordinator_b)
    assert_refused_everywhere(
        c, page_urls("org-a", str(records.referral.pk)), world, records, "B", member=False
    )
    urls = page_urls("org-b", str(records.referral.pk))
    # B's own form does not take A's person nor A's professional.
    new = urls.pop("referral-new")
    response = c.post(new, forms(world, records)["referral-new"])
    assert response.status_code == 400
    assert "Quispe" not in response.content.decode()
    assert_refused_everywhere(c, urls, world, records, "B on org-b", member=True)
    assert state(world) == before


def test_members_of_a_without_need_to_know_get_404_on_every_page(world, records, login):
    people = outsiders(world, records)
    before = state(world)
    urls = page_urls("org-a", str(records.referral.pk))
    for who, persona in people.items():
        c = login(persona)
        assert_refused_everywhere(c, urls, world, records, who, member=True)
    assert state(world) == before


def test_the_person_referred_only_reads(world, records, login):
    before = state(world)
    c = login(world.defender)
    urls = page_urls("org-a", str(records.referral.pk))
    for name, url in urls.items():
        if name in {"referral-list", "referral-detail"}:
            assert c.get(url).status_code == 200, name
            continue
        if name not in POST_ONLY:
            assert c.get(url).status_code == 404, name
        assert c.post(url, forms(world, records).get(name, {})).status_code == 404, name
    assert state(world) == before


def test_a_missing_referral_is_the_same_404(world, records, login):
    c = login(world.coordinator)
    for name, url in page_urls("org-a", random_id()).items():
        if name in {"referral-list", "referral-new"}:
            continue
        if name not in POST_ONLY:
            assert c.get(url).status_code == 404, name
        assert c.post(url, forms(world, records).get(name, {})).status_code == 404, name


def test_the_coordinator_of_b_gets_404_on_every_endpoint(world, records, api_client):
    c = api_client(world.coordinator_b)
    before = state(world)
    for method, url, body in api_operations("org-a", str(records.referral.pk), world, records):
        response = call(c, method, url, body)
        assert response.status_code == 404, (method, url, response.status_code)
        assert REASON not in response.content.decode()
    assert state(world) == before


def test_members_of_a_without_need_to_know_get_404_on_every_endpoint(world, records, api_client):
    people = outsiders(world, records)
    before = state(world)
    for who, persona in people.items():
        c = api_client(persona)
        for method, url, body in api_operations("org-a", str(records.referral.pk), world, records):
            response = call(c, method, url, body)
            if method == "GET" and url.startswith(API + "?"):
                assert response.status_code == 200, (who, url)
                assert response.json()["items"] == [], who
                continue
            assert response.status_code == 404, (who, method, url, response.status_code)
    # Each api_client made a token (audited): compare the referrals and sessions only.
    assert state(world)[:2] == before[:2]


def test_the_person_referred_only_reads_through_the_api(world, records, api_client):
    c = api_client(world.defender)
    referral_id = str(records.referral.pk)
    for method, url, body in api_operations("org-a", referral_id, world, records):
        response = call(c, method, url, body)
        if method == "GET" and url.startswith(API + "?"):
            assert [i["id"] for i in response.json()["items"]] == [referral_id]
        elif method == "GET" and url == f"{API}/{referral_id}":
            assert response.status_code == 200
        else:
            assert response.status_code == 404, (method, url, response.status_code)
