"""Personas made once per test (CONVENTIONS.md point 8): a defender, a focal point, a
security coordinator of organisation A, a coordinator of organisation B who must see
nothing of A, and an anonymous visitor. Staff personas are MFA-verified when they log in
through ``login``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from amparo.people import actions
from amparo.people.models import Organisation, Person, Role, User

PASSWORD = "correct horse battery staple"  # noqa: S105 - test-only


@dataclass
class Persona:
    user: User
    organisation: Organisation
    role: str
    device: TOTPDevice | None


@dataclass
class World:
    org_a: Organisation
    org_b: Organisation
    defender: Persona
    focal_point: Persona
    coordinator: Persona
    coordinator_b: Persona
    supervisor: Persona
    defender_person: Person


def make_persona(organisation: Organisation, role: str, email: str) -> Persona:
    user = actions.create_user("test", email=email, password=PASSWORD)
    actions.add_membership("test", organisation, user, role)
    device = None
    if role != Role.DEFENDER:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return Persona(user=user, organisation=organisation, role=role, device=device)


@pytest.fixture(autouse=True)
def token_uses_forgotten() -> Any:
    """Token uses noted in memory (amparo.people.token_use) belong to the test that made
    them: its database is gone when the next test runs."""
    yield
    from amparo.people import token_use

    token_use.discard()


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest) -> Any:
    """Argon2 (the production hasher) costs about half a second per password on this
    machine; the personas and every login hash one. Tests marked ``argon2`` keep it."""
    if request.node.get_closest_marker("argon2"):
        yield
        return
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def world(db: Any) -> World:
    org_a = actions.create_organisation(
        "test",
        name="Federación A",
        slug="org-a",
        kind="indigenous_federation",
        country="PE",
        region="Madre de Dios",
    )
    org_b = actions.create_organisation(
        "test",
        name="Comunidad B",
        slug="org-b",
        kind="community",
        country="BO",
        region="Pando",
    )
    defender = make_persona(org_a, Role.DEFENDER, "defender@a.example")
    defender_person = actions.create_person(
        "test",
        org_a,
        given_names="Rosa",
        family_names="Huamán",
        user=defender.user,
        phone_numbers=["+51 982 111 222"],
    )
    return World(
        org_a=org_a,
        org_b=org_b,
        defender=defender,
        focal_point=make_persona(org_a, Role.FOCAL_POINT, "focal@a.example"),
        coordinator=make_persona(org_a, Role.COORDINATOR, "coordinator@a.example"),
        coordinator_b=make_persona(org_b, Role.COORDINATOR, "coordinator@b.example"),
        supervisor=make_persona(org_a, Role.SUPERVISOR, "supervisor@a.example"),
        defender_person=defender_person,
    )


def totp_now(device: TOTPDevice) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def login(client: Client) -> Callable[[Persona], Client]:
    """Sign a persona in through the real login and MFA pages."""

    def _login(persona: Persona, c: Client | None = None) -> Client:
        c = c or Client()
        response = c.post(
            "/accounts/login/", {"username": persona.user.email, "password": PASSWORD}
        )
        assert response.status_code == 302, response.content[:500]
        if persona.device is not None:
            # TOTP refuses a code twice in one time step; a test may log a persona in twice.
            TOTPDevice.objects.filter(pk=persona.device.pk).update(
                last_t=-1, throttling_failure_count=0
            )
            persona.device.refresh_from_db()
            response = c.post("/accounts/mfa/verify/", {"token": totp_now(persona.device)})
            assert response.status_code == 302, response.content[:500]
        return c

    return _login


@pytest.fixture
def api_client() -> Callable[[Persona], Client]:
    """A client that sends a fresh bearer token of the persona on every request."""

    def _client(persona: Persona) -> Client:
        _token, secret = actions.create_api_token("test", persona.user, "test")
        return Client(headers={"Authorization": f"Bearer {secret}"})

    return _client


def supervise(world: World) -> Person:
    """Make the world's supervisor the supervisor of Rosa, the defender: a supervisor reads
    the reports about the staff they supervise (DESIGN.md section 1), and only those."""
    marco = actions.create_person(
        "test",
        world.org_a,
        given_names="Marco",
        family_names="Quispe",
        user=world.supervisor.user,
    )
    Person.objects.filter(pk=world.defender_person.pk).update(supervisor=marco)
    world.defender_person.refresh_from_db()
    return marco
