"""Check-ins over the API: ``POST`` and ``GET /api/v1/deployments/{id}/checkins``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine

from amparo.alerts.models import Alert, AlertKind
from amparo.travel import checkins
from amparo.travel.models import CheckIn, Deployment, DeploymentStatus, ExpectedState

PIN = "2468"
DURESS = "1357"
BEFORE = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)


@pytest.fixture
def deployment(world: Any) -> Deployment:
    deployment = Deployment.objects.create(
        organisation=world.org_a,
        traveller=world.defender_person,
        trip_type="other",
        starts_on=date(2026, 3, 1),
        returns_on=date(2026, 3, 10),
        status=DeploymentStatus.ACTIVE,
    )
    checkins.set_pins(world.defender.user, world.defender_person, PIN, DURESS)
    with time_machine.travel(BEFORE, tick=False):
        checkins.add_leg(
            world.coordinator.user,
            deployment,
            country="PE",
            time_zone="America/Lima",
            starts_at=START,
            ends_at=START + timedelta(days=3),
        )
    return deployment


def url(deployment: Deployment) -> str:
    return f"/api/v1/deployments/{deployment.pk}/checkins"


def post(client: Any, deployment: Deployment, body: dict[str, Any]) -> Any:
    return client.post(url(deployment), json.dumps(body), content_type="application/json")


def test_the_traveller_checks_in_over_the_api(world, api_client, deployment):
    with time_machine.travel(START, tick=False):
        response = post(api_client(world.defender), deployment, {"pin": PIN, "note": "llegué"})
    assert response.status_code == 201, response.content
    assert response.json()["via"] == "api"
    assert deployment.expected_checkins.order_by("due_at")[0].state == ExpectedState.CHECKED_IN


def test_the_duress_pin_gives_the_same_answer_and_raises_a_high_alert(
    world, api_client, deployment
):
    client = api_client(world.defender)
    with time_machine.travel(START, tick=False):
        normal = post(client, deployment, {"pin": PIN})
    with time_machine.travel(START + timedelta(days=1), tick=False):
        duress = post(client, deployment, {"pin": DURESS})
    assert normal.status_code == duress.status_code == 201
    assert set(normal.json()) == set(duress.json())
    assert Alert.objects.get().kind == AlertKind.DURESS


def test_a_wrong_pin_is_refused(world, api_client, deployment):
    response = post(api_client(world.defender), deployment, {"pin": "9999"})
    assert response.status_code == 422
    assert not CheckIn.objects.exists()


def test_the_traveller_and_the_coordinator_list_the_checkins(world, api_client, deployment):
    with time_machine.travel(START, tick=False):
        post(api_client(world.defender), deployment, {"pin": PIN})
    for persona in (world.defender, world.coordinator):
        response = api_client(persona).get(url(deployment))
        assert response.status_code == 200
        assert [c["via"] for c in response.json()] == ["api"]


@pytest.mark.parametrize("who", ["coordinator_b", "focal_point", "coordinator"])
def test_it_validates_ownership_of_a_checkin(world, api_client, deployment, who):
    # Only the traveller checks in; org B sees nothing of org A.
    response = post(api_client(getattr(world, who)), deployment, {"pin": PIN})
    assert response.status_code == 404
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("who", ["coordinator_b", "focal_point"])
def test_it_validates_ownership_of_the_list(world, api_client, deployment, who):
    assert api_client(getattr(world, who)).get(url(deployment)).status_code == 404


def test_it_needs_a_token(client, deployment):
    assert client.get(url(deployment)).status_code == 401


def test_the_endpoints_are_in_openapi(client):
    schema = client.get("/api/openapi.json").json()
    operations = schema["paths"]["/api/v1/deployments/{deployment_id}/checkins"]
    assert set(operations) == {"get", "post"}
