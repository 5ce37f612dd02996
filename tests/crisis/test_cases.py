"""Opening a crisis (from an alert in one action, or by hand), its tasks and assignees,
the time to activate, and the append-only, audited timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from amparo.alerts import actions as alert_actions
from amparo.core.models import AuditEntry
from amparo.crisis import actions
from amparo.crisis.models import CrisisCase, CrisisKind, CrisisRole, TimelineEntry

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_it_opens_a_kidnapping_crisis_from_the_alert_page_in_one_action(world, login, alert):
    c = login(world.coordinator)
    page = c.get(f"/o/org-a/alerts/{alert.pk}/")
    assert f"/o/org-a/crisis/from-alert/{alert.pk}/" in page.content.decode()
    response = c.post(f"/o/org-a/crisis/from-alert/{alert.pk}/", {"kind": "kidnapping"})
    case = CrisisCase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/o/org-a/crisis/{case.pk}/"
    assert case.alert == alert
    assert case.person == world.defender_person
    assert case.kind == CrisisKind.KIDNAPPING
    assert case.media_blackout
    assert case.tasks.count() == 8
    assert AuditEntry.objects.filter(action="crisis.opened", object_id=str(case.pk)).exists()


def test_the_alert_page_offers_no_crisis_to_a_focal_point(world, login, alert):
    page = login(world.focal_point).get(f"/o/org-a/alerts/{alert.pk}/")
    assert "crisis/from-alert" not in page.content.decode()
    response = login(world.focal_point).post(
        f"/o/org-a/crisis/from-alert/{alert.pk}/", {"kind": "kidnapping"}
    )
    assert response.status_code == 404
    assert not CrisisCase.objects.exists()


def test_it_stores_the_time_to_activate(world):
    with time_machine.travel(T0, tick=False):
        alert = alert_actions.raise_alert(
            world.defender.user, world.org_a, kind="panic", severity="high"
        )
    with time_machine.travel(T0 + timedelta(minutes=4), tick=False):
        case = actions.open_crisis(
            world.coordinator.user, world.org_a, CrisisKind.KIDNAPPING, alert=alert
        )
    assert case.alert_raised_at == T0
    assert case.seconds_to_open == 240
    assert case.seconds_to_activate is None
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        actions.complete_task(world.coordinator.user, case.tasks.first())
    case.refresh_from_db()
    assert case.first_task_done_at == T0 + timedelta(minutes=10)
    assert case.seconds_to_first_task == 360
    assert case.seconds_to_activate == 600


def test_roles_go_to_their_assignees_and_the_rest_to_the_lead(world):
    case = actions.open_crisis(
        world.coordinator.user,
        world.org_a,
        CrisisKind.KIDNAPPING,
        assignees={CrisisRole.FAMILY_LIAISON: world.supervisor.user},
    )
    for task in case.tasks.all():
        expected = world.supervisor.user if task.role == CrisisRole.FAMILY_LIAISON else case.lead
        assert task.assignee == expected


def test_an_assignee_of_another_organisation_is_refused(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        actions.open_crisis(
            world.coordinator.user,
            world.org_a,
            CrisisKind.ATTACK,
            assignees={CrisisRole.LEGAL: world.coordinator_b.user},
        )


def test_an_assignee_completes_their_task_and_sees_only_their_case(world, login):
    case = actions.open_crisis(
        world.coordinator.user,
        world.org_a,
        CrisisKind.DETENTION,
        assignees={CrisisRole.FAMILY_LIAISON: world.supervisor.user},
    )
    other = actions.open_crisis(world.coordinator.user, world.org_a, CrisisKind.ATTACK)
    c = login(world.supervisor)
    assert c.get(f"/o/org-a/crisis/{case.pk}/").status_code == 200
    assert c.get(f"/o/org-a/crisis/{other.pk}/").status_code == 404
    mine = case.tasks.get(role=CrisisRole.FAMILY_LIAISON)
    not_mine = case.tasks.get(role=CrisisRole.LEGAL)
    url = f"/o/org-a/crisis/{case.pk}/tasks/"
    assert c.post(f"{url}{not_mine.pk}/done/", {}).status_code == 404
    assert (
        c.post(f"{url}{mine.pk}/done/", {f"{mine.pk}-note": "Familia avisada"}).status_code == 302
    )
    mine.refresh_from_db()
    assert mine.done_by == world.supervisor.user
    assert mine.note == "Familia avisada"
    assert c.post(f"/o/org-a/crisis/{case.pk}/advocacy/", {}).status_code == 404
    assert c.get(f"/o/org-a/crisis/{case.pk}/review/").status_code == 404


def test_every_timeline_entry_is_audited(world, case):
    actions.append_to_timeline(world.coordinator.user, case, "Llamada a la embajada")
    actions.complete_task(world.coordinator.user, case.tasks.first())
    entries = list(case.timeline.all())
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert [e.kind for e in entries] == ["opened", "blackout", "note", "task_done"]
    audited = AuditEntry.objects.filter(action="crisis.timeline", object_id=str(case.pk))
    assert sorted(a.details["seq"] for a in audited) == [e.seq for e in entries]
    assert not any("embajada" in str(a.details) for a in audited)


def test_the_timeline_refuses_raw_update_and_delete(world, case):
    entry = case.timeline.first()
    for sql in (
        "UPDATE crisis_timelineentry SET kind = 'note' WHERE id = %s",
        "DELETE FROM crisis_timelineentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [entry.pk.hex if connection.vendor == "sqlite" else entry.pk])
    assert TimelineEntry.objects.filter(pk=entry.pk, kind=entry.kind).exists()


def test_a_closed_case_takes_no_more_notes(world, case):
    from django.core.exceptions import ValidationError

    actions.file_review(world.coordinator.user, case, what_worked="a", what_failed="b", lessons="c")
    with pytest.raises(ValidationError):
        actions.append_to_timeline(world.coordinator.user, case, "tarde")
