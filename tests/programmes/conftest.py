"""Personas and records of the psychosocial referral tests: a psychologist of
organisation A assigned to the referral, another psychologist of A who is not, two
mental-health professionals in A's directory, and a referral of the defender."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.utils import translation

from amparo.people import actions as people_actions
from amparo.people.models import DirectoryEntry, Role
from amparo.programmes import actions
from amparo.programmes.models import PsychosocialReferral
from conftest import Persona, World, make_persona
from tests.people.wording import set_language

REASON = "Pesadillas tras la amenaza de muerte del campamento Huepetuhe-Secreto"
HEALING = "Ceremonia de ayahuasca con el sabio Shipibo-Reservado"
NOTES = "Trastorno de estrés postraumático, insomnio, culpa-Confidencial"
PROFESSIONAL = "Psicóloga Marleny Quispe-Directorio"


@dataclass
class Care:
    psychologist: Persona
    other_psychologist: Persona
    trauma: DirectoryEntry
    kidnapping: DirectoryEntry
    referral: PsychosocialReferral


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages read in English, as the assertions are written (the catalogues translate
    them)."""
    with translation.override("en"):
        yield


@pytest.fixture
def login(login: Any) -> Any:
    """The pages in English, as the assertions read them."""

    def _login(persona: Persona, c: Any = None) -> Any:
        set_language(persona, "en")
        return login(persona, c)

    return _login


def make_professional(world: World, name: str, specialties: list[str]) -> DirectoryEntry:
    return people_actions.create_directory_entry(
        "test",
        world.org_a,
        category="mental_health",
        region="Madre de Dios",
        name=name,
        phone="+51 82 571 444",
        email="consulta@psico.example",
        specialties=specialties,
    )


@pytest.fixture
def care(world: World) -> Care:
    psychologist = make_persona(world.org_a, Role.PSYCHOLOGIST, "psicologa@a.example")
    other = make_persona(world.org_a, Role.PSYCHOLOGIST, "otro.psicologo@a.example")
    trauma = make_professional(world, PROFESSIONAL, ["trauma", "threats"])
    kidnapping = make_professional(world, "Centro Kidnap-Ayuda", ["kidnapping"])
    referral = actions.refer_person(
        world.coordinator.user,
        world.org_a,
        person=world.defender_person,
        professional=trauma,
        reason=REASON,
        consent=True,
        urgency="urgent",
        community_healing_practices=HEALING,
        psychologist=psychologist.user,
    )
    return Care(psychologist, other, trauma, kidnapping, referral)


def past(days: int = 1) -> date:
    from datetime import timedelta

    from django.utils import timezone

    return timezone.localdate() - timedelta(days=days)
