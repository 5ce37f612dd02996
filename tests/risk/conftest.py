"""The risk tests read the pages in English, and share one assessed subject: Rosa (the
defender of organisation A), with a threat linked to a threat report, and a community."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone, translation

from amparo.incidents import actions as incident_actions
from amparo.incidents.models import ThreatReport
from amparo.people import actions as people_actions
from amparo.risk import actions
from amparo.risk.models import RiskAssessment, RiskSubject
from tests.people.wording import set_language

THREAT_TEXT = "Mineros de Huepetuhe-Secreto amenazaron quemar la casa"
VULNERABILITY_TEXT = "Vive sola junto a la trocha Yupanqui-Oculta"
CAPACITY_TEXT = "Red de radio comunitaria Pariamanu-Reservada"
SCENARIO_TEXT = "Si la draga vuelve, atacarán el puesto Tambopata-Escondido"
ACTION_TEXT = "Mudar a Rosa a la casa Malinowski-Privada"
COMMUNITY_TEXT = "Comunidad Nativa Shipetiari-Sellada"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def evidence_dir(settings: Any, tmp_path: Any) -> None:
    settings.EVIDENCE_DIR = tmp_path


def report_for(world: Any, org: Any = None) -> ThreatReport:
    org = org or world.org_a
    return incident_actions.report_threat(
        "test",
        org,
        {"verbatim": "amenaza", "region": "Madre de Dios", "channel": "phone_call"},
        source="web",
    ).report


def assess(world: Any, subject: RiskSubject, **overrides: Any) -> RiskAssessment:
    owner = people_actions.create_person("test", world.org_a, given_names="Oscar")
    kwargs: dict[str, Any] = {
        "assessed_on": timezone.now().date(),
        "likelihood": 4,
        "impact": 5,
        "scenarios": SCENARIO_TEXT,
        "threats": [
            actions.ThreatInput(
                actor_type="illegal_mining",
                description=THREAT_TEXT,
                rating=4,
                recurring=True,
                endangers=["life"],
                incident=report_for(world),
            )
        ],
        "vulnerabilities": [actions.FactorInput(VULNERABILITY_TEXT, 4)],
        "capacities": [actions.FactorInput(CAPACITY_TEXT, 2)],
        "mitigation": [actions.ActionInput(ACTION_TEXT, owner, timezone.now().date())],
    }
    kwargs.update(overrides)
    return actions.record_assessment("test", subject, **kwargs)


@pytest.fixture
def subject(world: Any) -> RiskSubject:
    return actions.create_subject("test", world.org_a, kind="person", person=world.defender_person)


@pytest.fixture
def assessment(world: Any, subject: RiskSubject) -> RiskAssessment:
    return assess(world, subject)


@pytest.fixture
def community(world: Any) -> RiskSubject:
    return actions.create_subject(
        "test", world.org_a, kind="community", community_name=COMMUNITY_TEXT, region="Pando"
    )


@pytest.fixture
def login(login: Any) -> Any:
    """Pages in English, as the assertions read them."""

    def _login(persona: Any, c: Any = None) -> Any:
        set_language(persona, "en")
        return login(persona, c)

    return _login
