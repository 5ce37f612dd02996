"""Shared records of the relocation tests: a person at risk in organisation A, a safe
house of A, an administrator of A and, where a test needs one, a second coordinator (the
four-eyes rule of protocols.relocation)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from django.utils import translation

from amparo.people import actions as people_actions
from amparo.people.models import Role
from amparo.protocols import relocation
from conftest import make_persona
from tests.people.wording import set_language

# Sealed values: no page but the coordinator's, no API answer, no dump may show them.
REASON = "Amenaza de muerte del aserradero Lucerna-Oculto tras la denuncia"
ADDRESS = "Pasaje Quillabamba-Escondido 317, segundo piso"
SAFE_HOUSE_NAME = "Casa Refugio Tambopata-Sigilo"
SAFE_HOUSE_ADDRESS = "Jr. Manco Cápac-Reservado 742"
DECISION = "Aprobado: la denuncia fiscal Huarmey-Reservada lo confirma"
COST_NOTE = "Taxi nocturno desde Laberinto-Confidencial"
CLOSING = "Regresó tras la medida cautelar Inambari-Confidencial"
COUNTRY = "BR"
LAT, LON = -12.35791, -69.24680
# The person's name: only the coordinator's pages show it next to a relocation.
GIVEN, FAMILY = "Eulalia", "Chambi-Oculta"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def admin_a(world):
    return make_persona(world.org_a, Role.ADMIN, "admin@a.example")


@pytest.fixture
def person(world):
    return people_actions.create_person("test", world.org_a, given_names=GIVEN, family_names=FAMILY)


@pytest.fixture
def safe_house(world):
    return people_actions.create_safe_house(
        "test",
        world.org_a,
        region="Madre de Dios",
        name=SAFE_HOUSE_NAME,
        address=SAFE_HOUSE_ADDRESS,
        location={"lat": LAT, "lon": LON},
    )


@pytest.fixture
def requested(world, person):
    """A request by A's coordinator, who is the only coordinator of A."""
    return relocation.request_relocation(
        world.coordinator.user,
        person,
        reason=REASON,
        risk_level="imminent",
        cross_border=True,
        destination_country=COUNTRY,
    )


@pytest.fixture
def relocated(world, requested, safe_house):
    """Requested, approved (self-approved: A has one coordinator) and moved."""
    relocation.decide_relocation(world.coordinator.user, requested, approve=True, note=DECISION)
    requested.refresh_from_db()
    relocation.relocate(
        world.coordinator.user,
        requested,
        starts_on=date(2025, 3, 10),
        safe_house=safe_house,
        destination_address=ADDRESS,
        destination_location={"lat": LAT, "lon": LON},
    )
    requested.refresh_from_db()
    relocation.record_cost(
        world.coordinator.user,
        requested,
        category="transport",
        amount="150.50",
        currency="PEN",
        incurred_on=date(2025, 3, 10),
        note=COST_NOTE,
        fund_reference="EF-2025-03",
    )
    return requested


@pytest.fixture
def login(login):
    """The pages in English, as the assertions read them."""

    def _login(persona, c=None):
        set_language(persona, "en")
        return login(persona, c)

    return _login
