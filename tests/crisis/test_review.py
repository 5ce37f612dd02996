"""The after-action review (Strategy 6, line 5): filing it closes the case, and its
lessons appear on the organisation's protocols page (and only there)."""

from __future__ import annotations

from amparo.core.models import AuditEntry
from amparo.crisis.models import CaseState

REVIEW = {
    "what_worked": "La cadena de mando respondió en 10 minutos",
    "what_failed": "El número de la aseguradora estaba desactualizado",
    "lessons": "Verificar cada trimestre los números de emergencia del seguro",
    "protocol_changes": "Añadir la verificación trimestral al protocolo de viaje",
    "continuity_status": "in_place",
}


def test_filing_the_review_closes_the_case_and_shows_its_lessons(world, login, case):
    c = login(world.coordinator)
    response = c.post(f"/o/org-a/crisis/{case.pk}/review/", REVIEW)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert case.closed_at is not None
    assert AuditEntry.objects.filter(action="crisis.review_filed").exists()
    assert case.timeline.last().kind == "review"
    page = login(world.defender).get("/o/org-a/protocols/").content.decode()
    assert "Lessons from crises" in page or "Lecciones" in page or "lesson" in page
    assert REVIEW["lessons"] in page
    assert REVIEW["protocol_changes"] in page
    assert REVIEW["what_failed"] not in page  # the review itself stays with the managers
    assert "Rosa" not in page


def test_other_organisations_do_not_see_the_lessons(world, login, case):
    login(world.coordinator).post(f"/o/org-a/crisis/{case.pk}/review/", REVIEW)
    page = login(world.coordinator_b).get("/o/org-b/protocols/").content.decode()
    assert REVIEW["lessons"] not in page
    assert login(world.coordinator_b).get("/o/org-a/protocols/").status_code == 404


def test_a_review_needs_its_fields(world, login, case):
    response = login(world.coordinator).post(f"/o/org-a/crisis/{case.pk}/review/", {})
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.state == CaseState.OPEN
