"""Tenancy and need-to-know (DESIGN.md sections 1 and 7): nothing of organisation A
reaches the coordinator of B, safe houses reach only the security coordinator, a defender
sees only their own profile, and "missing" looks exactly like "forbidden"."""

from __future__ import annotations

import json

import pytest

from amparo.core.models import AuditEntry
from amparo.people.models import DirectoryEntry, Invitation, Person, SafeHouse
from tests.people.org_pages import (
    POST_ONLY,
    api_body,
    make_records,
    org_api_operations,
    org_page_urls,
    org_patterns,
    random_id,
    without_csrf,
)

# The pages the access rules must cover; the URL configuration may add more, never fewer.
KNOWN_PAGES = {
    "org-home",
    "members",
    "revoke-invitation",
    "people",
    "person-new",
    "person-detail",
    "person-edit",
    "person-chain",
    "chain-of-command",
    "directory",
    "directory-new",
    "directory-detail",
    "directory-edit",
    "directory-archive",
    "safe-houses",
    "safe-house-new",
    "safe-house-detail",
    "safe-house-edit",
}
# A valid form for each page that takes one, so that a refusal is the access check.
FORMS = {
    "person-new": {
        "given_names": "Intrusa",
        "community_role": "other",
        "preferred_language": "es",
        "time_zone": "America/Lima",
    },
    "person-edit": {
        "given_names": "Intrusa",
        "community_role": "other",
        "preferred_language": "es",
        "time_zone": "America/Lima",
    },
    "person-chain": {"emergency_rank": "7"},
    "directory-new": {"category": "police", "region": "Pando", "name": "Intrusa"},
    "directory-edit": {"category": "police", "region": "Pando", "name": "Intrusa"},
    "safe-house-new": {"region": "Pando", "name": "Intrusa", "address": "x", "capacity": "1"},
    "safe-house-edit": {"region": "Pando", "name": "Intrusa", "address": "x", "capacity": "1"},
    "members": {"email": "intrusa@b.example", "role": "coordinator"},
}


@pytest.fixture
def records(world):
    return make_records(world)


def state_of_org_a(world):
    """Everything a refused request must leave as it was."""
    return {
        "people": sorted(
            (str(p.pk), p.display_name, p.emergency_rank, p.archived_at)
            for p in Person.objects.filter(organisation=world.org_a)
        ),
        "directory": sorted(
            (str(e.pk), e.name, e.category, e.archived_at)
            for e in DirectoryEntry.objects.filter(organisation=world.org_a)
        ),
        "safe_houses": sorted(
            (str(s.pk), s.name, s.archived_at)
            for s in SafeHouse.objects.filter(organisation=world.org_a)
        ),
        "invitations": sorted(
            (str(i.pk), i.revoked_at) for i in Invitation.objects.filter(organisation=world.org_a)
        ),
        "audit": AuditEntry.objects.count(),
    }


def test_it_knows_every_org_route(records):
    names = {p.name for p in org_patterns()}
    assert KNOWN_PAGES <= names
    urls = org_page_urls("org-a", records.ids())
    assert set(urls) == names
    assert set(FORMS) <= names


def test_it_serves_every_org_page_to_coordinator_a(world, login, records):
    """The control for the refusals below: the same URLs work for A's coordinator."""
    c = login(world.coordinator)
    for name, url in org_page_urls("org-a", records.ids()).items():
        response = c.get(url)
        expected = 405 if name in POST_ONLY else 200
        assert response.status_code == expected, (name, url, response.status_code)


def test_it_hides_every_org_a_page_from_coordinator_b(world, login, records):
    c = login(world.coordinator_b)
    before = state_of_org_a(world)
    for name, url in org_page_urls("org-a", records.ids()).items():
        assert c.get(url).status_code == 404, (name, url)
        assert c.post(url, FORMS.get(name, {})).status_code == 404, (name, url)
    assert state_of_org_a(world) == before


def test_it_hides_org_a_records_behind_org_b_pages(world, login, records):
    """B's coordinator is a member of org-b: A's ids under B's address are still 404."""
    c = login(world.coordinator_b)
    before = state_of_org_a(world)
    for pattern in org_patterns():
        if set(pattern.pattern.converters) == {"slug"}:
            continue
        url = org_page_urls("org-b", records.ids())[pattern.name]
        # A POST-only page answers 405 to a GET whatever the id: that reveals nothing.
        assert c.get(url).status_code == (405 if pattern.name in POST_ONLY else 404), url
        assert c.post(url, FORMS.get(pattern.name, {})).status_code == 404, url
    assert state_of_org_a(world) == before


def test_it_hides_every_org_a_api_endpoint_from_coordinator_b(world, api_client, records):
    control = api_client(world.coordinator)
    c = api_client(world.coordinator_b)
    operations = org_api_operations("org-a", records.ids())
    assert len(operations) >= 8
    before = state_of_org_a(world)
    for method, url in operations:
        if method == "GET":
            response = c.get(url)
        else:
            response = c.post(url, api_body(url), content_type="application/json")
        assert response.status_code == 404, (method, url, response.content)
    assert state_of_org_a(world) == before
    for method, url in operations:
        if method == "GET":
            assert control.get(url).status_code == 200, url
        else:
            response = control.post(url, api_body(url), content_type="application/json")
            assert response.status_code == 201, (url, response.content)


def test_it_hides_org_a_records_behind_org_b_api_paths(world, api_client, records):
    c = api_client(world.coordinator_b)
    for method, url in org_api_operations("org-b", records.ids()):
        if method == "GET" and url.count("/") > 5:
            assert c.get(url).status_code == 404, url


@pytest.mark.parametrize("persona", ["defender", "focal_point", "supervisor"])
def test_it_shows_safe_houses_only_to_the_security_coordinator(
    world, login, api_client, records, persona
):
    member = getattr(world, persona)
    c = login(member)
    before = state_of_org_a(world)
    for name, url in org_page_urls("org-a", records.ids()).items():
        if name.startswith("safe-house"):
            assert c.get(url).status_code == 404, (persona, url)
            assert c.post(url, FORMS.get(name, {})).status_code == 404, (persona, url)
    assert b"Casa Refugio" not in c.get("/o/org-a/").content
    assert state_of_org_a(world) == before
    api = api_client(member)
    for _method, url in org_api_operations("org-a", records.ids()):
        if "safe-houses" in url:
            assert api.get(url).status_code == 404, (persona, url)
    assert api.get("/api/orgs/org-a/directory").status_code == 200


def test_it_shows_a_defender_only_their_own_person(world, login, api_client, records):
    c = login(world.defender)
    listing = c.get("/o/org-a/people/")
    assert listing.status_code == 200
    assert "Rosa" in listing.content.decode()
    assert "Zoila" not in listing.content.decode()
    assert c.get(f"/o/org-a/people/{world.defender_person.pk}/").status_code == 200
    assert c.get(f"/o/org-a/people/{records.person.pk}/").status_code == 404
    assert c.get(f"/o/org-a/people/{world.defender_person.pk}/edit/").status_code == 404
    assert c.get("/o/org-a/chain-of-command/").status_code == 404

    api = api_client(world.defender)
    people = api.get("/api/orgs/org-a/people").json()
    assert [p["id"] for p in people] == [str(world.defender_person.pk)]
    assert api.get(f"/api/orgs/org-a/people/{world.defender_person.pk}").status_code == 200
    assert api.get(f"/api/orgs/org-a/people/{records.person.pk}").status_code == 404
    response = api.post(
        "/api/orgs/org-a/people", {"given_names": "Otra"}, content_type="application/json"
    )
    assert response.status_code == 404


def test_it_lets_a_defender_read_the_directory_but_not_edit_it(world, login, records):
    c = login(world.defender)
    assert c.get(f"/o/org-a/directory/{records.entry.pk}/").status_code == 200
    assert c.get(f"/o/org-a/directory/{records.entry.pk}/edit/").status_code == 404
    assert c.post(f"/o/org-a/directory/{records.entry.pk}/archive/").status_code == 404
    assert DirectoryEntry.objects.get(pk=records.entry.pk).archived_at is None


def _same_404(responses):
    statuses = {r.status_code for r in responses}
    assert statuses == {404}
    bodies = {without_csrf(r.content) for r in responses}
    assert len(bodies) == 1, bodies


@pytest.mark.parametrize(
    "route",
    [
        "people/{}/",
        "people/{}/edit/",
        "directory/{}/",
        "directory/{}/edit/",
        "safe-houses/{}/",
        "safe-houses/{}/edit/",
    ],
)
def test_it_answers_missing_malformed_and_forbidden_alike_on_pages(world, login, records, route):
    c = login(world.coordinator_b)
    noun = route.split("/")[0]
    forbidden = {
        "people": records.person.pk,
        "directory": records.entry.pk,
        "safe-houses": records.safe_house.pk,
    }[noun]
    _same_404(
        [
            c.get("/o/org-b/" + route.format(forbidden)),
            c.get("/o/org-b/" + route.format(random_id())),
            c.get("/o/org-b/" + route.format("not-a-uuid")),
            c.get("/o/org-b/" + route.format("%27%20OR%201=1")),
        ]
    )


def test_it_answers_a_foreign_and_a_missing_organisation_alike(world, login):
    c = login(world.coordinator_b)
    _same_404([c.get("/o/org-a/"), c.get("/o/no-such-org/"), c.get("/o/org-a/people/")])


def test_it_answers_forbidden_and_missing_alike_for_a_defender(world, login, records):
    c = login(world.defender)
    _same_404(
        [
            c.get(f"/o/org-a/people/{records.person.pk}/"),
            c.get(f"/o/org-a/people/{random_id()}/"),
            c.get("/o/org-a/people/12345/"),
        ]
    )
    _same_404(
        [
            c.get(f"/o/org-a/safe-houses/{records.safe_house.pk}/"),
            c.get(f"/o/org-a/safe-houses/{random_id()}/"),
            c.get("/o/org-a/safe-houses/zzz/"),
        ]
    )


@pytest.mark.parametrize("noun", ["people", "directory", "safe-houses"])
def test_it_answers_missing_malformed_and_forbidden_alike_in_the_api(
    world, api_client, records, noun
):
    c = api_client(world.coordinator_b)
    forbidden = {
        "people": records.person.pk,
        "directory": records.entry.pk,
        "safe-houses": records.safe_house.pk,
    }[noun]
    responses = [
        c.get(f"/api/orgs/org-b/{noun}/{forbidden}"),
        c.get(f"/api/orgs/org-b/{noun}/{random_id()}"),
        c.get(f"/api/orgs/org-b/{noun}/not-a-uuid"),
        c.get(f"/api/orgs/org-a/{noun}/{forbidden}"),
        c.get(f"/api/orgs/no-such-org/{noun}/{forbidden}"),
    ]
    assert {r.status_code for r in responses} == {404}
    assert len({json.dumps(r.json(), sort_keys=True) for r in responses}) == 1


def test_it_answers_an_archived_record_like_a_missing_one(world, login, api_client, records):
    from amparo.people import actions

    actions.archive_person("test", records.person)
    actions.archive_directory_entry("test", records.entry)
    actions.archive_safe_house("test", records.safe_house)
    c = login(world.coordinator)
    for noun, pk in (
        ("people", records.person.pk),
        ("directory", records.entry.pk),
        ("safe-houses", records.safe_house.pk),
    ):
        _same_404([c.get(f"/o/org-a/{noun}/{pk}/"), c.get(f"/o/org-a/{noun}/{random_id()}/")])
        assert c.get(f"/o/org-a/{noun}/{pk}/edit/").status_code == 404
        api = api_client(world.coordinator)
        assert api.get(f"/api/orgs/org-a/{noun}/{pk}").status_code == 404
        assert str(pk) not in {r["id"] for r in api.get(f"/api/orgs/org-a/{noun}").json()}
