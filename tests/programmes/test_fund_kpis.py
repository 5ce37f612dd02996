"""Fund KPIs on a fixture with known answers (reference, Strategy 2, line 5 KPIs:
"Number of defenders assisted; response time for fund disbursement; satisfaction level
of beneficiaries")."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from amparo.people.models import Role
from amparo.programmes import fund, kpis
from conftest import make_persona

pytestmark = pytest.mark.django_db
START = datetime(2025, 4, 1, 12, 0, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
def history(world):
    approvers = (
        make_persona(world.org_a, Role.ADMIN, "admin@a.example").user,
        make_persona(world.org_a, Role.COORDINATOR, "coordinator2@a.example").user,
    )
    # Disbursed 6, 12 and 48 hours after the request; satisfaction 5, 3 and none.
    for day, hours, score, beneficiary in (
        (0, 6, 5, world.defender_person),
        (1, 12, 3, world.defender_person),
        (2, 48, None, None),
    ):
        asked = START + timedelta(days=day)
        with time_machine.travel(asked, tick=False):
            request = fund.request_funds(
                world.coordinator.user,
                world.org_a,
                category="medical",
                amount="80",
                currency="PEN",
                justification="Atención médica urgente",
                beneficiary=beneficiary,
                beneficiary_name="" if beneficiary else "Sin registro",
            )
            for approver in approvers:
                fund.approve_fund_request(approver, request)
        with time_machine.travel(asked + timedelta(hours=hours), tick=False):
            fund.disburse_fund_request(approvers[0], request)
            if score is not None:
                fund.record_satisfaction(approvers[0], request, score)
    # Awaiting approval: not counted anywhere.
    fund.request_funds(
        world.coordinator.user,
        world.org_a,
        category="legal",
        amount="500",
        currency="PEN",
        justification="Abogado",
        beneficiary=world.defender_person,
    )


def test_time_to_disbursement(world, history):
    assert kpis.mean_hours_to_disbursement(world.org_a) == pytest.approx(22)
    assert kpis.median_hours_to_disbursement(world.org_a) == pytest.approx(12)
    first_day = (date(2025, 4, 1), date(2025, 4, 1))
    assert kpis.mean_hours_to_disbursement(world.org_a, *first_day) == pytest.approx(6)


def test_beneficiary_satisfaction(world, history):
    assert kpis.beneficiary_satisfaction(world.org_a) == pytest.approx(4)


def test_defenders_assisted(world, history):
    # One person twice, and one beneficiary without a record.
    assert kpis.defenders_assisted_by_fund(world.org_a) == 2


def test_nothing_in_the_period_is_none(world, history):
    period = (date(2024, 1, 1), date(2024, 12, 31))
    assert kpis.mean_hours_to_disbursement(world.org_a, *period) is None
    assert kpis.median_hours_to_disbursement(world.org_a, *period) is None
    assert kpis.beneficiary_satisfaction(world.org_a, *period) is None
    assert kpis.mean_hours_to_disbursement(world.org_b) is None
