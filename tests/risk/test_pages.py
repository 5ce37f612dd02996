"""The risk pages through the test client: a new subject, a new assessment from the
plain form (blank rows ignored), the detail with its breakdown, matrix and flag, the
mitigation plan, the history and trend, and the schedule."""

from __future__ import annotations

import re
from datetime import date, timedelta

import time_machine
from django.utils import timezone

from amparo.core.models import AuditEntry
from amparo.risk.models import MitigationAction, RiskAssessment, RiskSubject
from tests.risk.conftest import (
    ACTION_TEXT,
    COMMUNITY_TEXT,
    THREAT_TEXT,
    assess,
    report_for,
)


def management(prefix, total=3):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def assessment_form(world, **extra):
    data = {
        "assessed_on": timezone.now().date().isoformat(),
        "likelihood": "3",
        "impact": "4",
        "scenarios": "Escalada posible",
        **management("threats"),
        **management("vulnerabilities"),
        **management("capacities"),
        **management("actions"),
        "threats-0-actor_type": "illegal_logging",
        "threats-0-description": THREAT_TEXT,
        "threats-0-rating": "3",
        "threats-0-recurring": "on",
        "threats-0-endangers": ["physical_integrity"],
        "threats-0-incident": str(report_for(world).pk),
        "vulnerabilities-0-description": "Sin señal",
        "vulnerabilities-0-rating": "4",
        "vulnerabilities-1-description": "Rutina fija",
        "vulnerabilities-1-rating": "2",
        "capacities-0-description": "Radio",
        "capacities-0-rating": "3",
        "actions-0-description": ACTION_TEXT,
        "actions-0-owner": str(world.defender_person.pk),
        "actions-0-due_on": (timezone.now().date() + timedelta(days=7)).isoformat(),
    }
    data.update(extra)
    return data


def test_it_creates_a_subject_and_assesses_it_from_the_plain_form(world, login):
    c = login(world.coordinator)
    assert c.get("/o/org-a/risk/subjects/new/").status_code == 200
    response = c.post(
        "/o/org-a/risk/subjects/new/",
        {"kind": "person", "person": str(world.defender_person.pk), "reassess_every": "quarter"},
    )
    assert response.status_code == 302
    subject = RiskSubject.objects.get(person=world.defender_person)
    assert response.url == f"/o/org-a/risk/subjects/{subject.pk}/"
    form_page = c.get(f"/o/org-a/risk/subjects/{subject.pk}/assess/")
    assert form_page.status_code == 200
    # Strict CSP: no inline script or style.
    assert not re.search(rb"<script(?![^>]*\ssrc=)", form_page.content)
    assert b" style=" not in form_page.content
    response = c.post(f"/o/org-a/risk/subjects/{subject.pk}/assess/", assessment_form(world))
    assert response.status_code == 302, response.content[-3000:]
    assessment = RiskAssessment.objects.get(subject=subject)
    # T = 3, V = (4 + 2) / 2 = 3, C = 3: formula 3 (medium); matrix 3 x 4 = 12 (high).
    assert (assessment.formula_level, assessment.matrix_level) == ("medium", "high")
    assert assessment.level == "high"
    # Recurring, endangers physical integrity, impact 4: serious and imminent.
    assert assessment.serious_and_imminent
    assert assessment.threats.count() == 1  # the two blank rows were ignored
    assert assessment.vulnerabilities.count() == 2
    assert assessment.mitigation_actions.get().owner == world.defender_person
    assert AuditEntry.objects.filter(action="risk.assessed").count() == 1
    page = c.get(response.url)
    assert page.status_code == 200
    body = page.content.decode()
    assert THREAT_TEXT in body and ACTION_TEXT in body
    assert 'data-testid="imminent"' in body
    assert 'data-current="1"' in body  # the assessed cell of the matrix
    assert "3 × 4 = 12" in body


def test_it_shows_a_half_filled_row_as_an_error(world, login, subject):
    c = login(world.coordinator)
    form = assessment_form(world, **{"threats-1-description": "sin calificar"})
    response = c.post(f"/o/org-a/risk/subjects/{subject.pk}/assess/", form)
    assert response.status_code == 200
    assert b"Fill this in, or leave the whole row blank." in response.content
    assert not RiskAssessment.objects.exists()


def test_it_refuses_an_assessment_without_a_threat(world, login, subject):
    c = login(world.coordinator)
    form = assessment_form(world)
    for key in [k for k in form if k.startswith("threats-0-")]:
        form.pop(key)
    response = c.post(f"/o/org-a/risk/subjects/{subject.pk}/assess/", form)
    assert response.status_code == 200
    assert b"Record at least one threat or attack." in response.content


def test_it_marks_a_mitigation_action_done_once(world, login, assessment):
    c = login(world.coordinator)
    action = MitigationAction.objects.get(assessment=assessment)
    url = f"/o/org-a/risk/actions/{action.pk}/done/"
    assert c.post(url).status_code == 302
    assert c.post(url).status_code == 302
    action.refresh_from_db()
    assert action.done_at is not None and action.done_by == world.coordinator.user
    assert AuditEntry.objects.filter(action="risk.action_done").count() == 1


def test_it_adds_an_action_with_an_owner(world, login, assessment):
    c = login(world.coordinator)
    response = c.post(
        f"/o/org-a/risk/assessments/{assessment.pk}/actions/",
        {
            "new-description": "Taller de seguridad digital",
            "new-owner": str(world.defender_person.pk),
        },
    )
    assert response.status_code == 302
    assert assessment.mitigation_actions.count() == 2


def test_it_lists_overdue_subjects_first(world, login, subject, community):
    with time_machine.travel(timezone.now().date() - timedelta(days=200)):
        assess(world, subject)  # due ~110 days ago
    assess(world, community)  # due in three months
    c = login(world.coordinator)
    body = c.get("/o/org-a/risk/").content.decode()
    assert body.index(str(subject.pk)) < body.index(str(community.pk))
    assert 'data-overdue="1"' in body
    overdue = c.get("/o/org-a/risk/overdue/").content.decode()
    assert str(subject.pk) in overdue and str(community.pk) not in overdue
    assert COMMUNITY_TEXT in body


def test_it_draws_the_history_and_trend_of_a_subject(world, login, subject):
    with time_machine.travel(timezone.now().date() - timedelta(days=100)):
        assess(world, subject, likelihood=1, impact=1, threats=[_low_threat()])
    assess(world, subject)
    c = login(world.coordinator)
    body = c.get(f"/o/org-a/risk/subjects/{subject.pk}/").content.decode()
    assert 'data-testid="risk-trend"' in body
    assert body.count("<circle") == 2
    assert "<polyline" in body
    assert body.count("data-assessment=") == 2


def _low_threat():
    from amparo.risk.actions import ThreatInput

    return ThreatInput(actor_type="unknown", description="rumor", rating=1)


def test_it_counts_the_next_due_date_by_the_schedule(world, login, subject):
    assessment = assess(world, subject, assessed_on=date(2025, 1, 15))
    subject.refresh_from_db()
    assert assessment.next_due_on == date(2025, 4, 15) == subject.next_due_on
    c = login(world.coordinator)
    url = f"/o/org-a/risk/subjects/{subject.pk}/schedule/"
    assert c.post(url, {"reassess_every": "half_year"}).status_code == 302
    subject.refresh_from_db()
    assert subject.next_due_on == date(2025, 7, 15)
    # A back-dated assessment joins the history without moving the schedule back.
    assess(world, subject, assessed_on=date(2024, 12, 1))
    subject.refresh_from_db()
    assert subject.next_due_on == date(2025, 7, 15)


def test_it_shows_the_person_their_own_assessment_read_only(world, login, assessment):
    c = login(world.defender)
    listing = c.get("/o/org-a/risk/").content.decode()
    assert str(assessment.subject_id) in listing
    assert "Assess a new subject" not in listing
    page = c.get(f"/o/org-a/risk/assessments/{assessment.pk}/").content.decode()
    assert THREAT_TEXT in page
    assert "Mark done" not in page and "Add to the plan" not in page
