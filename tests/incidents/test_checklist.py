"""The response checklist (issue 4, point 4): report_threat builds the reference's items
for the level (Step 1's five actions for medium and high only; Steps 2, 3 and 4 always,
relatives for medium and high only) with their due times, and a coordinator's change of
level keeps progress, supersedes, adds, and moves the alert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from amparo.alerts.models import Alert, AlertState
from amparo.core.models import AuditEntry
from amparo.incidents import actions
from amparo.incidents.models import ChecklistItem, ItemStatus, Level, ThreatReport

STEP1 = [
    "step1_police_report",
    "step1_inform_supervisor",
    "step1_watch_surveillance",
    "step1_avoid_public_transport",
    "step1_evaluate_relocation",
]
ALWAYS = [
    "step2_record_to_supervisor",
    "step3_psychological_support",
    "step4_suspend_social_media",
    "step4_encrypted_communications",
    "step4_no_sensitive_information",
]
RELATIVES = "step4_relatives_social_media"

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
# Due after the report, per level; items not named have no deadline.
DUE = {
    Level.HIGH: {
        "step1_police_report": DAY,
        "step1_inform_supervisor": HOUR,
        "step1_evaluate_relocation": DAY,
        "step2_record_to_supervisor": HOUR,
        "step3_psychological_support": DAY,
    },
    Level.MEDIUM: {
        "step1_police_report": 3 * DAY,
        "step1_inform_supervisor": DAY,
        "step1_evaluate_relocation": 7 * DAY,
        "step2_record_to_supervisor": DAY,
        "step3_psychological_support": 3 * DAY,
    },
    Level.LOW: {
        "step2_record_to_supervisor": 3 * DAY,
        "step3_psychological_support": 7 * DAY,
    },
}


def report(world: Any, level: str, **data: Any) -> ThreatReport:
    """A report whose Step 1 rules give ``level``."""
    answers = {
        Level.HIGH: {"physical_violence": True},
        Level.MEDIUM: {
            "source_illicit_activity": "illegal_mining",
            "shows_knowledge_of_work": True,
        },
        Level.LOW: {
            "physical_violence": False,
            "attempted_assault": False,
            "imminent_harm_signs": [],
            "source_illicit_activity": "none",
            "shows_knowledge_of_work": False,
            "source_known": False,
        },
    }[level]
    receipt = actions.report_threat(
        world.defender.user,
        world.org_a,
        {"verbatim": "Deja de denunciar o te va a pasar algo.", **answers, **data},
        source="web",
        person=world.defender_person,
    )
    assert receipt.report.level == level
    return receipt.report


def codes(report: ThreatReport, **filters: Any) -> list[str]:
    return list(
        ChecklistItem.objects.filter(report=report, **filters).values_list("code", flat=True)
    )


@pytest.mark.parametrize("level", [Level.MEDIUM, Level.HIGH])
def test_it_builds_step_1_and_the_relatives_item_for_medium_and_high(world, level):
    r = report(world, level)
    assert codes(r, step=1) == STEP1
    assert sorted(codes(r)) == sorted([*STEP1, *ALWAYS, RELATIVES])


def test_it_builds_steps_2_3_and_4_only_for_low(world):
    r = report(world, Level.LOW)
    assert codes(r, step=1) == []
    assert RELATIVES not in codes(r)
    assert sorted(codes(r)) == sorted(ALWAYS)
    assert [i.step for i in ChecklistItem.objects.filter(report=r)] == [2, 3, 4, 4, 4]


@pytest.mark.parametrize("level", [Level.LOW, Level.MEDIUM, Level.HIGH])
def test_it_sets_due_times_per_level(world, level):
    r = report(world, level)
    due = {
        item.code: item.due_at - r.created_at if item.due_at else None
        for item in ChecklistItem.objects.filter(report=r)
    }
    expected = {code: DUE[level].get(code) for code in due}
    assert due == expected


@pytest.mark.parametrize(("level", "alerted"), [(Level.LOW, False), (Level.MEDIUM, True)])
def test_it_raises_an_alert_for_medium_and_high_only(world, level, alerted):
    r = report(world, level)
    assert (r.alert_id is not None) == alerted
    assert Alert.objects.filter(organisation=world.org_a).count() == int(alerted)


# A coordinator changes the level.


def test_raising_a_low_report_adds_step_1_keeps_progress_and_raises_an_alert(world):
    r = report(world, Level.LOW)
    psych = ChecklistItem.objects.get(report=r, code="step3_psychological_support")
    actions.update_item(world.coordinator.user, psych, status=ItemStatus.DONE, notes="Llamó")
    actions.change_level(world.coordinator.user, r, Level.HIGH, "Volvieron armados anoche")
    r.refresh_from_db()
    assert r.level == Level.HIGH
    assert r.reasons == ["coordinator"]
    assert r.level_reason == "Volvieron armados anoche"
    assert sorted(codes(r)) == sorted([*STEP1, *ALWAYS, RELATIVES])
    assert codes(r, superseded=True) == []
    psych.refresh_from_db()
    assert psych.status == ItemStatus.DONE
    assert psych.notes == "Llamó"
    # The new items are due from the change, by the new level.
    police = ChecklistItem.objects.get(report=r, code="step1_police_report")
    assert police.status == ItemStatus.OPEN
    assert police.due_at is not None
    alert = Alert.objects.get(pk=r.alert_id)
    assert alert.severity == Level.HIGH
    assert alert.state != AlertState.RESOLVED


def test_lowering_to_low_supersedes_step_1_and_resolves_the_alert(world):
    r = report(world, Level.HIGH)
    police = ChecklistItem.objects.get(report=r, code="step1_police_report")
    actions.update_item(world.defender.user, police, status=ItemStatus.DONE)
    alert_id = r.alert_id
    actions.change_level(world.coordinator.user, r, Level.LOW, "Era una broma de un vecino")
    r.refresh_from_db()
    assert r.level == Level.LOW
    # Nothing is deleted: the items that no longer apply are kept, marked, with progress.
    assert sorted(codes(r, superseded=True)) == sorted([*STEP1, RELATIVES])
    assert sorted(codes(r, superseded=False)) == sorted(ALWAYS)
    police.refresh_from_db()
    assert police.superseded
    assert police.status == ItemStatus.DONE
    assert Alert.objects.get(pk=alert_id).state == AlertState.RESOLVED
    assert (
        not Alert.objects.filter(organisation=world.org_a)
        .exclude(state=AlertState.RESOLVED)
        .exists()
    )


def test_raising_back_revives_superseded_items(world):
    r = report(world, Level.MEDIUM)
    actions.change_level(world.coordinator.user, r, Level.LOW, "Sin vínculo con la minería")
    actions.change_level(world.coordinator.user, r, Level.MEDIUM, "Lo vieron con los mineros")
    r.refresh_from_db()
    assert codes(r, superseded=True) == []
    assert sorted(codes(r)) == sorted([*STEP1, *ALWAYS, RELATIVES])
    open_alerts = Alert.objects.filter(organisation=world.org_a).exclude(state=AlertState.RESOLVED)
    assert [a.pk for a in open_alerts] == [r.alert_id]
    assert open_alerts[0].severity == Level.MEDIUM


def test_raising_medium_to_high_raises_a_high_alert(world):
    r = report(world, Level.MEDIUM)
    actions.change_level(world.coordinator.user, r, Level.HIGH, "Le mostraron un arma")
    r.refresh_from_db()
    alert = Alert.objects.get(pk=r.alert_id)
    assert alert.severity == Level.HIGH
    assert alert.state != AlertState.RESOLVED
    assert codes(r, superseded=True) == []


def test_it_audits_a_change_of_level(world):
    r = report(world, Level.MEDIUM)
    actions.change_level(world.coordinator.user, r, Level.HIGH, "Le mostraron un arma")
    entry = AuditEntry.objects.get(action="threat.level_changed", object_id=str(r.pk))
    assert entry.actor == f"user:{world.coordinator.user.pk}"
    assert entry.details == {"from": Level.MEDIUM, "to": Level.HIGH}
    assert entry.organisation_id == world.org_a.pk
    # The reason is sealed with the report, not copied into the log.
    assert "arma" not in str(entry.details)


@pytest.mark.parametrize("reason", ["", "   ", "abc", " ab c ", "cuat"])
def test_it_refuses_a_change_without_a_written_reason(world, reason):
    r = report(world, Level.MEDIUM)
    with pytest.raises(ValidationError) as refused:
        actions.change_level(world.coordinator.user, r, Level.HIGH, reason)
    assert "reason" in refused.value.message_dict
    r.refresh_from_db()
    assert r.level == Level.MEDIUM
    assert not AuditEntry.objects.filter(action="threat.level_changed").exists()
    assert codes(r, superseded=True) == []


def test_it_refuses_an_unknown_level(world):
    r = report(world, Level.MEDIUM)
    with pytest.raises(ValidationError):
        actions.change_level(world.coordinator.user, r, "extreme", "Porque sí, mucho")


def test_lowering_high_to_medium_keeps_the_running_alert(world):
    """Not a second alert that starts again from the first tier."""
    high = report(world, Level.HIGH)
    first = high.alert_id
    actions.change_level(world.coordinator.user, high, Level.MEDIUM, "no weapon after all")
    high.refresh_from_db()
    assert high.alert_id == first
    assert Alert.objects.count() == 1
    assert Alert.objects.get().state == AlertState.RAISED


def test_raising_medium_to_high_closes_the_medium_alert(world):
    medium = report(world, Level.MEDIUM)
    first = medium.alert_id
    actions.change_level(world.coordinator.user, medium, Level.HIGH, "they came back armed")
    medium.refresh_from_db()
    assert medium.alert_id != first
    assert Alert.objects.get(pk=first).state == AlertState.RESOLVED
    assert Alert.objects.get(pk=medium.alert_id).state == AlertState.RAISED
    assert Alert.objects.filter(state=AlertState.RAISED).count() == 1


def test_lowering_after_the_alert_was_resolved_raises_nothing(world):
    high = report(world, Level.HIGH)
    from amparo.alerts import actions as alert_actions

    alert_actions.resolve_alert(world.coordinator.user, Alert.objects.get(pk=high.alert_id), "ok")
    actions.change_level(world.coordinator.user, high, Level.MEDIUM, "calmer now")
    assert Alert.objects.count() == 1
