"""Deployments over the API (issue 5, point 9): ``/api/v1/deployments`` and its gates,
status, exceptions and signature. The records are completed through the actions, as in
tests/travel/test_deployments.py; the routes of the isolation test come from the OpenAPI
schema itself, so a new route that this module does not know fails it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from amparo.core.models import AuditEntry
from amparo.people import actions as people_actions
from amparo.people.models import Role
from amparo.travel import actions, checkins, gates
from amparo.travel.models import (
    CheckIn,
    Deployment,
    DeploymentStatus,
    GateException,
    TravelDeclaration,
    TravelSettings,
)
from conftest import Persona, World, make_persona
from tests.travel.test_deployments import (
    EXCEPTION_REASON,
    PURPOSE,
    SECRETS,
    Ready,
    new_deployment,
    ready_deployment,
)

URL = "/api/v1/deployments"
PREFIX = "/api/v1/deployments/{deployment_id}"


@pytest.fixture(autouse=True)
def store(settings, tmp_path: Path) -> Path:
    settings.EVIDENCE_DIR = tmp_path  # the travel programme goes to the evidence vault
    return tmp_path


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def detail_url(deployment: Deployment, tail: str = "") -> str:
    return f"{URL}/{deployment.pk}{tail}"


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def in_language_of(persona: Persona, text: Any) -> str:
    with translation.override(persona.user.language):
        return str(text)


def creation_body(world: World, **overrides: Any) -> dict[str, Any]:
    starts_on = date.today() + timedelta(days=30)  # noqa: DTZ011 - a calendar date
    body: dict[str, Any] = {
        "organisation": world.org_a.slug,
        "traveller": str(world.defender_person.pk),
        "trip_type": gates.PRI,
        "starts_on": starts_on.isoformat(),
        "returns_on": (starts_on + timedelta(days=14)).isoformat(),
        "purpose": PURPOSE,
        "destinations": [
            {
                "country": "pe",
                "region": "Madre de Dios",
                "places": "Puerto Arturo-Secreto",
                "advisory": gates.YELLOW,
                "advisory_reviewed_on": (starts_on - timedelta(days=7)).isoformat(),
                "advisory_source": "um.dk",
            }
        ],
    }
    body.update(overrides)
    return body


def sealed_values_in(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


# The list


def test_it_lists_the_deployments_with_their_gate_counts(world, api_client):
    ready = ready_deployment(world)
    draft = new_deployment(world)
    response = api_client(world.coordinator).get(URL, {"organisation": world.org_a.slug})
    assert response.status_code == 200, response.content
    page = response.json()
    assert page["count"] == 2
    rows = {item["id"]: item for item in page["items"]}
    complete = rows[str(ready.deployment.pk)]
    assert complete["gates"] == {"passing": len(gates.GATES), "failing": 0, "excepted": 0}
    assert complete["status"] == DeploymentStatus.DRAFT
    assert complete["traveller"] == {
        "id": str(world.defender_person.pk),
        "name": world.defender_person.display_name,
    }
    assert complete["destinations"][0]["country"] == "PE"
    assert complete["destinations"][0]["advisory"] == gates.YELLOW
    assert complete["next_checkin_due"] is None
    bare = rows[str(draft.pk)]["gates"]
    assert bare["failing"] > 0
    assert bare["passing"] + bare["failing"] + bare["excepted"] == len(gates.GATES)
    assert not sealed_values_in(response.content.decode())


def test_it_filters_by_status_and_pages(world, api_client):
    ready = ready_deployment(world)
    draft = new_deployment(world)
    actions.set_status(world.coordinator.user, ready.deployment, DeploymentStatus.AWAITING_APPROVAL)
    client = api_client(world.coordinator)
    org = world.org_a.slug
    assert ids(client.get(URL, {"organisation": org, "status": "awaiting_approval"})) == {
        str(ready.deployment.pk)
    }
    assert ids(client.get(URL, {"organisation": org, "status": "draft"})) == {str(draft.pk)}
    first = client.get(URL, {"organisation": org, "limit": 1}).json()
    second = client.get(URL, {"organisation": org, "limit": 1, "offset": 1}).json()
    assert first["count"] == second["count"] == 2
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {
        str(ready.deployment.pk),
        str(draft.pk),
    }
    refused = client.get(URL, {"organisation": org, "status": "lost"})
    assert refused.status_code == 422
    assert "status" in refused.json()["detail"]


def test_it_gives_no_gate_counts_for_a_closed_trip(world, api_client):
    draft = new_deployment(world)
    actions.set_status(world.coordinator.user, draft, DeploymentStatus.CANCELLED)
    response = api_client(world.coordinator).get(URL, {"organisation": world.org_a.slug})
    (row,) = response.json()["items"]
    assert row["status"] == DeploymentStatus.CANCELLED
    assert row["gates"] is None


def test_it_shows_the_next_expected_checkin(world, api_client):
    before = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    start = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    active = Deployment.objects.create(
        organisation=world.org_a,
        traveller=world.defender_person,
        trip_type=gates.OTHER,
        starts_on=start.date(),
        returns_on=start.date() + timedelta(days=9),
        status=DeploymentStatus.ACTIVE,
    )
    with time_machine.travel(before, tick=False):
        checkins.add_leg(
            world.coordinator.user,
            active,
            country="PE",
            time_zone="America/Lima",
            starts_at=start,
            ends_at=start + timedelta(days=3),
        )
        response = api_client(world.coordinator).get(URL, {"organisation": world.org_a.slug})
        (row,) = response.json()["items"]
        detail = api_client(world.defender).get(detail_url(active)).json()
    assert datetime.fromisoformat(row["next_checkin_due"]) == start
    assert datetime.fromisoformat(detail["next_checkin_due"]) == start


def test_a_traveller_sees_only_their_own_deployments(world, api_client):
    own = new_deployment(world)
    other_user = people_actions.create_user("test", email="other@a.example", password="x" * 20)
    people_actions.add_membership("test", world.org_a, other_user, Role.DEFENDER)
    other_person = people_actions.create_person(
        "test", world.org_a, given_names="Julio", family_names="Cusi", user=other_user
    )
    theirs = new_deployment(world, traveller=other_person)
    client = api_client(world.defender)
    assert ids(client.get(URL, {"organisation": world.org_a.slug})) == {str(own.pk)}
    assert client.get(detail_url(own)).status_code == 200
    assert client.get(detail_url(own, "/gates")).status_code == 200
    for tail in ("", "/gates", "/checkins"):
        assert client.get(detail_url(theirs, tail)).status_code == 404, tail


def test_managers_and_signatories_see_every_deployment_and_others_none(world, api_client):
    ready = ready_deployment(world)
    draft = new_deployment(world)
    both = {str(ready.deployment.pk), str(draft.pk)}
    org = {"organisation": world.org_a.slug}
    for persona in (world.coordinator, ready.director, ready.finance):
        assert ids(api_client(persona).get(URL, org)) == both
    # A focal point and a supervisor are neither managers, signatories nor travellers.
    for persona in (world.focal_point, world.supervisor):
        assert ids(api_client(persona).get(URL, org)) == set()
        assert api_client(persona).get(detail_url(draft)).status_code == 404


# Create


def test_a_coordinator_creates_a_deployment(world, api_client):
    lead = people_actions.create_person(
        "test", world.org_a, given_names="Elsa", family_names="Ríos"
    )
    response = post(api_client(world.coordinator), URL, creation_body(world, lead=str(lead.pk)))
    assert response.status_code == 201, response.content
    body = response.json()
    deployment = Deployment.objects.get(pk=body["id"])
    assert deployment.purpose == PURPOSE
    assert deployment.destinations.get().places == "Puerto Arturo-Secreto"
    assert deployment.lead == lead
    assert body["status"] == DeploymentStatus.DRAFT
    assert body["trip_type"] == gates.PRI
    assert body["lead"] == {"id": str(lead.pk), "name": "Elsa Ríos"}
    assert body["destinations"][0]["country"] == "PE"
    assert body["declaration"] is None
    assert body["gates"]["failing"] > 0
    # Stored sealed, never sent back.
    assert not sealed_values_in(response.content.decode())
    entry = AuditEntry.objects.get(action="deployment.created", object_id=str(deployment.pk))
    assert entry.actor == f"user:{world.coordinator.user.pk}"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"trip_type": "holiday"}, "trip_type"),
        ({"returns_on": "2020-01-01"}, "returns_on"),
        ({"destinations": [{"country": "PE", "advisory": "purple"}]}, "advisory"),
    ],
)
def test_it_refuses_what_the_action_refuses(world, api_client, overrides, field):
    response = post(api_client(world.coordinator), URL, creation_body(world, **overrides))
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]
    assert not Deployment.objects.exists()


def test_it_refuses_a_traveller_of_another_organisation(world, api_client):
    stranger = people_actions.create_person("test", world.org_b, given_names="Ana")
    client = api_client(world.coordinator)
    response = post(client, URL, creation_body(world, traveller=str(stranger.pk)))
    assert response.status_code == 422
    assert "traveller" in response.json()["detail"]
    response = post(client, URL, creation_body(world, lead=str(stranger.pk)))
    assert response.status_code == 422
    assert "lead" in response.json()["detail"]
    assert not Deployment.objects.exists()


@pytest.mark.parametrize("who", ["defender", "focal_point", "supervisor", "coordinator_b"])
def test_only_a_manager_of_the_organisation_creates(world, api_client, who):
    response = post(api_client(getattr(world, who)), URL, creation_body(world))
    assert response.status_code == 404
    assert not Deployment.objects.exists()


# Detail and gates


def test_it_shows_a_deployment_without_its_sealed_records(world, api_client):
    ready = ready_deployment(world)
    d = ready.deployment
    for persona in (world.coordinator, world.defender, ready.director):
        client = api_client(persona)
        response = client.get(detail_url(d))
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["starts_on"] == d.starts_on.isoformat()
        assert body["returns_on"] == d.returns_on.isoformat()
        assert body["trip_type"] == gates.PRI
        assert body["destinations"] == [
            {
                "country": "PE",
                "region": "Región Tahuamanu-Visible",
                "advisory": gates.YELLOW,
                "advisory_reviewed_on": (d.starts_on - timedelta(days=7)).isoformat(),
                "advisory_source": "um.dk",
            }
        ]
        assert body["declaration"] == {
            "signed": True,
            "signed_by": ready.director.user.email,
            "signed_as": gates.EXECUTIVE_DIRECTOR,
            "signed_at": body["declaration"]["signed_at"],
        }
        assert "purpose" not in body
        for tail in ("", "/gates"):
            text = client.get(detail_url(d, tail)).content.decode()
            assert not sealed_values_in(text), tail


def test_it_reports_every_gate(world, api_client):
    d = ready_deployment(world, skip=frozenset({"insurance"})).deployment
    response = api_client(world.defender).get(detail_url(d, "/gates"))
    assert response.status_code == 200, response.content
    report = response.json()
    assert [gate["key"] for gate in report] == list(gates.GATES)
    by_key = {gate["key"]: gate for gate in report}
    insurance = by_key["insurance"]
    assert insurance["passes"] is False
    assert insurance["reasons"]
    assert insurance["exception"] is None
    assert insurance["label"] == in_language_of(world.defender, gates.TITLES["insurance"])
    assert all(gate["passes"] for key, gate in by_key.items() if key != "insurance")


# Status


def test_a_manager_moves_a_complete_deployment_on(world, api_client):
    d = ready_deployment(world).deployment
    client = api_client(world.coordinator)
    for status in (DeploymentStatus.AWAITING_APPROVAL, DeploymentStatus.READY):
        response = post(client, detail_url(d, "/status"), {"status": status})
        assert response.status_code == 200, response.content
        assert response.json()["status"] == status
    assert Deployment.objects.get(pk=d.pk).status == DeploymentStatus.READY
    entries = AuditEntry.objects.filter(action="deployment.status", object_id=str(d.pk))
    assert [e.details["to"] for e in entries.order_by("seq")] == ["awaiting_approval", "ready"]


def test_a_failing_gate_blocks_ready_with_422_naming_it(world, api_client):
    d = ready_deployment(world, skip=frozenset({"insurance"})).deployment
    actions.set_status(world.coordinator.user, d, DeploymentStatus.AWAITING_APPROVAL)
    response = post(api_client(world.coordinator), detail_url(d, "/status"), {"status": "ready"})
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["failing_gates"] == ["insurance"]
    title = in_language_of(world.coordinator, gates.TITLES["insurance"])
    assert title in " ".join(body["detail"]["status"])
    assert Deployment.objects.get(pk=d.pk).status == DeploymentStatus.AWAITING_APPROVAL


def test_an_impossible_transition_is_422(world, api_client):
    d = new_deployment(world)
    client = api_client(world.coordinator)
    response = post(client, detail_url(d, "/status"), {"status": "returned"})
    assert response.status_code == 422
    assert response.json()["failing_gates"] == []
    assert post(client, detail_url(d, "/status"), {"status": "lost"}).status_code == 422
    assert Deployment.objects.get(pk=d.pk).status == DeploymentStatus.DRAFT


def test_only_a_manager_changes_the_status(world, api_client):
    ready = ready_deployment(world)
    d = ready.deployment
    for persona in (world.defender, ready.director, world.focal_point):
        response = post(api_client(persona), detail_url(d, "/status"), {"status": "cancelled"})
        assert response.status_code == 404
    assert Deployment.objects.get(pk=d.pk).status == DeploymentStatus.DRAFT


# Exceptions


def test_a_signatory_lets_a_failing_gate_through(world, api_client):
    ready = ready_deployment(world, skip=frozenset({"insurance"}))
    d = ready.deployment
    response = post(
        api_client(ready.director),
        detail_url(d, "/exceptions"),
        {"gate": "insurance", "reason": EXCEPTION_REASON},
    )
    assert response.status_code == 200, response.content
    gate = response.json()
    assert gate["key"] == "insurance"
    assert gate["passes"] is False
    assert gate["exception"]["reason"] == EXCEPTION_REASON
    assert gate["exception"]["granted_by"] == ready.director.user.email
    assert gate["exception"]["granted_as"] == gates.EXECUTIVE_DIRECTOR
    assert gate["exception"]["granted_at"]
    counts = api_client(world.coordinator).get(detail_url(d)).json()["gates"]
    assert counts == {"passing": len(gates.GATES) - 1, "failing": 0, "excepted": 1}
    # Now the trip may be marked ready.
    client = api_client(world.coordinator)
    for status in ("awaiting_approval", "ready"):
        assert post(client, detail_url(d, "/status"), {"status": status}).status_code == 200
    assert AuditEntry.objects.filter(
        action="deployment.gate_exception", object_id=str(d.pk)
    ).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gate": "insurance", "reason": "short"}, "reason"),
        ({"gate": "luck", "reason": EXCEPTION_REASON}, "gate"),
    ],
)
def test_an_exception_needs_a_known_gate_and_a_reason(world, api_client, body, field):
    ready = ready_deployment(world, skip=frozenset({"insurance"}))
    response = post(api_client(ready.director), detail_url(ready.deployment, "/exceptions"), body)
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert not GateException.objects.exists()


def test_only_a_signatory_grants_an_exception(world, api_client):
    ready = ready_deployment(world, skip=frozenset({"insurance"}))
    body = {"gate": "insurance", "reason": EXCEPTION_REASON}
    for persona in (world.coordinator, world.defender, world.focal_point):
        response = post(api_client(persona), detail_url(ready.deployment, "/exceptions"), body)
        assert response.status_code == 404
    assert not GateException.objects.exists()


# Signature


def test_the_right_signatory_signs_the_declaration(world, api_client):
    ready = ready_deployment(world, skip=frozenset({"sign"}))
    response = post(api_client(ready.director), detail_url(ready.deployment, "/sign"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["signed"] is True
    assert body["signed_by"] == ready.director.user.email
    assert body["signed_as"] == gates.EXECUTIVE_DIRECTOR
    assert body["signed_at"]
    assert actions.blocking(ready.deployment) == []


def test_the_wrong_signatory_is_refused(world, api_client):
    # A PRI-related trip is signed by the Executive Director, not the Head of Finance.
    ready = ready_deployment(world, skip=frozenset({"sign"}))
    response = post(api_client(ready.finance), detail_url(ready.deployment, "/sign"))
    assert response.status_code == 422
    assert response.json()["detail"]["__all__"]
    assert TravelDeclaration.objects.get(deployment=ready.deployment).signed_at is None


def test_signing_needs_a_declaration(world, api_client):
    ready = ready_deployment(world, skip=frozenset({"declaration"}))
    response = post(api_client(ready.director), detail_url(ready.deployment, "/sign"))
    assert response.status_code == 422
    assert not TravelDeclaration.objects.exists()


def test_only_a_signatory_signs(world, api_client):
    ready = ready_deployment(world, skip=frozenset({"sign"}))
    for persona in (world.coordinator, world.defender):
        response = post(api_client(persona), detail_url(ready.deployment, "/sign"))
        assert response.status_code == 404
    assert TravelDeclaration.objects.get(deployment=ready.deployment).signed_at is None


# Isolation: every route, from the OpenAPI schema


BODIES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("get", PREFIX): None,
    ("get", PREFIX + "/gates"): None,
    ("post", PREFIX + "/status"): {"status": "cancelled"},
    ("post", PREFIX + "/exceptions"): {"gate": "insurance", "reason": EXCEPTION_REASON},
    ("post", PREFIX + "/sign"): {},
    ("get", PREFIX + "/checkins"): None,
    ("post", PREFIX + "/checkins"): {"note": "llegué"},
}


def deployment_routes(client: Client) -> set[tuple[str, str]]:
    schema = client.get("/api/openapi.json").json()
    return {
        (method, path)
        for path, operations in schema["paths"].items()
        if path.startswith(PREFIX)
        for method in operations
    }


@pytest.fixture
def director_b(world: World) -> Persona:
    """A signatory of organisation B, who signs B's trips and must not reach A's."""
    director = make_persona(world.org_b, Role.SIGNATORY, "director@b.example")
    TravelSettings.objects.create(
        organisation=world.org_b, executive_director=director.user, head_of_finance=director.user
    )
    return director


def active_ready(world: World) -> Ready:
    ready = ready_deployment(world, skip=frozenset({"sign"}))
    director = ready.director.user
    actions.sign_declaration(director, ready.deployment)
    for status in ("awaiting_approval", "ready", "active"):
        actions.set_status(director, ready.deployment, status)
    # Leave one gate failing, so an exception would have something to let through.
    actions.save_next_of_kin(world.coordinator.user, ready.deployment, [])
    return ready


@pytest.mark.parametrize("who", ["coordinator_b", "director_b"])
def test_it_validates_ownership_on_every_route(client, world, api_client, director_b, who):
    ready = active_ready(world)
    d = ready.deployment
    routes = deployment_routes(client)
    assert routes == set(BODIES), "a new deployment route needs its access test here"
    outsider = world.coordinator_b if who == "coordinator_b" else director_b
    b = api_client(outsider)
    audit_before = AuditEntry.objects.filter(object_id=str(d.pk)).count()
    for method, path in sorted(routes):
        url = path.replace("{deployment_id}", str(d.pk))
        body = BODIES[(method, path)]
        response = b.get(url) if method == "get" else post(b, url, body)
        assert response.status_code == 404, (method, path, response.content)
    # The list and the creation with A's slug.
    assert b.get(URL, {"organisation": world.org_a.slug}).status_code == 404
    assert post(b, URL, creation_body(world)).status_code == 404
    # B's own list does not hold it either.
    assert b.get(URL, {"organisation": world.org_b.slug}).json()["items"] == []
    # Nothing changed.
    assert Deployment.objects.get(pk=d.pk).status == DeploymentStatus.ACTIVE
    assert not GateException.objects.exists()
    assert not CheckIn.objects.exists()
    assert AuditEntry.objects.filter(object_id=str(d.pk)).count() == audit_before
    assert Deployment.objects.count() == 1


def test_a_missing_deployment_is_404_on_every_route(client, world, api_client):
    routes = deployment_routes(client)
    c = api_client(world.coordinator)
    missing = "00000000-0000-4000-8000-000000000000"
    for method, path in sorted(routes):
        url = path.replace("{deployment_id}", missing)
        response = c.get(url) if method == "get" else post(c, url, BODIES[(method, path)])
        assert response.status_code == 404, (method, path)


def test_it_needs_a_token(client, world):
    d = new_deployment(world)
    assert client.get(URL, {"organisation": world.org_a.slug}).status_code == 401
    assert client.get(detail_url(d)).status_code == 401
    assert post(client, detail_url(d, "/status"), {"status": "cancelled"}).status_code == 401


def test_the_endpoints_are_in_openapi(client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    assert set(paths[URL]) == {"get", "post"}
    assert set(paths[PREFIX]) == {"get"}
    assert set(paths[PREFIX + "/gates"]) == {"get"}
    for tail in ("/status", "/exceptions", "/sign"):
        assert set(paths[PREFIX + tail]) == {"post"}
    assert set(paths[PREFIX + "/checkins"]) == {"get", "post"}
    components = schema["components"]["schemas"]
    for name in (
        "DeploymentOut",
        "DeploymentPageOut",
        "GateOut",
        "DeploymentIn",
        "DeploymentStatusError",
    ):
        assert name in components, name
    # The status body is this router's own schema, not a namesake of another app's.
    status_body = paths[PREFIX + "/status"]["post"]["requestBody"]["content"]
    ref = status_body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    described = components[ref]["properties"]["status"]["description"]
    assert set(described.split(", ")) == set(DeploymentStatus.values)
    # No sealed field is described as output.
    assert "purpose" not in components["DeploymentOut"]["properties"]
    assert "places" not in components["DestinationOut"]["properties"]
