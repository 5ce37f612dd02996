"""The demo's closed crisis: its review's lessons are on the protocols page; building
twice makes one case."""

from __future__ import annotations

from amparo.crisis.demo import build_closed_case
from amparo.crisis.models import CaseState, CrisisCase


def test_it_builds_one_closed_case_with_a_lesson(world, login):
    case = build_closed_case(world.org_a)
    assert case is not None
    assert build_closed_case(world.org_a) is None
    assert CrisisCase.objects.get().state == CaseState.CLOSED
    page = login(world.defender).get("/o/org-a/protocols/").content.decode()
    assert "dos contactos de la Defensoría" in page
