"""Organisation isolation and need-to-know for the deployment pages (DESIGN.md section
7): nothing of organisation A reaches the coordinator of B on any travel page or post,
a traveller sees only their own deployments, and a member who is neither a manager, a
signatory nor the traveller gets the same 404 and none of the sealed values. The routes
come from the URL configuration itself, so a new route these tests do not know fails
them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from amparo.core.models import AuditEntry
from amparo.people import actions as people_actions
from amparo.travel import actions, trip_views
from amparo.travel import urls as travel_urls
from amparo.travel.models import (
    CodeAcceptance,
    CodeOfConduct,
    Deployment,
    GateException,
    TravelDeclaration,
    TravelSettings,
)
from conftest import PASSWORD
from tests.people.org_pages import random_id, without_csrf
from tests.travel.test_pages import (
    FLIGHTS,
    RELATIVE,
    departure,
    new_deployment_form,
    records_forms,
)
from tests.travel.test_pages import login as login  # noqa: F401  (the English pages)
from tests.travel.test_pages import signatories as signatories  # noqa: F401

ORG_PREFIX = "o/<slug:slug>/"
RECORDS = {
    "deployment-declaration",
    "deployment-next-of-kin",
    "deployment-insurance",
    "deployment-health",
    "deployment-training",
    "deployment-chain-of-command",
    "deployment-necessity",
    "deployment-registrations",
}
KNOWN_ORG_PAGES = {
    "deployment-list",
    "deployment-new",
    "deployment-approvals",
    "travel-settings",
    "deployment-detail",
    "deployment-status",
    "deployment-sign",
    "deployment-exception",
    "deployment-accept-code",
    "deployment-packet",
    *RECORDS,
}
# Downloads: a POST is refused for its method before anything is looked up.
GET_ONLY = {"deployment-packet"}
POST_ONLY = {
    "deployment-status",
    "deployment-sign",
    "deployment-exception",
    "deployment-accept-code",
    *RECORDS,
}


def forms(world):
    start = records_forms(departure())
    return {
        "deployment-new": new_deployment_form(world),
        "travel-settings": {"form": "code", "text": "Intrusa"},
        "deployment-status": {"status": "cancelled"},
        "deployment-exception": {"gate": "health", "reason": "Intrusa sin razón alguna"},
        **{f"deployment-{name}": form for name, form in start.items()},
    }


def travel_patterns():
    """The routes of these tests; the traveller's trip pages (trip_views) have their own,
    in test_trip_page_isolation.py."""
    return [p for p in travel_urls.urlpatterns if p.callback.__module__ != trip_views.__name__]


def org_patterns():
    return [p for p in travel_patterns() if str(p.pattern).startswith(ORG_PREFIX)]


def page_urls(slug, ids):
    urls = {}
    for pattern in org_patterns():
        kwargs = {"slug": slug}
        ids = {"language": "en", **ids}
        for name in pattern.pattern.converters:
            if name != "slug":
                assert name in ids, f"route {pattern.name} takes {name}: teach this test"
                kwargs[name] = ids[name]
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    return urls


@pytest.fixture
def deployment(world, signatories):  # noqa: F811
    deployment = actions.create_deployment(
        "test",
        world.org_a,
        traveller=world.defender_person,
        trip_type="pri",
        starts_on=departure(),
        returns_on=departure(),
        destinations=[{"country": "PE", "places": "Puerto Arturo-Secreto"}],
    )
    actions.save_declaration("test", deployment, international_flights=FLIGHTS)
    actions.save_next_of_kin("test", deployment, [{"name": RELATIVE, "phone": "+51 1"}] + [{}] * 2)
    return deployment


def state_of_org_a(world):
    """Everything a refused request must leave as it was."""
    return {
        "deployments": sorted(
            Deployment.objects.filter(organisation=world.org_a).values_list(
                "id", "status", "updated_at"
            )
        ),
        "declarations": sorted(TravelDeclaration.objects.values_list("id", "updated_at")),
        "settings": sorted(TravelSettings.objects.values_list("id", "executive_director")),
        "codes": CodeOfConduct.objects.count(),
        "acceptances": CodeAcceptance.objects.count(),
        "exceptions": GateException.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def test_it_knows_every_travel_route():
    names = {p.name for p in travel_patterns()}
    assert names == KNOWN_ORG_PAGES, "a new route needs its access tests here"
    assert {p.name for p in org_patterns()} == KNOWN_ORG_PAGES
    assert set(page_urls("org-a", {"deployment_id": "d"})) == KNOWN_ORG_PAGES


def test_it_serves_every_travel_page_to_coordinator_a(world, login, deployment):  # noqa: F811
    """The control for the refusals below."""
    c = login(world.coordinator)
    for name, url in page_urls("org-a", {"deployment_id": deployment.pk}).items():
        expected = 405 if name in POST_ONLY else 200
        assert c.get(url).status_code == expected, (name, url)


def test_it_hides_every_org_a_travel_page_from_coordinator_b(world, login, deployment):  # noqa: F811
    c = login(world.coordinator_b)
    before = state_of_org_a(world)
    posts = forms(world)
    for name, url in page_urls("org-a", {"deployment_id": deployment.pk}).items():
        # Not a member of A: refused before the method is even looked at.
        for response in (c.get(url), c.post(url, posts.get(name, {}))):
            assert response.status_code == 404, (name, url)
            assert FLIGHTS.encode() not in response.content
    assert state_of_org_a(world) == before
    assert not Deployment.objects.filter(organisation=world.org_b).exists()
    # The same post from A's coordinator does work: the refusal was the access check.
    control = login(world.coordinator)
    url = page_urls("org-a", {"deployment_id": deployment.pk})["deployment-status"]
    assert control.post(url, posts["deployment-status"]).status_code == 302
    assert state_of_org_a(world) != before


def test_it_hides_org_a_deployments_behind_org_b_pages(world, login, deployment):  # noqa: F811
    c = login(world.coordinator_b)
    before = state_of_org_a(world)
    posts = forms(world)
    for pattern in org_patterns():
        if set(pattern.pattern.converters) == {"slug"}:
            continue
        url = page_urls("org-b", {"deployment_id": deployment.pk})[pattern.name]
        get_expected = 405 if pattern.name in POST_ONLY else 404
        assert c.get(url).status_code == get_expected, url
        post_expected = 405 if pattern.name in GET_ONLY else 404
        assert c.post(url, posts.get(pattern.name, {})).status_code == post_expected, url
    assert state_of_org_a(world) == before


def test_it_answers_missing_malformed_and_forbidden_alike(world, login, deployment):  # noqa: F811
    c = login(world.coordinator_b)
    responses = [
        c.get(f"/o/org-b/deployments/{deployment_id}/")
        for deployment_id in (deployment.pk, random_id(), "not-a-uuid")
    ]
    assert {r.status_code for r in responses} == {404}
    assert len({without_csrf(r.content) for r in responses}) == 1


def test_it_shows_a_traveller_only_their_own_deployments(world, login, deployment):  # noqa: F811
    zoila = people_actions.create_person(
        "test", world.org_a, given_names="Zoila", user=world.focal_point.user
    )
    other = actions.create_deployment(
        "test",
        world.org_a,
        traveller=zoila,
        trip_type="pri",
        starts_on=deployment.starts_on,
        returns_on=deployment.returns_on,
    )
    c = login(world.defender)
    board = c.get("/o/org-a/deployments/").content.decode()
    assert "Zoila" not in board and "Rosa" in board
    before = state_of_org_a(world)
    posts = forms(world)
    for name, url in page_urls("org-a", {"deployment_id": other.pk}).items():
        if str(other.pk) not in url:
            continue
        # A GET of a post-only route is refused before any lookup, revealing nothing.
        assert c.get(url).status_code == (405 if name in POST_ONLY else 404), name
        post_expected = 405 if name in GET_ONLY else 404
        assert c.post(url, posts.get(name, {})).status_code == post_expected, name
    assert state_of_org_a(world) == before
    # Zoila, in turn, does not see Rosa's trip.
    zc = login(world.focal_point)
    assert zc.get(f"/o/org-a/deployments/{deployment.pk}/").status_code == 404
    assert zc.get(f"/o/org-a/deployments/{other.pk}/").status_code == 200


def test_it_keeps_sealed_values_from_a_member_without_a_part(world, login, deployment):  # noqa: F811
    c = login(world.supervisor)
    before = state_of_org_a(world)
    posts = forms(world)
    for name, url in page_urls("org-a", {"deployment_id": deployment.pk}).items():
        got, posted = c.get(url), c.post(url, posts.get(name, {}))
        for response in (got, posted):
            assert FLIGHTS.encode() not in response.content, name
            assert RELATIVE.encode() not in response.content, name
        if name != "deployment-list":
            assert got.status_code == (405 if name in POST_ONLY else 404), name
            assert posted.status_code == (405 if name in GET_ONLY else 404), name
    assert state_of_org_a(world) == before
    # The traveller does read them.
    page = login(world.defender).get(f"/o/org-a/deployments/{deployment.pk}/").content
    assert FLIGHTS.encode() in page and RELATIVE.encode() in page


def test_it_sends_anonymous_visitors_to_sign_in(world, deployment):
    anonymous = Client()
    before = state_of_org_a(world)
    for name, url in page_urls("org-a", {"deployment_id": deployment.pk}).items():
        response = anonymous.post(url, {})
        assert response.status_code == 302, name
        assert response.url.startswith("/accounts/login/"), name
    assert state_of_org_a(world) == before


def test_it_sends_a_staff_member_to_verify_from_every_travel_page(world, deployment):
    c = Client()
    assert (
        c.post(
            "/accounts/login/", {"username": world.coordinator.user.email, "password": PASSWORD}
        ).status_code
        == 302
    )
    for name, url in page_urls("org-a", {"deployment_id": deployment.pk}).items():
        response = c.get(url)
        assert response.status_code == 302, name
        assert response.url.startswith("/accounts/mfa/verify/"), name
