from __future__ import annotations

from typing import Any

import pytest

from amparo.alerts import actions as alert_actions
from amparo.crisis import actions
from amparo.crisis.models import CrisisCase, CrisisKind
from amparo.people import actions as people_actions


@pytest.fixture
def alert(world: Any) -> Any:
    return alert_actions.raise_alert(
        world.defender.user,
        world.org_a,
        kind="panic",
        severity="high",
        message="Me llevan en una camioneta",
        person=world.defender_person,
    )


@pytest.fixture
def case(world: Any, alert: Any) -> CrisisCase:
    return actions.open_crisis(
        world.coordinator.user, world.org_a, CrisisKind.KIDNAPPING, alert=alert
    )


@pytest.fixture
def partners(world: Any) -> list[Any]:
    return [
        people_actions.create_directory_entry(
            "test",
            world.org_a,
            category="international_network",
            region="Global",
            name="Front Line Defenders",
            email="urgent@fld.example",
        ),
        people_actions.create_directory_entry(
            "test",
            world.org_a,
            category="embassy",
            region="Lima",
            name="Embajada de Dinamarca",
            phone="+51 1 555 0100",
        ),
    ]
