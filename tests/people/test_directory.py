"""The directory (reference, Section 1, "Recommendations to safeguard security"): the
coordinator creates, edits and archives entries through the pages and the API; every
change is audited; bad input is refused in the user's language and leaves nothing behind."""

from __future__ import annotations

import pytest

from amparo.core.models import AuditEntry
from amparo.people.models import DirectoryEntry
from tests.people.wording import LANGUAGES, message, set_language, shown

GOOD = {
    "category": "mental_health",
    "region": "Madre de Dios",
    "name": "Dra. Hermelinda Ccori",
    "phone": "+51 82 571 900",
    "email": "ccori@example.pe",
    "address": "Jr. Loreto 742",
    "notes": "Atiende en quechua",
    "specialties": ["trauma", "threats"],
    "available_24h": "on",
}


def counts():
    return DirectoryEntry.objects.count(), AuditEntry.objects.count()


def last_entry(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).order_by("-seq").first()


def test_it_creates_an_entry_through_the_page(world, login):
    c = login(world.coordinator)
    response = c.post("/o/org-a/directory/new/", GOOD)
    entry = DirectoryEntry.objects.get(organisation=world.org_a, category="mental_health")
    assert response.status_code == 302
    assert response["Location"] == f"/o/org-a/directory/{entry.pk}/"
    assert (entry.name, entry.phone, entry.address) == (
        "Dra. Hermelinda Ccori",
        "+51 82 571 900",
        "Jr. Loreto 742",
    )
    assert entry.specialties == ["trauma", "threats"]
    assert entry.available_24h is True
    audit = last_entry("directory_entry.created")
    assert audit.object_id == str(entry.pk)
    assert audit.actor == f"user:{world.coordinator.user.pk}"
    assert audit.organisation_id == world.org_a.pk
    detail = c.get(f"/o/org-a/directory/{entry.pk}/")
    assert "Dra. Hermelinda Ccori" in detail.content.decode()


def test_it_edits_an_entry_through_the_page(world, login):
    c = login(world.coordinator)
    c.post("/o/org-a/directory/new/", GOOD)
    entry = DirectoryEntry.objects.get(organisation=world.org_a)
    form = c.get(f"/o/org-a/directory/{entry.pk}/edit/")
    assert "Dra. Hermelinda Ccori" in form.content.decode()
    response = c.post(f"/o/org-a/directory/{entry.pk}/edit/", {**GOOD, "phone": "+51 82 000 111"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.phone == "+51 82 000 111"
    audit = last_entry("directory_entry.updated")
    assert audit.object_id == str(entry.pk)
    assert audit.details == {"fields": ["phone"]}


def test_it_archives_an_entry(world, login):
    c = login(world.coordinator)
    c.post("/o/org-a/directory/new/", GOOD)
    entry = DirectoryEntry.objects.get(organisation=world.org_a)
    response = c.post(f"/o/org-a/directory/{entry.pk}/archive/")
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.archived_at is not None
    assert last_entry("directory_entry.archived").object_id == str(entry.pk)
    assert "Hermelinda" not in c.get("/o/org-a/directory/").content.decode()


def test_it_lets_a_focal_point_add_an_entry(world, login):
    c = login(world.focal_point)
    response = c.post(
        "/o/org-a/directory/new/", {**GOOD, "category": "watch_group", "specialties": []}
    )
    assert response.status_code == 302
    assert DirectoryEntry.objects.filter(organisation=world.org_a, category="watch_group").exists()


def test_it_filters_the_list_by_category_and_region(world, login):
    c = login(world.coordinator)
    c.post("/o/org-a/directory/new/", GOOD)
    c.post(
        "/o/org-a/directory/new/",
        {"category": "police", "region": "Tahuamanu", "name": "Comisaría Iberia"},
    )
    page = c.get("/o/org-a/directory/?category=police").content.decode()
    assert "Comisaría Iberia" in page and "Hermelinda" not in page
    page = c.get("/o/org-a/directory/?region=madre").content.decode()
    assert "Hermelinda" in page and "Comisaría Iberia" not in page


def test_it_creates_an_entry_through_the_api(world, api_client):
    c = api_client(world.coordinator)
    payload = {**GOOD, "available_24h": True}
    response = c.post("/api/orgs/org-a/directory", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    entry = DirectoryEntry.objects.get(pk=body["id"])
    assert body["name"] == entry.name == "Dra. Hermelinda Ccori"
    assert body["specialties"] == ["trauma", "threats"]
    assert last_entry("directory_entry.created").object_id == str(entry.pk)
    listed = c.get("/api/orgs/org-a/directory?category=mental_health").json()
    assert [e["id"] for e in listed] == [str(entry.pk)]
    assert c.get(f"/api/orgs/org-a/directory/{entry.pk}").json()["address"] == "Jr. Loreto 742"


# Bad input: (changes to a good form, field, msgid, params, msgid comes from Django)
PAGE_CASES = {
    "bad phone": (
        {"phone": "llámame"},
        "phone",
        "%(value)s is not a phone number.",
        {"value": "llámame"},
        False,
    ),
    "unknown category": (
        {"category": "spaceport"},
        "category",
        "Select a valid choice. %(value)s is not one of the available choices.",
        {"value": "spaceport"},
        True,
    ),
    "specialties off mental health": (
        {"category": "police"},
        "specialties",
        "Only mental-health entries have specialties.",
        {},
        False,
    ),
    "unknown specialty": (
        {"specialties": ["astrology"]},
        "specialties",
        "Select a valid choice. %(value)s is not one of the available choices.",
        {"value": "astrology"},
        True,
    ),
    "bad e-mail": ({"email": "ccori@"}, "email", "Enter a valid email address.", {}, True),
    "no name": ({"name": ""}, "name", "This field is required.", {}, True),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", sorted(PAGE_CASES))
def test_it_refuses_bad_input_on_the_page(world, login, case, language):
    changes, _field, msgid, params, from_django = PAGE_CASES[case]
    set_language(world.coordinator, language)
    c = login(world.coordinator)
    before = counts()
    response = c.post("/o/org-a/directory/new/", {**GOOD, **changes})
    assert response.status_code == 200
    expected = message(language, msgid, **params)
    assert shown(response, expected), expected
    if language == "es" and from_django:
        assert expected != message("en", msgid, **params)  # really Spanish
    assert counts() == before


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_refuses_bad_input_when_editing_and_keeps_the_entry(world, login, language):
    set_language(world.coordinator, language)
    c = login(world.coordinator)
    c.post("/o/org-a/directory/new/", GOOD)
    entry = DirectoryEntry.objects.get(organisation=world.org_a)
    before = counts()
    response = c.post(f"/o/org-a/directory/{entry.pk}/edit/", {**GOOD, "phone": "abc"})
    assert response.status_code == 200
    assert shown(response, message(language, "%(value)s is not a phone number.", value="abc"))
    entry.refresh_from_db()
    assert entry.phone == "+51 82 571 900"
    assert counts() == before


API_CASES = {
    "bad phone": (
        {"phone": "llámame"},
        "phone",
        "%(value)s is not a phone number.",
        {"value": "llámame"},
        False,
    ),
    "unknown category": (
        {"category": "spaceport", "specialties": []},
        "category",
        "Value %(value)r is not a valid choice.",
        {"value": "spaceport"},
        True,
    ),
    "specialties off mental health": (
        {"category": "police"},
        "specialties",
        "Only mental-health entries have specialties.",
        {},
        False,
    ),
    "unknown specialty": (
        {"specialties": ["astrology"]},
        "specialties",
        "Unknown specialty.",
        {},
        False,
    ),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", sorted(API_CASES))
def test_it_refuses_bad_input_in_the_api(world, api_client, case, language):
    changes, field, msgid, params, from_django = API_CASES[case]
    set_language(world.coordinator, language)
    c = api_client(world.coordinator)
    before = counts()
    response = c.post(
        "/api/orgs/org-a/directory",
        {**GOOD, "available_24h": True, **changes},
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    expected = message(language, msgid, **params)
    assert expected in response.json()["detail"][field]
    if language == "es" and from_django:
        assert expected != message("en", msgid, **params)
    assert counts() == before


def test_it_refuses_a_malformed_api_body(world, api_client):
    c = api_client(world.coordinator)
    before = counts()
    response = c.post(
        "/api/orgs/org-a/directory", {"category": "police"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert counts() == before
