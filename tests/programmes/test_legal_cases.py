"""Legal accompaniment (issue 8, point 6): cases linked to threat reports, complaints
with their progress, closing resolved or not, and need to know: a lawyer sees and works
only the cases assigned to them (DESIGN.md section 1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from amparo.people.models import Role
from amparo.programmes import legal
from amparo.programmes.models import ComplaintOutcome, LegalCaseStatus
from conftest import make_persona

pytestmark = pytest.mark.django_db

SUMMARY = "Denuncia por amenazas del aserradero Legal-Secreto"


@pytest.fixture
def lawyers(world):
    return (
        make_persona(world.org_a, Role.LAWYER, "abogada@a.example"),
        make_persona(world.org_a, Role.LAWYER, "otro.abogado@a.example"),
    )


def open_case(world, lawyer=None, **overrides):
    fields = {"matter": "threat", "summary": SUMMARY, "person": world.defender_person}
    fields.update(overrides)
    return legal.open_legal_case(world.coordinator.user, world.org_a, lawyer=lawyer, **fields)


def today():
    return timezone.localdate()


def test_a_lawyer_sees_only_the_cases_assigned_to_them(world, lawyers, login):
    mine, theirs = lawyers
    assigned = open_case(world, lawyer=mine.user)
    other = open_case(world, lawyer=theirs.user)
    unassigned = open_case(world)
    c = login(mine)
    body = c.get("/o/org-a/legal/").content.decode()
    assert str(assigned.pk) in body
    assert str(other.pk) not in body
    assert str(unassigned.pk) not in body
    assert c.get(f"/o/org-a/legal/{assigned.pk}/").status_code == 200
    assert c.get(f"/o/org-a/legal/{other.pk}/").status_code == 404
    assert c.get(f"/o/org-a/legal/{unassigned.pk}/").status_code == 404


def test_a_lawyer_sees_only_assigned_cases_through_the_api(world, lawyers, api_client):
    mine, _theirs = lawyers
    assigned = open_case(world, lawyer=mine.user)
    other = open_case(world)
    c = api_client(mine)
    items = c.get("/api/v1/legal-cases?organisation=org-a").json()
    assert [i["id"] for i in items] == [str(assigned.pk)]
    assert "Legal-Secreto" not in str(items)
    assert c.get(f"/api/v1/legal-cases/{other.pk}").status_code == 404


def test_the_assigned_lawyer_files_and_follows_complaints(world, lawyers, login):
    mine, _theirs = lawyers
    case = open_case(world, lawyer=mine.user)
    c = login(mine)
    filed_on = today() - timedelta(days=10)
    response = c.post(
        f"/o/org-a/legal/{case.pk}/complaints/",
        {"body": "intersectoral", "filed_on": filed_on.isoformat(), "file_number": "MI-2025-7"},
    )
    assert response.status_code == 302
    complaint = case.complaints.get()
    assert complaint.body == "intersectoral"
    prefix = str(complaint.pk)
    response = c.post(
        f"/o/org-a/legal/{case.pk}/complaints/{complaint.pk}/",
        {
            f"{prefix}-status": "decided",
            f"{prefix}-status_on": today().isoformat(),
            f"{prefix}-outcome": "sanction",
            f"{prefix}-sanctions": "2",
        },
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.outcome, complaint.sanctions) == ("decided", "sanction", 2)
    # The lawyer neither reassigns nor closes: coordinators and administrators do.
    assert c.post(f"/o/org-a/legal/{case.pk}/lawyer/", {"lawyer": ""}).status_code == 404
    assert c.post(f"/o/org-a/legal/{case.pk}/close/", {"resolved": "yes"}).status_code == 404


def test_it_validates_complaints(world, lawyers):
    case = open_case(world)
    with pytest.raises(ValidationError) as exc:
        legal.file_complaint(
            world.coordinator.user, case, body="church", filed_on=today() + timedelta(days=1)
        )
    assert set(exc.value.message_dict) == {"body", "filed_on"}
    complaint = legal.file_complaint(
        world.coordinator.user, case, body="police", filed_on=today() - timedelta(days=3)
    )
    with pytest.raises(ValidationError) as exc:
        legal.update_complaint(
            world.coordinator.user,
            complaint,
            status="decided",
            status_on=today() - timedelta(days=5),
            outcome=ComplaintOutcome.SANCTION,
            sanctions=0,
        )
    assert set(exc.value.message_dict) == {"status_on", "sanctions"}


def test_a_closed_case_takes_no_more_complaints(world):
    case = open_case(world)
    legal.close_legal_case(world.coordinator.user, case, resolved=False)
    assert case.status == LegalCaseStatus.CLOSED_UNRESOLVED
    with pytest.raises(ValidationError):
        legal.file_complaint(world.coordinator.user, case, body="police", filed_on=today())


def test_only_a_lawyer_of_the_organisation_is_assigned(world, lawyers):
    lawyer_b = make_persona(world.org_b, Role.LAWYER, "abogado@b.example")
    with pytest.raises(ValidationError):
        open_case(world, lawyer=lawyer_b.user)
    with pytest.raises(ValidationError):
        open_case(world, lawyer=world.supervisor.user)


def test_a_case_links_a_threat_report_of_the_organisation(world, login):
    from amparo.incidents import actions as incident_actions

    report = incident_actions.report_threat(
        world.coordinator.user,
        world.org_a,
        {"verbatim": "Te vamos a desaparecer"},
        source="web",
        person=world.defender_person,
    ).report
    other = incident_actions.report_threat(
        world.coordinator_b.user, world.org_b, {"verbatim": "Amenaza en B"}, source="web"
    ).report
    c = login(world.coordinator)
    form = {"matter": "threat", "summary": SUMMARY}
    url = "/o/org-a/legal/new/"
    assert c.post(url, {**form, "threat_report": str(other.pk)}).status_code == 404
    assert c.post(url, {**form, "threat_report": str(report.pk)}).status_code == 302
    assert legal.LegalCase.objects.get().threat_report_id == report.pk
    with pytest.raises(ValidationError):
        open_case(world, threat_report=other)


def test_coordinators_open_cases_from_the_page(world, lawyers, login):
    mine, _theirs = lawyers
    c = login(world.coordinator)
    response = c.post(
        "/o/org-a/legal/new/",
        {
            "matter": "criminalisation",
            "person": str(world.defender_person.pk),
            "summary": SUMMARY,
            "lawyer": str(mine.user.pk),
            "strategic_litigation": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = legal.LegalCase.objects.get()
    assert case.lawyer_id == mine.user.pk
    assert case.strategic_litigation
    assert SUMMARY in c.get(response["Location"]).content.decode()
