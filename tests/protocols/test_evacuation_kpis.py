"""The KPI helpers of protocols.kpis on a fixture with known answers (issue 8: "Computed
KPIs on a fixture with known answers ... average evacuation time in drills"). Every
helper takes (organisation, since, until) and answers a number or None."""

from __future__ import annotations

import inspect
from datetime import date

import pytest
import time_machine

from amparo.people import actions as people_actions
from amparo.protocols import community, kpis
from amparo.protocols.models import PlanStatus, ProtocolStatus
from tests.protocols.test_community_builder import make_protocol
from tests.protocols.test_evacuation_plans_and_drills import drill, make_plan

Q1 = (date(2025, 1, 1), date(2025, 3, 31))


@pytest.fixture
def records(world):
    """Org A: four drills in Q1 2025 and one after; two protocols made in Q1 and one in
    2024; two operational plans and a draft; 4 members, 2 trained. Org B: one of each,
    which must never count for A."""
    with time_machine.travel(date(2024, 11, 5), tick=False):
        old = make_protocol(world, co_creators=["women"])
    with time_machine.travel(date(2025, 1, 10), tick=False):
        women_youth = make_protocol(world, co_creators=["women", "youth"])
        leaders = make_protocol(world, co_creators=["indigenous_leaders"])
        make_plan(world)
        make_plan(world, status=PlanStatus.DRAFT)
        make_plan(world, status=PlanStatus.OPERATIONAL, name="Plan 2")
        make_protocol(world, organisation=world.org_b, co_creators=["women", "youth"])
        make_plan(world, organisation=world.org_b)
    community.set_protocol_status(
        world.coordinator.user, leaders, ProtocolStatus.ADOPTED, adopted_on=date(2025, 2, 1)
    )
    community.set_protocol_status(
        world.coordinator.user, old, ProtocolStatus.ADOPTED, adopted_on=date(2024, 12, 1)
    )
    # Members: the world's defender plus three; two trained (one of them twice).
    people = [world.defender_person] + [
        people_actions.create_person("test", world.org_a, given_names=f"P{i}") for i in range(3)
    ]
    for person, protocol, on in (
        (people[0], leaders, date(2025, 2, 2)),
        (people[0], women_youth, date(2025, 2, 3)),
        (people[1], leaders, date(2025, 3, 15)),
    ):
        community.record_protocol_training(world.coordinator.user, protocol, person, trained_on=on)
    # Drills: 20, 15, 10 minutes, and one untimed; 40 + 60 + 80 followed of 100 + 100 +
    # 100, and 0 of 100; errors 6, 4, 3, 1 in date order.
    drill(world, date(2025, 1, 5), 1200, followed=40, participants=100, errors=6, protocol=leaders)
    drill(world, date(2025, 2, 5), 900, followed=60, participants=100, errors=4)
    drill(world, date(2025, 3, 5), None, followed=0, participants=100, errors=3, protocol=leaders)
    drill(world, date(2025, 3, 25), 600, followed=80, participants=100, errors=1)
    drill(world, date(2025, 6, 1), 300, followed=100, participants=100, errors=0)
    drill(world, date(2025, 2, 1), 60, followed=1, participants=1, organisation=world.org_b)
    return {"leaders": leaders}


def test_every_helper_takes_organisation_since_until():
    helpers = [
        f
        for name, f in inspect.getmembers(kpis, inspect.isfunction)
        if f.__module__ == kpis.__name__ and not name.startswith("_")
    ]
    assert len(helpers) >= 15
    for helper in helpers:
        assert list(inspect.signature(helper).parameters) == ["organisation", "since", "until"]


def test_it_answers_the_drill_kpis(world, records):
    org = world.org_a
    assert kpis.drills_held(org, *Q1) == 4
    assert kpis.drills_held(org, None, None) == 5
    assert kpis.drills_testing_protocols(org, *Q1) == 2
    assert kpis.average_evacuation_minutes(org, *Q1) == 15.0
    assert kpis.evacuation_time_reduction_minutes(org, *Q1) == 10.0
    assert kpis.share_following_protocol(org, *Q1) == 45.0
    assert kpis.critical_errors_reduction(org, *Q1) == 5
    # One drill, or none: no trend and no average to give.
    only_one = (date(2025, 6, 1), date(2025, 6, 30))
    assert kpis.evacuation_time_reduction_minutes(org, *only_one) is None
    assert kpis.critical_errors_reduction(org, *only_one) is None
    empty = (date(2023, 1, 1), date(2023, 12, 31))
    assert kpis.average_evacuation_minutes(org, *empty) is None
    assert kpis.share_following_protocol(org, *empty) is None
    assert kpis.drills_held(org, *empty) == 0


def test_it_answers_the_protocol_kpis(world, records):
    org = world.org_a
    assert kpis.protocols_developed(org, *Q1) == 2
    assert kpis.protocols_developed(org, None, None) == 3
    assert kpis.protocols_adopted(org, *Q1) == 1
    assert kpis.protocols_adopted(org, None, None) == 2
    assert kpis.protocols_co_created_with_women(org, *Q1) == 1
    assert kpis.protocols_co_created_with_women(org, None, None) == 2
    assert kpis.protocols_co_created_with_youth(org, *Q1) == 1
    assert kpis.protocols_co_created_with_indigenous_leaders(org, *Q1) == 1
    # 2 of 4 members trained by the end of Q1; 1 of 4 by mid-February.
    assert kpis.share_members_trained(org, *Q1) == 50.0
    assert kpis.share_members_trained(org, None, date(2025, 2, 15)) == 25.0
    assert kpis.operational_evacuation_plans(org, *Q1) == 2
    assert kpis.operational_evacuation_plans(org, None, date(2024, 12, 31)) == 0


def test_it_never_counts_another_organisation(world, records):
    org = world.org_b
    assert kpis.drills_held(org, *Q1) == 1
    assert kpis.average_evacuation_minutes(org, *Q1) == 1.0
    assert kpis.protocols_developed(org, *Q1) == 1
    assert kpis.protocols_co_created_with_women(org, *Q1) == 1
    assert kpis.operational_evacuation_plans(org, *Q1) == 1
    assert kpis.share_members_trained(org, *Q1) is None  # B has no people
