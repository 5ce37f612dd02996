"""Shared helpers of the alerts tests: a fixed instant to raise alerts at, extra people
with contacts, and a way to drive the step clock by hand (no worker process)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from amparo.alerts import actions, clock
from amparo.alerts.models import Alert, AlertStep, EscalationPolicy, OutboxMessage, StepState
from amparo.people import actions as people_actions
from amparo.people.models import Organisation, Person

# A Monday, 15:00 in Lima (UTC-5, no daylight saving): well outside anybody's quiet hours.
T0 = datetime(2025, 3, 10, 20, 0, tzinfo=UTC)
ACK_PATH = re.compile(r"/a/[^/\s]+/")


def policy_named(organisation: Organisation, prefix: str) -> EscalationPolicy:
    return EscalationPolicy.objects.get(organisation=organisation, name__startswith=prefix)


def life_safety_policy(organisation: Organisation) -> EscalationPolicy:
    """The default policy for high alerts that are not panic or duress."""
    return policy_named(organisation, "Vida en riesgo / Life at risk")


def add_person(organisation: Organisation, given: str, family: str = "", **fields: Any) -> Person:
    return people_actions.create_person(
        "test", organisation, given_names=given, family_names=family, **fields
    )


def coordinator_person(world: Any) -> Person:
    """A profile (with a phone, to acknowledge by SMS) for the coordinator of org A."""
    return add_person(
        world.org_a,
        "Julia",
        "Mamani Condori",
        user=world.coordinator.user,
        phone_numbers=["+51 984 700 100"],
        email="julia@a.example",
    )


def set_quiet_hours(person: Person, start: str, end: str, time_zone: str = "America/Lima") -> None:
    """Quiet hours are not among the fields people.actions writes; set them directly."""
    start_time = datetime.strptime(start, "%H:%M").time()
    end_time = datetime.strptime(end, "%H:%M").time()
    Person.objects.filter(pk=person.pk).update(
        quiet_hours_start=start_time, quiet_hours_end=end_time, time_zone=time_zone
    )
    person.refresh_from_db()


def raise_high(world: Any, **kwargs: Any) -> Alert:
    fields: dict[str, Any] = {"kind": "threat", "severity": "high", "message": "Hombres armados"}
    fields.update(kwargs)
    return actions.raise_alert(world.coordinator.user, world.org_a, **fields)


def run_steps(worker: str = "test-clock") -> int:
    return clock.run_due_steps(worker, limit=1000)


def step_states(alert: Alert) -> dict[tuple[int, int], str]:
    return {
        (s.tier_position, s.repeat_index): s.state for s in AlertStep.objects.filter(alert=alert)
    }


def pending_steps(alert: Alert) -> int:
    return AlertStep.objects.filter(alert=alert, state=StepState.PENDING).count()


def after(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ack_path_for(alert: Alert, label: str) -> str:
    """The acknowledgement link in the e-mail a recipient received."""
    message = OutboxMessage.objects.get(alert=alert, channel="email", recipient_label=label)
    match = ACK_PATH.search(message.body)
    assert match, message.body
    return match.group(0)
