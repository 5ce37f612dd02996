"""Relocated people and safe houses (issue 6, point 3; DESIGN.md section 7): only the
security coordinator of the organisation sees them. Every other role of the same
organisation (administrator included) and any user of another organisation get the same
404 as a missing record, on every relocation page and API operation, and change nothing.
The routes come from the URL configuration and the API router themselves, so a new
route these tests do not know fails them."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from amparo.core.models import AuditEntry
from amparo.protocols import relocation_urls
from amparo.protocols.models import RelocationCost, RelocationRequest
from amparo.protocols.relocation_api import router
from conftest import PASSWORD
from tests.people.org_pages import random_id, without_csrf
from tests.protocols.conftest import (
    ADDRESS,
    COST_NOTE,
    DECISION,
    FAMILY,
    REASON,
    SAFE_HOUSE_ADDRESS,
    SAFE_HOUSE_NAME,
)

SEALED = [REASON, ADDRESS, DECISION, COST_NOTE, FAMILY, SAFE_HOUSE_NAME, SAFE_HOUSE_ADDRESS]
KNOWN_PAGES = {
    "relocation-list",
    "relocation-new",
    "relocation-costs",
    "relocation-detail",
    "relocation-decide",
    "relocation-relocate",
    "relocation-return",
    "relocation-close",
    "relocation-cost-new",
}
POST_ONLY = {"relocation-decide", "relocation-return", "relocation-close"}
KNOWN_API = {
    ("GET", ""),
    ("POST", ""),
    ("GET", "/costs"),
    ("GET", "/{relocation_id}"),
    ("POST", "/{relocation_id}/decision"),
    ("POST", "/{relocation_id}/relocation"),
    ("POST", "/{relocation_id}/return"),
    ("POST", "/{relocation_id}/close"),
    ("GET", "/{relocation_id}/costs"),
    ("POST", "/{relocation_id}/costs"),
}
# The personas who must see nothing of A's relocations.
OUTSIDERS = ("coordinator_b", "supervisor", "defender", "focal_point", "admin_a")


def page_forms(world, item, safe_house):
    """Valid posts, so that a refusal is the access check and not the form."""
    return {
        "relocation-new": {
            "person": str(item.person_id),
            "risk_level": "high",
            "reason": "Intrusa intenta pedir un traslado",
        },
        "relocation-decide": {"decision": "refuse", "note": "Intrusa rechaza el traslado"},
        "relocation-relocate": {"safe_house": str(safe_house.pk), "starts_on": "2025-03-11"},
        "relocation-return": {"ends_on": "2025-03-20"},
        "relocation-close": {"note": "Intrusa cierra el traslado"},
        "relocation-cost-new": {
            "category": "food",
            "amount": "5",
            "currency": "PEN",
            "incurred_on": "2025-03-11",
        },
    }


def api_bodies(world, item, safe_house):
    return {
        "": {
            "organisation": "org-a",
            "person": str(item.person_id),
            "risk_level": "high",
            "reason": "Intrusa intenta pedir un traslado",
        },
        "/{relocation_id}/decision": {"approve": False, "note": "Intrusa rechaza el traslado"},
        "/{relocation_id}/relocation": {
            "starts_on": "2025-03-11",
            "safe_house": str(safe_house.pk),
        },
        "/{relocation_id}/return": {"ends_on": "2025-03-20"},
        "/{relocation_id}/close": {"note": "Intrusa cierra el traslado"},
        "/{relocation_id}/costs": {
            "category": "food",
            "amount": "5",
            "currency": "PEN",
            "incurred_on": "2025-03-11",
        },
    }


def page_urls(slug, relocation_id):
    urls = {}
    for pattern in relocation_urls.urlpatterns:
        kwargs = {"slug": slug}
        for name in pattern.pattern.converters:
            if name != "slug":
                assert name == "relocation_id", f"route {pattern.name} takes {name}: teach me"
                kwargs[name] = relocation_id
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    return urls


def api_operations(relocation_id, slug="org-a"):
    operations = []
    for path, path_view in router.path_operations.items():
        url = "/api/v1/relocations" + path.replace("{relocation_id}", str(relocation_id))
        assert not re.search(r"\{\w+\}", url), f"API path {path}: teach me"
        if path in ("", "/costs"):
            url += f"?organisation={slug}"
        for operation in path_view.operations:
            for method in operation.methods:
                operations.append((method, path, url))
    return operations


def state(world):
    return {
        "relocations": sorted(
            RelocationRequest.objects.values_list("id", "status", "updated_at", "safe_house_id")
        ),
        "costs": RelocationCost.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def assert_reveals_nothing(response, label):
    body = response.content.decode()
    leaked = [s for s in SEALED if s in body]
    assert leaked == [], label


def test_it_knows_every_relocation_route():
    assert {p.name for p in relocation_urls.urlpatterns} == KNOWN_PAGES
    assert all(str(p.pattern).startswith("o/<slug:slug>/") for p in relocation_urls.urlpatterns)
    ops = {(m, p) for m, p, _u in api_operations("x")}
    assert ops == KNOWN_API, "a new API route needs its access tests here"


def test_it_serves_every_page_and_operation_to_coordinator_a(world, login, api_client, relocated):
    """The control for the refusals below."""
    c = login(world.coordinator)
    for name, url in page_urls("org-a", relocated.pk).items():
        expected = 405 if name in POST_ONLY else 200
        assert c.get(url).status_code == expected, name
    api = api_client(world.coordinator)
    for method, path, url in api_operations(relocated.pk):
        if method == "GET":
            assert api.get(url).status_code == 200, path


@pytest.mark.parametrize("who", OUTSIDERS)
def test_it_hides_every_relocation_page_from_everyone_but_coordinator_a(
    who, world, login, admin_a, relocated, safe_house
):
    persona = admin_a if who == "admin_a" else getattr(world, who)
    c = login(persona)
    before = state(world)
    posts = page_forms(world, relocated, safe_house)
    for name, url in page_urls("org-a", relocated.pk).items():
        for response in (c.get(url), c.post(url, posts.get(name, {}))):
            assert response.status_code == 404, (who, name, response.status_code)
            assert_reveals_nothing(response, (who, name))
    # And behind their own organisation's address, for the other organisation.
    if who == "coordinator_b":
        for name, url in page_urls("org-b", relocated.pk).items():
            if "relocation_id" not in str(
                next(p for p in relocation_urls.urlpatterns if p.name == name).pattern
            ):
                continue
            for response in (c.get(url), c.post(url, posts.get(name, {}))):
                assert response.status_code == 404, (who, name)
    assert state(world) == before


@pytest.mark.parametrize("who", OUTSIDERS)
def test_it_hides_every_relocation_operation_from_everyone_but_coordinator_a(
    who, world, api_client, admin_a, relocated, safe_house
):
    persona = admin_a if who == "admin_a" else getattr(world, who)
    api = api_client(persona)
    before = state(world)
    bodies = api_bodies(world, relocated, safe_house)
    for method, path, url in api_operations(relocated.pk):
        if method == "GET":
            response = api.get(url)
        else:
            response = api.post(url, bodies[path], content_type="application/json")
        assert response.status_code == 404, (who, method, path, response.content[:300])
        assert_reveals_nothing(response, (who, path))
    assert state(world) == before
    # The same bodies from A's coordinator do work: the refusal was the access check.
    control = api_client(world.coordinator)
    url = f"/api/v1/relocations/{relocated.pk}/costs"
    response = control.post(url, bodies["/{relocation_id}/costs"], content_type="application/json")
    assert response.status_code == 201, response.content


def test_it_hides_a_safe_house_from_a_coordinator_b_relocating_into_it(
    world, api_client, safe_house
):
    from datetime import date

    from amparo.people import actions as people_actions
    from amparo.protocols import relocation

    person_b = people_actions.create_person("test", world.org_b, given_names="Beto")
    item = relocation.request_relocation(
        world.coordinator_b.user, person_b, reason="Amenaza seria en Pando", risk_level="high"
    )
    relocation.decide_relocation(world.coordinator_b.user, item, approve=True, note=DECISION)
    api = api_client(world.coordinator_b)
    response = api.post(
        f"/api/v1/relocations/{item.pk}/relocation",
        {"starts_on": str(date(2025, 3, 1)), "safe_house": str(safe_house.pk)},
        content_type="application/json",
    )
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.safe_house_id is None


def test_it_answers_missing_malformed_and_forbidden_alike(world, login, relocated):
    c = login(world.coordinator_b)
    responses = [
        c.get(f"/o/org-b/relocations/{relocation_id}/")
        for relocation_id in (relocated.pk, random_id(), "not-a-uuid")
    ]
    assert {r.status_code for r in responses} == {404}
    assert len({without_csrf(r.content) for r in responses}) == 1
    s = login(world.supervisor)
    a = s.get(f"/o/org-a/relocations/{relocated.pk}/")
    b = s.get(f"/o/org-a/relocations/{random_id()}/")
    assert a.status_code == b.status_code == 404
    assert without_csrf(a.content) == without_csrf(b.content)


def test_it_sends_anonymous_visitors_to_sign_in(world, relocated):
    anonymous = Client()
    before = state(world)
    for name, url in page_urls("org-a", relocated.pk).items():
        response = anonymous.post(url, {})
        assert response.status_code == 302, name
        assert response.url.startswith("/accounts/login/"), name
    for method, path, url in api_operations(relocated.pk):
        response = anonymous.generic(method, url, "{}", content_type="application/json")
        assert response.status_code == 401, path
    assert state(world) == before


def test_it_sends_a_coordinator_to_verify_from_every_page(world, relocated):
    c = Client()
    c.post("/accounts/login/", {"username": world.coordinator.user.email, "password": PASSWORD})
    for name, url in page_urls("org-a", relocated.pk).items():
        response = c.get(url)
        assert response.status_code == 302, name
        assert response.url.startswith("/accounts/mfa/verify/"), name
