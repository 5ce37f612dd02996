"""The alerts API (issue 3, point 9): raise, list, get, acknowledge, resolve under
/api/v1/alerts, validated, leaving nothing behind when it refuses, and described in the
OpenAPI document."""

from __future__ import annotations

import pytest
from django.test import Client

from amparo.alerts.models import Alert, AlertStep, EscalationPolicy
from amparo.core.models import AuditEntry
from tests.alerts.support import (
    add_person,
    fast_hashing,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.usefixtures("fast_hashing")

REQUIRED_KEYS = {"id", "kind", "severity", "state", "raised_at", "acknowledged_at"}


def post(c, body):
    return c.post("/api/v1/alerts", body, content_type="application/json")


def nothing_written():
    return (Alert.objects.count(), AlertStep.objects.count(), AuditEntry.objects.count())


def valid(**changes):
    body = {"organisation": "org-a", "kind": "threat", "severity": "high", "message": "Amenaza"}
    body.update(changes)
    return body


def test_it_raises_an_alert(world, api_client):
    c = api_client(world.coordinator)
    response = post(
        c,
        valid(
            person_id=str(world.defender_person.pk),
            location={"lat": -12.59, "lon": -69.18},
        ),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert REQUIRED_KEYS <= set(body)
    alert = Alert.objects.get()
    assert body["id"] == str(alert.pk)
    assert (body["kind"], body["severity"], body["state"]) == ("threat", "high", "raised")
    assert body["acknowledged_at"] is None
    assert body["organisation"] == "org-a"
    assert body["code"] == alert.code
    assert alert.source == "api"
    assert alert.person == world.defender_person
    assert alert.location == {"lat": -12.59, "lon": -69.18}
    assert AlertStep.objects.filter(alert=alert).count() == 12

    fetched = c.get(f"/api/v1/alerts/{alert.pk}").json()
    assert REQUIRED_KEYS <= set(fetched)
    assert fetched["raised_at"] == body["raised_at"]
    listed = c.get("/api/v1/alerts?organisation=org-a").json()
    assert [a["id"] for a in listed] == [str(alert.pk)]
    assert REQUIRED_KEYS <= set(listed[0])
    acknowledged = c.post(f"/api/v1/alerts/{alert.pk}/acknowledge").json()
    assert acknowledged["acknowledged_at"] is not None
    assert acknowledged["state"] == "acknowledged"
    assert c.get("/api/v1/alerts?organisation=org-a&state=raised").json() == []


def test_it_raises_a_defenders_alert_about_themselves(world, api_client):
    response = post(api_client(world.defender), valid(kind="panic", severity="low"))
    assert response.status_code == 201
    alert = Alert.objects.get()
    assert alert.person == world.defender_person
    assert alert.severity == "high"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "meteorite"}, "kind"),
        ({"severity": "extreme"}, "severity"),
        ({"kind": ""}, "kind"),
    ],
)
def test_it_refuses_an_unknown_kind_or_severity(world, api_client, changes, field):
    c = api_client(world.coordinator)
    before = nothing_written()
    response = post(c, valid(**changes))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert list(detail) == [field]
    assert detail[field][0]  # a message, in the user's language
    assert nothing_written() == before


@pytest.mark.parametrize(
    "location",
    [
        {"lat": 91, "lon": 0},
        {"lat": -90.5, "lon": 0},
        {"lat": 0, "lon": 180.01},
        {"lat": 0, "lon": -181},
        {"lat": "north", "lon": 0},
        {"lat": 0},
    ],
)
def test_it_refuses_a_location_out_of_range(world, api_client, location):
    c = api_client(world.coordinator)
    before = nothing_written()
    response = post(c, valid(location=location))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail and all(error["msg"] for error in detail)
    assert {error["loc"][-2] for error in detail} <= {"location"} | {"lat", "lon"}
    assert nothing_written() == before


def test_it_refuses_missing_fields_and_an_overlong_message(world, api_client):
    c = api_client(world.coordinator)
    before = nothing_written()
    assert post(c, {"organisation": "org-a", "kind": "threat"}).status_code == 422
    assert post(c, valid(message="x" * 2001)).status_code == 422
    assert c.post("/api/v1/alerts", "{not json", content_type="application/json").status_code in (
        400,
        422,
    )
    assert nothing_written() == before


def test_it_never_lets_an_alert_die_for_want_of_a_policy(world, api_client):
    """With every policy deleted the organisation gets the reference's defaults again."""
    EscalationPolicy.objects.filter(organisation=world.org_a).delete()
    response = post(api_client(world.coordinator), valid())
    assert response.status_code == 201
    alert = Alert.objects.get()
    assert alert.policy_snapshot["name"].endswith("Life at risk")
    assert EscalationPolicy.objects.filter(organisation=world.org_a).count() == 4


def test_it_refuses_a_person_it_cannot_see(world, api_client):
    stranger = add_person(world.org_b, "Ajena")
    zoila = add_person(world.org_a, "Zoila")
    coordinator, defender = api_client(world.coordinator), api_client(world.defender)
    before = nothing_written()
    assert post(coordinator, valid(person_id=str(stranger.pk))).status_code == 404
    # A defender may raise only about themselves.
    assert post(defender, valid(person_id=str(zoila.pk))).status_code == 404
    assert nothing_written() == before


def test_it_answers_the_first_acknowledgement_and_refuses_the_second(world, api_client):
    c = api_client(world.coordinator)
    alert_id = post(c, valid()).json()["id"]
    first = c.post(f"/api/v1/alerts/{alert_id}/acknowledge")
    assert first.status_code == 200
    second = api_client(world.supervisor).post(f"/api/v1/alerts/{alert_id}/acknowledge")
    assert second.status_code == 409
    assert (
        c.get(f"/api/v1/alerts/{alert_id}").json()["acknowledged_at"]
        == (first.json()["acknowledged_at"])
    )


def test_it_lists_the_five_operations_in_openapi(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    operations = {
        (method.upper(), path)
        for path, item in paths.items()
        if path.startswith("/api/v1/alerts")
        for method in item
    }
    assert operations == {
        ("POST", "/api/v1/alerts"),
        ("GET", "/api/v1/alerts"),
        ("GET", "/api/v1/alerts/{alert_id}"),
        ("POST", "/api/v1/alerts/{alert_id}/acknowledge"),
        ("POST", "/api/v1/alerts/{alert_id}/resolve"),
    }
    schemas = response.json()["components"]["schemas"]
    assert REQUIRED_KEYS <= set(schemas["AlertOut"]["properties"])
    assert paths["/api/v1/alerts"]["post"]["responses"].keys() >= {"201", "422"}
    assert "409" in paths["/api/v1/alerts/{alert_id}/acknowledge"]["post"]["responses"]
