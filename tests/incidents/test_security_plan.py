"""The personal security plan (issue 4, point 7): the reference's thirteen measures
("Recommendations to safeguard security") per person, linked to the directory, with
review reminders through the outbox, and its page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from amparo.alerts.models import OutboxMessage
from amparo.core.models import AuditEntry
from amparo.incidents import actions, plan
from amparo.incidents.models import Measure, PlanMeasure, SecurityPlan
from amparo.people import actions as people_actions
from amparo.people.models import DirectoryEntry, Organisation, Person, Role
from conftest import make_persona

T0 = datetime(2025, 3, 10, 20, 0, tzinfo=UTC)


def entry(organisation: Organisation, category: str, name: str, **fields: Any) -> DirectoryEntry:
    return people_actions.create_directory_entry(
        "test", organisation, category=category, region="Madre de Dios", name=name, **fields
    )


def audit_actions(obj: Any) -> list[str]:
    return list(AuditEntry.objects.filter(object_id=str(obj.pk)).values_list("action", flat=True))


@pytest.fixture
def rosa_plan(world: Any) -> SecurityPlan:
    return actions.plan_for(world.defender.user, world.defender_person)


def in_english(persona: Any) -> Any:
    """The page speaks the user's language; these tests read it in English."""
    people_actions.set_language("test", persona.user, "en")
    return persona


def plan_path(person: Person, slug: str = "org-a") -> str:
    return f"/o/{slug}/people/{person.pk}/security-plan/"


# The plan and its measures


def test_it_makes_a_plan_with_the_thirteen_measures(world, rosa_plan):
    codes = list(rosa_plan.measures.values_list("code", flat=True))
    assert codes == Measure.values
    assert len(codes) == 13
    assert not rosa_plan.measures.filter(done=True).exists()
    assert rosa_plan.organisation_id == world.org_a.pk
    assert audit_actions(rosa_plan) == ["security_plan.created"]
    # Asking again gives the same plan.
    assert actions.plan_for(world.coordinator.user, world.defender_person) == rosa_plan
    assert PlanMeasure.objects.filter(plan=rosa_plan).count() == 13


def test_it_records_a_checked_measure_and_audits_it(world, rosa_plan):
    measure = rosa_plan.measures.get(code=Measure.ROUTES_HOME)
    with time_machine.travel(T0, tick=False):
        plan.update_measure(
            world.defender.user, measure, True, "  Por el mercado o por el puerto  "
        )
    measure.refresh_from_db()
    assert measure.done
    assert measure.notes == "Por el mercado o por el puerto"
    assert measure.checked_at == T0
    entry = AuditEntry.objects.get(action="security_plan.measure_checked")
    assert entry.actor == f"user:{world.defender.user.pk}"
    assert entry.details == {"measure": "routes_home", "done": True, "notes": True}
    assert entry.organisation_id == world.org_a.pk
    # The notes are sealed at rest and never copied into the log.
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM incidents_planmeasure")
        stored = [str(row[0]) for row in cursor.fetchall()]
    assert len(stored) == 13
    assert not any("mercado" in value for value in stored)
    assert "mercado" not in str(entry.details)


def test_checking_again_moves_the_date_even_when_nothing_changed(world, rosa_plan):
    measure = rosa_plan.measures.get(code=Measure.HOME_CHECKS)
    with time_machine.travel(T0, tick=False):
        plan.update_measure(world.defender.user, measure, True, "")
    with time_machine.travel(T0 + timedelta(days=40), tick=False):
        plan.update_measure(world.defender.user, measure, True, "")
    measure.refresh_from_db()
    assert measure.checked_at == T0 + timedelta(days=40)
    details = list(
        AuditEntry.objects.filter(action="security_plan.measure_checked").values_list(
            "details", flat=True
        )
    )
    assert details == [{"measure": "home_checks", "done": True}, {"measure": "home_checks"}]


# Links to the directory


def test_it_links_the_plan_to_fitting_directory_entries(world, rosa_plan):
    police = entry(world.org_a, "police", "Comisaría Puerto Maldonado", phone="+51 82 571 234")
    hospital = entry(world.org_a, "clinic", "Clínica San Martín")
    meeting = entry(world.org_a, "safe_meeting_point", "Plaza de Armas, iglesia")
    changed = plan.set_links(world.coordinator.user, rosa_plan, police, hospital, meeting)
    assert changed == ["police", "health_service", "meeting_point"]
    rosa_plan.refresh_from_db()
    assert (rosa_plan.police, rosa_plan.health_service, rosa_plan.meeting_point) == (
        police,
        hospital,
        meeting,
    )
    entry_ = AuditEntry.objects.get(action="security_plan.links_set")
    assert entry_.details == {
        "police": str(police.pk),
        "health_service": str(hospital.pk),
        "meeting_point": str(meeting.pk),
    }
    # Unlinking one writes only that one.
    assert plan.set_links(world.coordinator.user, rosa_plan, police, hospital, None) == [
        "meeting_point"
    ]
    assert plan.set_links(world.coordinator.user, rosa_plan, police, hospital, None) == []
    assert AuditEntry.objects.filter(action="security_plan.links_set").count() == 2


@pytest.mark.parametrize("category", ["hospital", "clinic", "health_centre"])
def test_every_health_service_fits(world, rosa_plan, category):
    service = entry(world.org_a, category, "Centro de salud")
    assert plan.set_links(world.defender.user, rosa_plan, None, service, None)


@pytest.mark.parametrize(
    ("link", "category"),
    [
        ("police", "hospital"),
        ("police", "safe_meeting_point"),
        ("health_service", "police"),
        ("health_service", "mental_health"),
        ("meeting_point", "landlord"),
        ("meeting_point", "police"),
    ],
)
def test_it_refuses_an_entry_of_the_wrong_category(world, rosa_plan, link, category):
    wrong = entry(world.org_a, category, "No encaja")
    links: dict[str, Any] = {"police": None, "health_service": None, "meeting_point": None}
    links[link] = wrong
    with pytest.raises(ValidationError) as refused:
        plan.set_links(world.defender.user, rosa_plan, **links)
    assert link in refused.value.message_dict
    rosa_plan.refresh_from_db()
    assert getattr(rosa_plan, f"{link}_id") is None
    assert not AuditEntry.objects.filter(action="security_plan.links_set").exists()


def test_it_refuses_another_organisations_entry(world, rosa_plan):
    theirs = entry(world.org_b, "police", "Policía de Cobija")
    with pytest.raises(ValidationError) as refused:
        plan.set_links(world.coordinator.user, rosa_plan, theirs, None, None)
    assert "police" in refused.value.message_dict
    rosa_plan.refresh_from_db()
    assert rosa_plan.police_id is None


def test_it_refuses_a_removed_entry(world, rosa_plan):
    gone = entry(world.org_a, "police", "Puesto cerrado")
    people_actions.archive_directory_entry("test", gone)
    with pytest.raises(ValidationError):
        plan.set_links(world.coordinator.user, rosa_plan, gone, None, None)


# Reminders


@pytest.mark.parametrize("days", [30, 90, 180])
def test_it_sets_the_reminder_period(world, rosa_plan, days):
    with time_machine.travel(T0, tick=False):
        plan.set_reminders(world.defender.user, rosa_plan, days)
    rosa_plan.refresh_from_db()
    assert rosa_plan.reminder_days == days
    assert rosa_plan.next_reminder_at == T0 + timedelta(days=days)
    entry_ = AuditEntry.objects.get(action="security_plan.reminders_set")
    assert entry_.details == {"from": 90, "to": days}


@pytest.mark.parametrize("days", [0, 7, 45, 365, "ninety", None])
def test_it_refuses_another_reminder_period(world, rosa_plan, days):
    with pytest.raises(ValidationError):
        plan.set_reminders(world.defender.user, rosa_plan, days)
    rosa_plan.refresh_from_db()
    assert rosa_plan.reminder_days == 90


def due_plan(world: Any, **person_changes: Any) -> SecurityPlan:
    if person_changes:
        people_actions.update_person("test", world.defender_person, **person_changes)
    the_plan = actions.plan_for(world.defender.user, world.defender_person)
    for code in (Measure.DIRECTORY, Measure.MEETING_POINT):
        the_plan.measures.filter(code=code).update(done=True)
    SecurityPlan.objects.filter(pk=the_plan.pk).update(next_reminder_at=T0)
    the_plan.refresh_from_db()
    return the_plan


def test_it_queues_one_sms_reminder_when_a_plan_is_due(world):
    the_plan = due_plan(world)
    assert plan.send_due_reminders(T0 - timedelta(seconds=1)) == 0
    assert plan.send_due_reminders(T0 + timedelta(minutes=1)) == 1
    assert plan.send_due_reminders(T0 + timedelta(minutes=2)) == 0
    message = OutboxMessage.objects.get()
    assert message.idempotency_key == f"plan:{the_plan.pk}:2025-03-10"
    assert message.channel == "sms"
    assert message.address == "+51 982 111 222"
    assert message.language == "es"
    assert message.recipient_label == "Rosa Huamán"
    assert message.organisation_id == world.org_a.pk
    assert message.alert_id is None
    assert "2" in message.body and "13" in message.body
    assert "http" not in message.body  # no link in an SMS
    assert message.next_attempt_at == T0 + timedelta(minutes=1)
    the_plan.refresh_from_db()
    assert the_plan.next_reminder_at == T0 + timedelta(days=90)
    queued = AuditEntry.objects.get(action="security_plan.reminder_queued")
    assert queued.details == {"due": "2025-03-10", "channel": "sms"}


def test_it_writes_the_reminder_in_the_persons_language(world):
    due_plan(world, preferred_language="en")
    plan.send_due_reminders(T0)
    message = OutboxMessage.objects.get()
    assert message.language == "en"
    assert message.body == "Review your security plan in Amparo: 2 of 13 measures done."


@pytest.mark.parametrize("language", ["es", "pt"])
def test_it_marks_the_language_of_spanish_and_portuguese_reminders(world, language):
    due_plan(world, preferred_language=language)
    plan.send_due_reminders(T0)
    assert OutboxMessage.objects.get().language == language


def test_it_emails_with_a_link_when_there_is_no_phone(world):
    the_plan = due_plan(world, phone_numbers=[], email="rosa@example.org", preferred_language="pt")
    assert plan.send_due_reminders(T0) == 1
    message = OutboxMessage.objects.get()
    assert message.channel == "email"
    assert message.address == "rosa@example.org"
    assert message.language == "pt"
    link = f"{settings.BASE_URL}/o/org-a/people/{world.defender_person.pk}/security-plan/"
    assert message.body.endswith(link)
    the_plan.refresh_from_db()
    assert the_plan.next_reminder_at == T0 + timedelta(days=90)


def test_it_never_queues_the_same_reminder_twice(world):
    the_plan = due_plan(world)
    assert plan.send_due_reminders(T0) == 1
    # A second worker that read the plan before the first one moved it on.
    SecurityPlan.objects.filter(pk=the_plan.pk).update(next_reminder_at=T0)
    assert plan.send_due_reminders(T0 + timedelta(seconds=1)) == 0
    assert OutboxMessage.objects.count() == 1
    the_plan.refresh_from_db()
    assert the_plan.next_reminder_at == T0 + timedelta(days=90)


def test_it_reminds_again_after_the_period(world):
    the_plan = due_plan(world)
    plan.send_due_reminders(T0)
    assert plan.send_due_reminders(T0 + timedelta(days=89)) == 0
    assert plan.send_due_reminders(T0 + timedelta(days=90)) == 1
    keys = sorted(OutboxMessage.objects.values_list("idempotency_key", flat=True))
    assert keys == [f"plan:{the_plan.pk}:2025-03-10", f"plan:{the_plan.pk}:2025-06-08"]


def test_it_sends_one_reminder_not_a_backlog_after_a_long_outage(world):
    the_plan = due_plan(world)
    late = T0 + timedelta(days=400)
    assert plan.send_due_reminders(late) == 1
    assert plan.send_due_reminders(late) == 0
    the_plan.refresh_from_db()
    assert the_plan.next_reminder_at == late + timedelta(days=90)


def test_it_skips_but_moves_on_when_there_is_no_address(world):
    the_plan = due_plan(world, phone_numbers=[])
    # No phone, no e-mail on the profile, no account to take an e-mail from.
    Person.objects.filter(pk=world.defender_person.pk).update(user=None)
    assert plan.send_due_reminders(T0) == 0
    assert not OutboxMessage.objects.exists()
    the_plan.refresh_from_db()
    assert the_plan.next_reminder_at == T0 + timedelta(days=90)
    assert AuditEntry.objects.filter(action="security_plan.reminder_skipped").count() == 1


def test_it_uses_the_account_email_when_the_profile_has_none(world):
    due_plan(world, phone_numbers=[])
    assert plan.send_due_reminders(T0) == 1
    message = OutboxMessage.objects.get()
    assert (message.channel, message.address) == ("email", "defender@a.example")


def test_it_stops_reminding_an_archived_person(world):
    the_plan = due_plan(world)
    people_actions.archive_person("test", world.defender_person)
    assert plan.send_due_reminders(T0) == 0
    assert not OutboxMessage.objects.exists()
    the_plan.refresh_from_db()
    assert the_plan.next_reminder_at is None


def test_an_idle_check_is_one_read(world, rosa_plan, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert plan.send_due_reminders(T0) == 0


# The page


@pytest.fixture
def supervisor_person(world: Any) -> Person:
    boss = people_actions.create_person(
        "test",
        world.org_a,
        given_names="Elmer",
        family_names="Quispe",
        user=world.supervisor.user,
        phone_numbers=["+51 984 555 010"],
    )
    people_actions.set_chain_of_command(
        "test", world.defender_person, supervisor=boss, emergency_rank=None
    )
    world.defender_person.refresh_from_db()
    return boss


def test_the_person_sees_their_plan_with_the_measures_and_contacts(world, login, supervisor_person):
    police = entry(world.org_a, "police", "Comisaría Puerto Maldonado", phone="+51 82 571 234")
    the_plan = actions.plan_for(world.defender.user, world.defender_person)
    plan.set_links(world.coordinator.user, the_plan, police, None, None)
    c = login(in_english(world.defender))
    with time_machine.travel(T0, tick=False):
        page = c.get(plan_path(world.defender_person))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('data-testid="measure"') == 13
    with translation.override("en"):
        for measure in Measure:
            assert str(measure.label).replace("'", "&#x27;") in text
    assert "Elmer Quispe" in text and 'href="tel:+51 984 555 010"' in text
    assert "Comisaría Puerto Maldonado" in text and 'href="tel:+51 82 571 234"' in text
    assert "0 of 13" in text


def test_the_person_ticks_a_measure_with_a_plain_form_post(world, login):
    c = login(in_english(world.defender))
    path = plan_path(world.defender_person)
    c.get(path)
    response = c.post(
        path,
        {
            "form": "measure",
            "measure": "first_aid",
            "first_aid-done": "on",
            "first_aid-notes": "Curso con la Cruz Roja",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{path}#measure-first_aid"
    measure = PlanMeasure.objects.get(plan__person=world.defender_person, code="first_aid")
    assert measure.done and measure.notes == "Curso con la Cruz Roja"
    assert measure.checked_at is not None
    assert "1 of 13" in c.get(path).content.decode()


def test_the_page_sets_links_and_reminders(world, login):
    police = entry(world.org_a, "police", "Comisaría")
    clinic = entry(world.org_a, "hospital", "Hospital Santa Rosa")
    c = login(world.defender)
    path = plan_path(world.defender_person)
    response = c.post(
        path,
        {"form": "links", "police": police.pk, "health_service": clinic.pk, "meeting_point": ""},
    )
    assert response.status_code == 302
    response = c.post(path, {"form": "reminders", "days": "30"})
    assert response.status_code == 302
    the_plan = SecurityPlan.objects.get(person=world.defender_person)
    assert (the_plan.police, the_plan.health_service, the_plan.meeting_point) == (
        police,
        clinic,
        None,
    )
    assert the_plan.reminder_days == 30


def test_the_page_refuses_a_wrong_or_foreign_entry(world, login):
    wrong = entry(world.org_a, "landlord", "Casero")
    foreign = entry(world.org_b, "police", "Policía de Cobija")
    c = login(world.defender)
    path = plan_path(world.defender_person)
    for police in (wrong, foreign):
        response = c.post(path, {"form": "links", "police": police.pk})
        assert response.status_code == 200
        assert "field-error" in response.content.decode()
    response = c.post(path, {"form": "reminders", "days": "45"})
    assert response.status_code == 200
    the_plan = SecurityPlan.objects.get(person=world.defender_person)
    assert the_plan.police_id is None
    assert the_plan.reminder_days == 90
    # The other organisation's entry is not even offered.
    assert "Cobija" not in c.get(path).content.decode()


def supervise(world) -> None:
    """Make the supervisor persona the defender's supervisor (Person.supervisor)."""
    boss = people_actions.create_person(
        "test", world.org_a, given_names="Marco", user=world.supervisor.user
    )
    world.defender_person.supervisor = boss
    world.defender_person.save()


@pytest.mark.parametrize("persona", ["supervisor", "coordinator"])
def test_their_supervisor_and_coordinators_see_a_persons_plan(world, login, persona):
    supervise(world)
    c = login(getattr(world, persona))
    path = plan_path(world.defender_person)
    page = c.get(path)
    assert page.status_code == 200
    assert "Rosa Huamán" in page.content.decode()
    response = c.post(path, {"form": "measure", "measure": "not_alone", "not_alone-done": "on"})
    assert response.status_code == 302
    assert PlanMeasure.objects.get(plan__person=world.defender_person, code="not_alone").done


def test_a_supervisor_sees_only_the_plans_of_the_people_they_supervise(world, login):
    """The plan holds routes, schedules and housing: not for every supervisor."""
    c = login(world.supervisor)
    assert c.get(plan_path(world.defender_person)).status_code == 404
    supervise(world)
    assert c.get(plan_path(world.defender_person)).status_code == 200


def test_it_validates_ownership(world, login):
    """Another defender of the same organisation, and org B's coordinator, get 404."""
    other = make_persona(world.org_a, Role.DEFENDER, "otro@a.example")
    people_actions.create_person("test", world.org_a, given_names="Otro", user=other.user)
    path = plan_path(world.defender_person)
    for persona in (other, world.coordinator_b):
        c = login(persona)
        assert c.get(path).status_code == 404
        post = c.post(path, {"form": "measure", "measure": "not_alone", "not_alone-done": "on"})
        assert post.status_code == 404
        # Through their own organisation's address too.
        assert c.get(plan_path(world.defender_person, "org-b")).status_code == 404
    assert not PlanMeasure.objects.filter(done=True).exists()
    assert (
        not AuditEntry.objects.filter(action__startswith="security_plan.")
        .exclude(action="security_plan.created")
        .exists()
    )


def test_it_is_404_for_an_unknown_person_and_anonymous_users_sign_in(world, login, client):
    c = login(world.coordinator)
    assert c.get("/o/org-a/people/not-a-uuid/security-plan/").status_code == 404
    assert (
        c.get("/o/org-a/people/00000000-0000-0000-0000-000000000000/security-plan/").status_code
        == 404
    )
    anonymous = client.get(plan_path(world.defender_person))
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]


def test_the_persons_page_links_to_the_plan_for_those_who_may_open_it(world, login):
    person_page = f"/o/org-a/people/{world.defender_person.pk}/"
    link = f'href="{plan_path(world.defender_person)}"'
    # A supervisor of someone else: no link (and the plan would be a 404).
    assert link not in login(world.supervisor).get(person_page).content.decode()
    supervise(world)
    for persona in (world.defender, world.supervisor, world.coordinator):
        assert link in login(persona).get(person_page).content.decode()
    # A focal point reads people's profiles but not their security plans.
    page = login(world.focal_point).get(person_page)
    assert page.status_code == 200
    assert link not in page.content.decode()
