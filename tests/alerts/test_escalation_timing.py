"""The escalation clock (DESIGN.md section 6): default policies from the reference, one
step per tier and repeat with an absolute due time fixed at raise time, steps that run
exactly when due, acknowledgement that stops what is left, and a policy snapshot that a
later edit never changes."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
import time_machine

from amparo.alerts import actions, clock
from amparo.alerts.models import (
    Alert,
    AlertState,
    AlertStep,
    EscalationPolicy,
    OutboxMessage,
    OutboxState,
    StepState,
)
from amparo.people import actions as people_actions
from amparo.people.models import DirectoryCategory
from tests.alerts.support import (
    T0,
    after,
    fast_hashing,  # noqa: F401 - a fixture
    life_safety_policy,
    pending_steps,
    raise_high,
    run_steps,
    step_states,
)

pytestmark = pytest.mark.usefixtures("fast_hashing")

# What the reference asks for, tier by tier (Strategy 2, line 2; Strategy 6, lines 1-2).
REFERENCE_TIERS = [
    ("local", [{"type": "role", "role": "focal_point"}]),
    ("local", [{"type": "role", "role": "coordinator"}]),
    (
        "regional",
        [
            {"type": "directory", "category": "defender_network"},
            {"type": "directory", "category": "ombudsman"},
            {"type": "role", "role": "partner"},
        ],
    ),
    (
        "national",
        [
            {"type": "directory", "category": "protection_mechanism"},
            {"type": "directory", "category": "embassy"},
            {"type": "directory", "category": "emergency_centre"},
        ],
    ),
    ("international", [{"type": "directory", "category": "international_network"}]),
]
# Minutes after raising of every step of the life-safety policy: (tier, repeat) -> minutes.
LIFE_SAFETY_MINUTES = {
    (0, 0): 0,
    (0, 1): 5,
    (0, 2): 10,
    (1, 0): 5,
    (1, 1): 10,
    (1, 2): 15,
    (2, 0): 15,
    (2, 1): 20,
    (3, 0): 30,
    (3, 1): 35,
    (4, 0): 60,
    (4, 1): 65,
}
OUTSIDE_CATEGORIES = [
    DirectoryCategory.DEFENDER_NETWORK,
    DirectoryCategory.OMBUDSMAN,
    DirectoryCategory.PROTECTION_MECHANISM,
    DirectoryCategory.EMBASSY,
    DirectoryCategory.EMERGENCY_CENTRE,
    DirectoryCategory.INTERNATIONAL_NETWORK,
]


@pytest.fixture
def allies(world):
    """A contact for every outside tier, so that every step has somebody to notify."""
    return [
        people_actions.create_directory_entry(
            "test",
            world.org_a,
            category=category,
            region="Madre de Dios",
            name=f"Contacto {category}",
            phone=f"+51 82 571 {100 + i}",
            email=f"{category}@allies.example",
        )
        for i, category in enumerate(OUTSIDE_CATEGORIES)
    ]


@pytest.fixture
def traveller(world):
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_it_gives_a_new_organisation_the_reference_policies(db):
    org = people_actions.create_organisation(
        "test", name="Nueva", slug="nueva", kind="community", country="PE"
    )
    policies = list(EscalationPolicy.objects.filter(organisation=org))
    assert len(policies) == 4
    by_name = {p.name.split(" / ")[-1]: p for p in policies}
    assert set(by_name) == {"Life at risk", "Panic and duress", "Medium risk", "Low risk"}
    assert by_name["Panic and duress"].kinds == ["panic", "duress", "missed_checkin"]
    assert by_name["Life at risk"].severities == ["high"]
    assert by_name["Medium risk"].severities == ["medium"]
    assert by_name["Low risk"].severities == ["low"]
    for name in ("Life at risk", "Panic and duress", "Medium risk"):
        tiers = [(t.level, t.targets) for t in by_name[name].tiers.order_by("position")]
        assert tiers == REFERENCE_TIERS, name
        assert all(t.channels[:2] == ["sms", "email"] for t in by_name[name].tiers.all())
    # Low risk stays within the organisation: the focal point, then the coordinator.
    low = [(t.level, t.targets) for t in by_name["Low risk"].tiers.order_by("position")]
    assert low == REFERENCE_TIERS[:2]


def test_it_chooses_the_fastest_policy_for_panic_and_the_life_safety_one_for_high(world):
    panic = actions.raise_alert(world.coordinator.user, world.org_a, kind="panic", severity="low")
    high = raise_high(world)
    medium = raise_high(world, severity="medium")
    assert panic.policy_snapshot["name"].endswith("Panic and duress")
    assert high.policy_snapshot["name"].endswith("Life at risk")
    assert medium.policy_snapshot["name"].endswith("Medium risk")


@pytest.mark.parametrize(("kind", "given"), [("panic", "low"), ("duress", "medium")])
def test_it_makes_panic_and_duress_always_high(world, kind, given):
    alert = actions.raise_alert(world.coordinator.user, world.org_a, kind=kind, severity=given)
    assert Alert.objects.get(pk=alert.pk).severity == "high"
    assert alert.life_safety


def test_it_writes_one_step_per_tier_and_repeat_with_an_absolute_due_time(world, traveller):
    alert = raise_high(world)
    assert alert.raised_at == T0
    snapshot = alert.policy_snapshot
    assert snapshot == life_safety_policy(world.org_a).snapshot()
    expected = {}
    for tier in snapshot["tiers"]:
        for repeat in range(tier["repeat_count"] + 1):
            minutes = tier["delay_minutes"] + repeat * tier["repeat_interval_minutes"]
            expected[(tier["position"], repeat)] = alert.raised_at + timedelta(minutes=minutes)
    steps = {(s.tier_position, s.repeat_index): s for s in AlertStep.objects.filter(alert=alert)}
    assert {k: s.due_at for k, s in steps.items()} == expected
    # The reference's timings, written out, so that a change of the defaults is deliberate.
    assert {k: (d - T0) for k, d in expected.items()} == {
        k: timedelta(minutes=m) for k, m in LIFE_SAFETY_MINUTES.items()
    }
    assert {s.level for s in steps.values() if s.tier_position == 2} == {"regional"}
    assert {s.level for s in steps.values() if s.tier_position == 4} == {"international"}
    assert all(s.state == StepState.PENDING for s in steps.values())


def test_it_runs_every_step_exactly_when_it_is_due(world, allies, traveller):
    alert = raise_high(world)
    due: dict = defaultdict(set)
    for step in AlertStep.objects.filter(alert=alert):
        due[step.due_at].add((step.tier_position, step.repeat_index))
    assert len(due) == 9  # 12 steps; some tiers and repeats fall on the same minute
    done: set = set()
    for moment in sorted(due):
        traveller.move_to(moment - timedelta(seconds=1))
        assert run_steps() == 0, moment
        assert {k for k, s in step_states(alert).items() if s == StepState.DONE} == done
        traveller.move_to(moment + timedelta(seconds=1))
        assert run_steps() == len(due[moment]), moment
        done |= due[moment]
        assert {k for k, s in step_states(alert).items() if s == StepState.DONE} == done
        for step in AlertStep.objects.filter(alert=alert, due_at=moment):
            assert step.executed_at == moment + timedelta(seconds=1)
            assert step.recipients > 0, (step.tier_position, step.repeat_index)
            assert OutboxMessage.objects.filter(step=step).exists()
    assert done == set(LIFE_SAFETY_MINUTES)
    traveller.move_to(after(24 * 60))
    assert run_steps() == 0


def test_it_lets_the_auditor_run_only_overdue_steps(world, traveller):
    alert = raise_high(world)
    traveller.move_to(T0 + timedelta(seconds=10))
    assert clock.run_due_steps("auditor", overdue_by=30) == 0
    traveller.move_to(T0 + timedelta(seconds=31))
    assert clock.run_due_steps("auditor", overdue_by=30) == 1
    assert step_states(alert)[(0, 0)] == StepState.DONE


def test_it_stops_every_pending_step_and_message_on_acknowledgement(world, allies, traveller):
    alert = raise_high(world)
    traveller.move_to(after(5) + timedelta(seconds=1))
    assert run_steps() == 3  # tier 0 twice (0 and 5 minutes), tier 1 once (5 minutes)
    assert OutboxMessage.objects.filter(alert=alert, state=OutboxState.PENDING).exists()
    sent = OutboxMessage.objects.filter(alert=alert).first()
    OutboxMessage.objects.filter(pk=sent.pk).update(state=OutboxState.SENT, attempts=1)

    assert actions.acknowledge_alert(world.coordinator.user, alert, via="web")
    assert pending_steps(alert) == 0
    states = step_states(alert)
    assert [k for k, s in states.items() if s == StepState.DONE] == [(0, 0), (0, 1), (1, 0)]
    assert all(
        s == StepState.CANCELLED for k, s in states.items() if k not in {(0, 0), (0, 1), (1, 0)}
    )
    left = OutboxMessage.objects.filter(alert=alert).exclude(pk=sent.pk)
    assert left.exists()
    assert set(left.values_list("state", flat=True)) == {OutboxState.CANCELLED}
    assert OutboxMessage.objects.get(pk=sent.pk).state == OutboxState.SENT

    traveller.move_to(after(24 * 60))
    assert run_steps() == 0
    assert AlertStep.objects.filter(alert=alert, state=StepState.DONE).count() == 3


def test_it_cancels_a_message_waiting_for_a_retry_on_acknowledgement(world, traveller):
    alert = raise_high(world)
    traveller.move_to(T0 + timedelta(seconds=1))
    assert run_steps() == 1
    retrying = OutboxMessage.objects.filter(alert=alert).first()
    OutboxMessage.objects.filter(pk=retrying.pk).update(
        attempts=1, last_error="gateway timeout", next_attempt_at=after(1)
    )
    actions.acknowledge_alert(world.coordinator.user, alert, via="web")
    assert OutboxMessage.objects.get(pk=retrying.pk).state == OutboxState.CANCELLED


def test_it_keeps_the_running_alert_on_its_snapshot_when_the_policy_changes(
    world, allies, traveller
):
    policy = life_safety_policy(world.org_a)
    alert = raise_high(world)
    snapshot = alert.policy_snapshot
    steps_before = sorted(
        AlertStep.objects.filter(alert=alert).values_list("tier_position", "repeat_index", "due_at")
    )
    actions.save_policy(
        world.coordinator.user,
        world.org_a,
        policy=policy,
        name=policy.name,
        description="Only the coordinator, once, after two hours.",
        kinds=[],
        severities=["high"],
        priority=policy.priority,
        tiers=[
            {
                "level": "local",
                "targets": [{"type": "role", "role": "coordinator"}],
                "channels": ["email"],
                "delay_minutes": 120,
                "repeat_count": 0,
                "repeat_interval_minutes": 5,
            }
        ],
    )
    policy.refresh_from_db()
    assert policy.version == 2
    assert policy.tiers.count() == 1
    alert.refresh_from_db()
    assert alert.policy_snapshot == snapshot
    assert alert.policy_snapshot["version"] == 1
    steps_after = sorted(
        AlertStep.objects.filter(alert=alert).values_list("tier_position", "repeat_index", "due_at")
    )
    assert steps_after == steps_before
    # The national tier of the old snapshot still runs, to the old targets.
    traveller.move_to(after(30) + timedelta(seconds=1))
    run_steps()
    national = AlertStep.objects.get(alert=alert, tier_position=3, repeat_index=0)
    assert national.state == StepState.DONE
    addresses = {m.address for m in OutboxMessage.objects.filter(step=national, channel="email")}
    assert addresses == {
        "protection_mechanism@allies.example",
        "embassy@allies.example",
        "emergency_centre@allies.example",
    }
    # A new alert takes the new version.
    assert raise_high(world).policy_snapshot["version"] == 2


@pytest.mark.parametrize("state", [AlertState.ACKNOWLEDGED, AlertState.RESOLVED])
def test_it_cancels_a_step_of_an_alert_that_is_no_longer_raised(world, traveller, state):
    alert = raise_high(world)
    # As when an acknowledgement lands between the claim query and the execution.
    Alert.objects.filter(pk=alert.pk).update(state=state)
    traveller.move_to(T0 + timedelta(seconds=1))
    assert run_steps() == 1
    step = AlertStep.objects.get(alert=alert, tier_position=0, repeat_index=0)
    assert step.state == StepState.CANCELLED
    assert step.executed_at is None
    assert not OutboxMessage.objects.filter(alert=alert).exists()


def test_a_failing_step_is_retried_later_and_the_rest_of_its_batch_runs_once(
    world, traveller, monkeypatch
):
    """When one step of a batch fails (on PostgreSQL the batch runs under one savepoint,
    taken back and run again step by step; on SQLite each step has its own savepoint),
    the failing step waits for its retry, the others are done once, with one message
    each and one audit entry each."""
    from amparo.core.models import AuditEntry

    alerts = [raise_high(world, message=f"Alerta {n}") for n in range(3)]
    failing = alerts[1]
    real = actions.execute_step

    def execute_step(step, worker="", batch=None):
        written = real(step, worker, batch)
        if step.alert_id == failing.pk:
            raise RuntimeError("the gateway template is broken")
        return written

    monkeypatch.setattr(actions, "execute_step", execute_step)
    traveller.move_to(T0 + timedelta(seconds=1))
    assert run_steps() == 3
    first = {a.pk: AlertStep.objects.get(alert=a, tier_position=0, repeat_index=0) for a in alerts}
    assert [first[a.pk].state for a in alerts] == [
        StepState.DONE,
        StepState.PENDING,
        StepState.DONE,
    ]
    assert first[failing.pk].due_at > T0 + timedelta(seconds=1)  # its retry, a little later
    assert not OutboxMessage.objects.filter(step=first[failing.pk]).exists()
    for alert in (alerts[0], alerts[2]):
        messages = OutboxMessage.objects.filter(step=first[alert.pk])
        assert messages.count() == len({m.idempotency_key for m in messages}) > 0
    executed = AuditEntry.objects.filter(action="alert.step_executed")
    assert sorted(e.details["step"] for e in executed) == sorted(
        first[a.pk].pk for a in (alerts[0], alerts[2])
    )

    # Fixed, the step runs at its retry time, once.
    monkeypatch.setattr(actions, "execute_step", real)
    traveller.move_to(first[failing.pk].due_at + timedelta(seconds=1))
    run_steps()
    assert AlertStep.objects.get(pk=first[failing.pk].pk).state == StepState.DONE
    assert OutboxMessage.objects.filter(step=first[failing.pk]).exists()
