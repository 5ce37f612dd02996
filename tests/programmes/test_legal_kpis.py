"""Legal KPIs on a fixture with known answers (reference, Strategy 5, line 5 KPIs:
"number of sanctions applied; decrease in unresolved cases"; Strategy 1, line 1:
"number of effective complaints filed")."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from amparo.programmes import kpis, legal

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(world):
    opened = []
    for month in (1, 2, 3, 4):
        with time_machine.travel(datetime(2025, month, 5, tzinfo=ZoneInfo("UTC")), tick=False):
            opened.append(
                legal.open_legal_case(
                    world.coordinator.user, world.org_a, matter="threat", summary="Caso"
                )
            )
    with time_machine.travel(datetime(2025, 5, 20, tzinfo=ZoneInfo("UTC")), tick=False):
        for case, filed in zip(
            opened[:3], (date(2025, 1, 10), date(2025, 2, 10), date(2025, 3, 10)), strict=True
        ):
            complaint = legal.file_complaint(
                world.coordinator.user, case, body="prosecutor", filed_on=filed
            )
            if case is opened[0]:
                legal.update_complaint(
                    world.coordinator.user,
                    complaint,
                    status="decided",
                    status_on=date(2025, 5, 1),
                    outcome="sanction",
                    sanctions=2,
                )
        legal.file_complaint(
            world.coordinator.user, opened[0], body="police", filed_on=date(2025, 1, 6)
        )
        # January's case resolved, February's closed without resolution, two open.
        legal.close_legal_case(world.coordinator.user, opened[0], resolved=True)
        legal.close_legal_case(world.coordinator.user, opened[1], resolved=False)
    return opened


def test_share_of_unresolved_cases(world, cases):
    assert kpis.share_of_unresolved_legal_cases(world.org_a) == pytest.approx(3 / 4)
    january = (date(2025, 1, 1), date(2025, 1, 31))
    assert kpis.share_of_unresolved_legal_cases(world.org_a, *january) == 0
    february = (date(2025, 2, 1), date(2025, 2, 28))
    assert kpis.share_of_unresolved_legal_cases(world.org_a, *february) == 1


def test_complaints_filed(world, cases):
    assert kpis.complaints_filed(world.org_a) == 4
    assert kpis.complaints_filed(world.org_a, date(2025, 1, 1), date(2025, 1, 31)) == 2
    assert kpis.complaints_filed(world.org_b) == 0


def test_sanctions_applied(world, cases):
    assert kpis.sanctions_applied(world.org_a) == 2
    assert kpis.sanctions_applied(world.org_a, date(2025, 6, 1), None) == 0


def test_no_cases_is_none(world):
    assert kpis.share_of_unresolved_legal_cases(world.org_a) is None
