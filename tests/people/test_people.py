"""People and the chain of command: the coordinator creates and edits profiles through
the pages and the API, sets who reports to whom and the emergency order of authority;
everything is audited; bad input is refused in the user's language and changes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from amparo.core.models import AuditEntry
from amparo.people import actions
from amparo.people.models import Person
from tests.people.wording import LANGUAGES, message, set_language, shown

GOOD = {
    "given_names": "Zoila",
    "family_names": "Quispe Mamani",
    "phone_numbers": "+51 982 555 0199\n+51 984 303 7781",
    "email": "zoila.quispe@example.pe",
    "home_area": "Boca Pariamanu",
    "languages": "es, qu",
    "community_role": "indigenous_leader",
    "preferred_language": "es",
    "time_zone": "America/Lima",
}
GOOD_API = {**GOOD, "phone_numbers": ["+51 982 555 0199"], "languages": ["es", "qu"]}


def counts():
    return Person.objects.count(), AuditEntry.objects.count()


def person_state(person: Person):
    person.refresh_from_db()
    return (person.supervisor_id, person.emergency_rank, person.display_name, person.phone_numbers)


def test_it_creates_a_person_through_the_page(world, login):
    c = login(world.coordinator)
    response = c.post("/o/org-a/people/new/", GOOD)
    person = Person.objects.get(organisation=world.org_a, community_role="indigenous_leader")
    assert response["Location"] == f"/o/org-a/people/{person.pk}/"
    assert person.display_name == "Zoila Quispe Mamani"
    assert person.phone_numbers == ["+51 982 555 0199", "+51 984 303 7781"]
    assert person.languages == ["es", "qu"]
    assert person.email == "zoila.quispe@example.pe"
    audit = AuditEntry.objects.get(action="person.created", object_id=str(person.pk))
    assert audit.actor == f"user:{world.coordinator.user.pk}"
    assert audit.organisation_id == world.org_a.pk
    assert "Quispe Mamani" in c.get(f"/o/org-a/people/{person.pk}/").content.decode()


def test_it_edits_a_person_through_the_page(world, login):
    c = login(world.coordinator)
    c.post("/o/org-a/people/new/", GOOD)
    person = Person.objects.get(organisation=world.org_a, community_role="indigenous_leader")
    form = c.get(f"/o/org-a/people/{person.pk}/edit/").content.decode()
    assert "Boca Pariamanu" in form
    response = c.post(f"/o/org-a/people/{person.pk}/edit/", {**GOOD, "home_area": "Iñapari"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.home_area == "Iñapari"
    audit = AuditEntry.objects.get(action="person.updated", object_id=str(person.pk))
    assert audit.details == {"fields": ["home_area"]}


def test_it_writes_nothing_when_an_edit_changes_nothing(world, login):
    c = login(world.coordinator)
    c.post("/o/org-a/people/new/", GOOD)
    person = Person.objects.get(organisation=world.org_a, community_role="indigenous_leader")
    before = counts()
    assert c.post(f"/o/org-a/people/{person.pk}/edit/", GOOD).status_code == 302
    assert counts() == before


def test_it_creates_a_person_through_the_api(world, api_client):
    c = api_client(world.coordinator)
    response = c.post("/api/orgs/org-a/people", GOOD_API, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    person = Person.objects.get(pk=body["id"])
    assert body["given_names"] == person.given_names == "Zoila"
    assert body["phone_numbers"] == ["+51 982 555 0199"]
    assert AuditEntry.objects.filter(action="person.created", object_id=str(person.pk)).exists()
    assert c.get(f"/api/orgs/org-a/people/{person.pk}").json()["home_area"] == "Boca Pariamanu"
    assert str(person.pk) in {p["id"] for p in c.get("/api/orgs/org-a/people").json()}


PAGE_CASES = {
    "bad phone": (
        {"phone_numbers": "+51 982 555 0199\nllámame"},
        "%(value)s is not a phone number.",
        {"value": "llámame"},
        False,
    ),
    "bad e-mail": ({"email": "zoila@"}, "Enter a valid email address.", {}, True),
    "unknown role": (
        {"community_role": "shaman"},
        "Select a valid choice. %(value)s is not one of the available choices.",
        {"value": "shaman"},
        True,
    ),
    "no name": ({"given_names": ""}, "This field is required.", {}, True),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", sorted(PAGE_CASES))
def test_it_refuses_bad_input_on_the_page(world, login, case, language):
    changes, msgid, params, from_django = PAGE_CASES[case]
    set_language(world.coordinator, language)
    c = login(world.coordinator)
    before = counts()
    response = c.post("/o/org-a/people/new/", {**GOOD, **changes})
    assert response.status_code == 200
    expected = message(language, msgid, **params)
    assert shown(response, expected), expected
    if language == "es" and from_django:
        assert expected != message("en", msgid, **params)
    assert counts() == before


API_CASES = {
    "bad phone": (
        {"phone_numbers": ["12"]},
        "phone_numbers",
        "%(value)s is not a phone number.",
        {"value": "12"},
        False,
    ),
    "unknown role": (
        {"community_role": "shaman"},
        "community_role",
        "Value %(value)r is not a valid choice.",
        {"value": "shaman"},
        True,
    ),
    "unknown time zone": (
        {"time_zone": "Mars/Olympus"},
        "time_zone",
        "Value %(value)r is not a valid choice.",
        {"value": "Mars/Olympus"},
        True,
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
        "/api/orgs/org-a/people", {**GOOD_API, **changes}, content_type="application/json"
    )
    assert response.status_code == 422, response.content
    expected = message(language, msgid, **params)
    assert expected in response.json()["detail"][field]
    if language == "es" and from_django:
        assert expected != message("en", msgid, **params)
    assert counts() == before


def test_it_refuses_a_bad_email_in_the_api(world, api_client):
    c = api_client(world.coordinator)
    before = counts()
    response = c.post(
        "/api/orgs/org-a/people", {**GOOD_API, "email": "zoila@"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert counts() == before


# Chain of command


@pytest.fixture
def team(world):
    boss = actions.create_person("test", world.org_a, given_names="Teófila")
    middle = actions.create_person("test", world.org_a, given_names="Wilmer")
    actions.set_chain_of_command("test", middle, supervisor=boss, emergency_rank=1)
    return boss, middle


def test_it_sets_the_chain_of_command_through_the_page(world, login, team):
    boss, middle = team
    c = login(world.coordinator)
    response = c.post(
        f"/o/org-a/people/{world.defender_person.pk}/chain/",
        {"supervisor": str(middle.pk), "emergency_rank": "2"},
    )
    assert response.status_code == 302
    rosa = Person.objects.get(pk=world.defender_person.pk)
    assert (rosa.supervisor_id, rosa.emergency_rank) == (middle.pk, 2)
    audit = AuditEntry.objects.filter(
        action="person.chain_of_command_set", object_id=str(rosa.pk)
    ).get()
    assert audit.details == {"supervisor": str(middle.pk), "emergency_rank": 2}
    page = c.get("/o/org-a/chain-of-command/").content.decode()
    assert page.index("Wilmer") < page.index("Rosa")  # deciders in order of authority


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_refuses_a_supervisor_loop(world, login, team, language):
    boss, middle = team
    set_language(world.coordinator, language)
    c = login(world.coordinator)
    state = person_state(boss)
    before = counts()
    response = c.post(f"/o/org-a/people/{boss.pk}/chain/", {"supervisor": str(middle.pk)})
    assert response.status_code == 200
    assert shown(response, message(language, "That would make a reporting loop."))
    assert person_state(boss) == state
    assert counts() == before


def test_it_refuses_a_longer_loop_in_the_action(world, team):
    boss, middle = team
    bottom = actions.create_person("test", world.org_a, given_names="Nilda")
    actions.set_chain_of_command("test", bottom, supervisor=middle, emergency_rank=None)
    before = counts()
    with pytest.raises(ValidationError) as refused:
        actions.set_chain_of_command("test", boss, supervisor=bottom, emergency_rank=None)
    assert "supervisor" in refused.value.message_dict
    assert Person.objects.get(pk=boss.pk).supervisor_id is None
    assert counts() == before


def test_it_refuses_oneself_as_supervisor(world, login, team):
    boss, _middle = team
    c = login(world.coordinator)
    state = person_state(boss)
    response = c.post(f"/o/org-a/people/{boss.pk}/chain/", {"supervisor": str(boss.pk)})
    assert response.status_code == 200
    assert person_state(boss) == state
    with pytest.raises(ValidationError):
        actions.set_chain_of_command("test", boss, supervisor=boss, emergency_rank=None)


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_refuses_a_duplicate_emergency_rank(world, login, team, language):
    boss, _middle = team
    set_language(world.coordinator, language)
    c = login(world.coordinator)
    state = person_state(boss)
    before = counts()
    response = c.post(f"/o/org-a/people/{boss.pk}/chain/", {"emergency_rank": "1"})
    assert response.status_code == 200
    assert shown(response, message(language, "Someone else already has place %(rank)s.", rank=1))
    assert person_state(boss) == state
    assert counts() == before


def test_it_refuses_a_supervisor_from_another_organisation(world, login, team):
    boss, _middle = team
    foreign = actions.create_person("test", world.org_b, given_names="Evo")
    c = login(world.coordinator)
    state = person_state(boss)
    response = c.post(f"/o/org-a/people/{boss.pk}/chain/", {"supervisor": str(foreign.pk)})
    assert response.status_code == 200
    assert person_state(boss) == state
    with pytest.raises(ValidationError) as refused:
        actions.set_chain_of_command("test", boss, supervisor=foreign, emergency_rank=None)
    assert "supervisor" in refused.value.message_dict


def test_it_lets_the_same_rank_exist_in_two_organisations(world, team):
    other = actions.create_person("test", world.org_b, given_names="Evo")
    actions.set_chain_of_command("test", other, supervisor=None, emergency_rank=1)
    assert Person.objects.get(pk=other.pk).emergency_rank == 1


def test_it_archives_a_person_out_of_the_list(world, login):
    person = actions.create_person("test", world.org_a, given_names="Nilda")
    c = login(world.coordinator)
    assert "Nilda" in c.get("/o/org-a/people/").content.decode()
    actions.archive_person(world.coordinator.user, person)
    assert "Nilda" not in c.get("/o/org-a/people/").content.decode()
    assert AuditEntry.objects.filter(action="person.archived", object_id=str(person.pk)).exists()
