"""A referral from the coordinator's form to its closing, through the pages: the
directory's professionals filtered by specialty, consent required, sessions recorded by
the assigned psychologist (with notes) and by the coordinator (attendance only), the
count shown, the next session planned, and a closed referral taking no more sessions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from amparo.core.models import AuditEntry
from amparo.programmes import actions
from amparo.programmes.models import PsychosocialReferral, PsychosocialSession, ReferralStatus
from tests.programmes.conftest import HEALING, NOTES, PROFESSIONAL, REASON, past

pytestmark = pytest.mark.django_db


def referral_form(world, care, **extra):
    return {
        "person": str(world.defender_person.pk),
        "professional": str(care.kidnapping.pk),
        "urgency": "urgent",
        "reason": REASON,
        "community_healing_practices": HEALING,
        "psychologist": str(care.psychologist.user.pk),
        "consent": "on",
        **extra,
    }


def test_it_filters_the_professionals_by_specialty(world, care, login):
    c = login(world.coordinator)
    page = c.get("/o/org-a/referrals/new/?specialty=kidnapping").content.decode()
    assert "Centro Kidnap-Ayuda" in page
    assert PROFESSIONAL not in page
    page = c.get("/o/org-a/referrals/new/").content.decode()
    assert "Centro Kidnap-Ayuda" in page and PROFESSIONAL in page


def test_it_refuses_a_referral_without_consent(world, care, login):
    c = login(world.coordinator)
    form = referral_form(world, care)
    del form["consent"]
    response = c.post("/o/org-a/referrals/new/", form)
    assert response.status_code == 400
    assert PsychosocialReferral.objects.count() == 1  # the fixture's only
    with pytest.raises(ValidationError):
        actions.refer_person(
            world.coordinator.user,
            world.org_a,
            person=world.defender_person,
            professional=care.trauma,
            reason=REASON,
            consent=False,
        )


def test_it_refuses_a_professional_who_is_not_mental_health(world, care, login):
    from amparo.people import actions as people_actions

    hospital = people_actions.create_directory_entry(
        "test", world.org_a, category="hospital", region="Madre de Dios", name="Hospital"
    )
    c = login(world.coordinator)
    response = c.post(
        "/o/org-a/referrals/new/", referral_form(world, care, professional=str(hospital.pk))
    )
    assert response.status_code == 400
    assert PsychosocialReferral.objects.count() == 1


def test_it_runs_a_referral_from_creation_to_closing(world, care, login):
    coordinator = login(world.coordinator)
    response = coordinator.post("/o/org-a/referrals/new/", referral_form(world, care))
    assert response.status_code == 302, response.content[:800]
    referral = PsychosocialReferral.objects.exclude(pk=care.referral.pk).get()
    assert referral.status == ReferralStatus.OPEN
    assert referral.consent_recorded_by_id == world.coordinator.user.pk
    assert referral.includes_healing_practices
    url = f"/o/org-a/referrals/{referral.pk}/"

    psychologist = login(care.psychologist)
    page = psychologist.get(url).content.decode()
    assert REASON in page and HEALING in page
    response = psychologist.post(
        url + "sessions/",
        {
            "held_on": past(7).isoformat(),
            "duration_minutes": "50",
            "attended": "on",
            "clinical_notes": NOTES,
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACTIVE

    # The coordinator records attendance for the outside professional: no notes field.
    page = coordinator.get(url).content.decode()
    assert 'name="clinical_notes"' not in page
    response = coordinator.post(
        url + "sessions/", {"held_on": past(1).isoformat(), "duration_minutes": "45"}
    )
    assert response.status_code == 302
    response = coordinator.post(url + "next-session/", {"next_session": "2099-03-01T09:30"})
    assert response.status_code == 302
    page = coordinator.get(url).content.decode()
    assert 'data-testid="session-count">1<' in page  # one attended, one missed
    assert "2099-03-01 09:30" in page
    list_page = coordinator.get("/o/org-a/referrals/").content.decode()
    assert str(referral.pk) in list_page

    response = psychologist.post(url + "close/")
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CLOSED
    assert referral.next_session_at is None
    # A closed referral takes no more sessions.
    response = psychologist.post(
        url + "sessions/", {"held_on": past(0).isoformat(), "duration_minutes": "30"}
    )
    assert response.status_code == 404
    assert PsychosocialSession.objects.filter(referral=referral).count() == 2
    # Closed referrals leave the default list.
    assert str(referral.pk) not in coordinator.get("/o/org-a/referrals/").content.decode()
    assert str(referral.pk) in coordinator.get("/o/org-a/referrals/?all=1").content.decode()

    actions_done = list(
        AuditEntry.objects.filter(object_id=str(referral.pk)).values_list("action", flat=True)
    )
    assert actions_done[0] == "psychosocial_referral.created"
    assert "psychosocial_referral.closed" in actions_done


def test_only_the_assigned_psychologist_writes_clinical_notes(world, care):
    with pytest.raises(ValidationError):
        actions.record_session(
            world.coordinator.user,
            care.referral,
            held_on=past(),
            duration_minutes=60,
            attended=True,
            clinical_notes=NOTES,
        )
    with pytest.raises(ValidationError):
        actions.record_session(
            care.other_psychologist.user,
            care.referral,
            held_on=past(),
            duration_minutes=60,
            attended=True,
            clinical_notes=NOTES,
        )
    assert not PsychosocialSession.objects.exists()


def test_it_refuses_a_session_in_the_future(world, care):
    from datetime import timedelta

    with pytest.raises(ValidationError):
        actions.record_session(
            care.psychologist.user,
            care.referral,
            held_on=past() + timedelta(days=5),
            duration_minutes=60,
            attended=True,
        )


def test_the_audit_log_holds_no_sealed_text(world, care):
    actions.record_session(
        care.psychologist.user,
        care.referral,
        held_on=past(),
        duration_minutes=60,
        attended=True,
        clinical_notes=NOTES,
    )
    actions.read_clinical_notes(care.psychologist.user, care.referral)
    details = str(list(AuditEntry.objects.values_list("details", flat=True)))
    for secret in (REASON, HEALING, NOTES):
        assert secret not in details


def test_it_keeps_the_link_to_the_threat_report_and_the_crisis_case(world, care, login):
    import uuid

    from amparo.incidents import actions as incident_actions

    report = incident_actions.report_threat(
        world.coordinator.user,
        world.org_a,
        {"verbatim": "Te vamos a encontrar"},
        source="web",
        person=world.defender_person,
    ).report
    case_id = uuid.uuid4()
    c = login(world.coordinator)
    query = f"?threat_report={report.pk}&crisis_case={case_id}"
    page = c.get("/o/org-a/referrals/new/" + query).content.decode()
    assert str(report.pk) in page and str(case_id) in page
    form = referral_form(world, care, threat_report=str(report.pk), crisis_case=str(case_id))
    assert c.post("/o/org-a/referrals/new/" + query, form).status_code == 302
    referral = PsychosocialReferral.objects.exclude(pk=care.referral.pk).get()
    assert referral.threat_report_id == report.pk
    assert referral.crisis_case_id == case_id


def test_it_refuses_a_threat_report_of_another_organisation(world, care, login):
    from amparo.incidents import actions as incident_actions

    report = incident_actions.report_threat(
        world.coordinator_b.user, world.org_b, {"verbatim": "Amenaza en B"}, source="web"
    ).report
    c = login(world.coordinator)
    form = referral_form(world, care, threat_report=str(report.pk))
    assert c.post("/o/org-a/referrals/new/", form).status_code == 404
    assert PsychosocialReferral.objects.count() == 1
