"""Safe houses (reference, Strategy 6): the security coordinator records and edits them;
changes are audited; a location out of range is refused and leaves nothing behind."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from amparo.core.models import AuditEntry
from amparo.people import actions
from amparo.people.models import SafeHouse
from tests.people.wording import LANGUAGES, message, set_language, shown

GOOD = {
    "region": "Madre de Dios",
    "name": "Casa Refugio Tambopata",
    "address": "Av. Madre de Dios 1186",
    "latitude": "-12.593412",
    "longitude": "-69.189765",
    "contact": "+51 982 555 0199",
    "notes": "Puerta de atrás",
    "capacity": "4",
    "available": "on",
}


def counts():
    return SafeHouse.objects.count(), AuditEntry.objects.count()


def test_it_creates_a_safe_house_through_the_page(world, login):
    c = login(world.coordinator)
    response = c.post("/o/org-a/safe-houses/new/", GOOD)
    house = SafeHouse.objects.get(organisation=world.org_a)
    assert response["Location"] == f"/o/org-a/safe-houses/{house.pk}/"
    assert house.location == {"lat": -12.593412, "lon": -69.189765}
    assert (house.name, house.address, house.capacity) == (
        "Casa Refugio Tambopata",
        "Av. Madre de Dios 1186",
        4,
    )
    audit = AuditEntry.objects.get(action="safe_house.created")
    assert audit.object_id == str(house.pk)
    assert audit.actor == f"user:{world.coordinator.user.pk}"
    assert "Casa Refugio Tambopata" in c.get(f"/o/org-a/safe-houses/{house.pk}/").content.decode()


def test_it_edits_a_safe_house_through_the_page(world, login):
    c = login(world.coordinator)
    c.post("/o/org-a/safe-houses/new/", GOOD)
    house = SafeHouse.objects.get(organisation=world.org_a)
    form = c.get(f"/o/org-a/safe-houses/{house.pk}/edit/").content.decode()
    assert "-12.593412" in form
    response = c.post(
        f"/o/org-a/safe-houses/{house.pk}/edit/",
        {**GOOD, "capacity": "6", "latitude": "", "longitude": ""},
    )
    assert response.status_code == 302
    house.refresh_from_db()
    assert house.capacity == 6
    assert house.location is None
    audit = AuditEntry.objects.get(action="safe_house.updated")
    assert audit.details == {"fields": ["capacity", "location"]}


PAGE_CASES = {
    "latitude above 90": (
        {"latitude": "91"},
        "Ensure this value is less than or equal to %(limit_value)s.",
        {"limit_value": 90},
        True,
    ),
    "longitude below -180": (
        {"longitude": "-181"},
        "Ensure this value is greater than or equal to %(limit_value)s.",
        {"limit_value": -180},
        True,
    ),
    "latitude alone": (
        {"longitude": ""},
        "Give both latitude and longitude, or neither.",
        {},
        False,
    ),
    "no address": ({"address": ""}, "This field is required.", {}, True),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", sorted(PAGE_CASES))
def test_it_refuses_bad_input_on_the_page(world, login, case, language):
    changes, msgid, params, from_django = PAGE_CASES[case]
    set_language(world.coordinator, language)
    c = login(world.coordinator)
    before = counts()
    response = c.post("/o/org-a/safe-houses/new/", {**GOOD, **changes})
    assert response.status_code == 200
    expected = message(language, msgid, **params)
    assert shown(response, expected), expected
    if language == "es" and from_django:
        assert expected != message("en", msgid, **params)
    assert counts() == before


@pytest.mark.parametrize(
    "location",
    [{"lat": 91, "lon": 0}, {"lat": 0, "lon": 180.5}, {"lat": "norte", "lon": 0}, {"lat": 1}],
)
def test_it_refuses_a_bad_location_in_the_action(world, location):
    before = counts()
    with pytest.raises(ValidationError) as refused:
        actions.create_safe_house(
            "test",
            world.org_a,
            region="Pando",
            name="Casa",
            address="x",
            location=location,
        )
    assert "location" in refused.value.message_dict
    assert counts() == before


def test_it_refuses_a_bad_location_when_editing_and_keeps_the_old_one(world):
    house = actions.create_safe_house(
        "test",
        world.org_a,
        region="Pando",
        name="Casa",
        address="x",
        location={"lat": -11.0, "lon": -68.7},
    )
    before = counts()
    with pytest.raises(ValidationError):
        actions.update_safe_house("test", house, location={"lat": -95, "lon": 0})
    assert SafeHouse.objects.get(pk=house.pk).location == {"lat": -11.0, "lon": -68.7}
    assert counts() == before


def test_it_lists_safe_houses_in_the_api_for_the_coordinator(world, api_client):
    house = actions.create_safe_house(
        "test",
        world.org_a,
        region="Pando",
        name="Casa",
        address="x",
        location={"lat": -11.0, "lon": -68.7},
    )
    c = api_client(world.coordinator)
    listed = c.get("/api/orgs/org-a/safe-houses").json()
    assert [h["id"] for h in listed] == [str(house.pk)]
    detail = c.get(f"/api/orgs/org-a/safe-houses/{house.pk}").json()
    assert detail["location"] == {"lat": -11.0, "lon": -68.7}
