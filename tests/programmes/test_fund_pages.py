"""The fund's pages, without JavaScript (issue 8, point 5): a coordinator asks, two
other approvers approve on the request's page, the payment and the beneficiary's
satisfaction are recorded; the requester sees why they cannot approve. Also every list
and form page of trainings and legal cases opens for a coordinator."""

from __future__ import annotations

import pytest

from amparo.people.models import Role
from amparo.programmes.models import FundRequest, FundRequestStatus
from conftest import make_persona

pytestmark = pytest.mark.django_db


def test_a_request_goes_through_the_pages(world, login):
    admin = make_persona(world.org_a, Role.ADMIN, "admin@a.example")
    second = make_persona(world.org_a, Role.COORDINATOR, "coordinator2@a.example")
    c = login(world.coordinator)
    assert c.get("/o/org-a/fund/new/").status_code == 200
    response = c.post(
        "/o/org-a/fund/new/",
        {
            "category": "communication",
            "amount": "450.00",
            "currency": "pen",
            "beneficiary": str(world.defender_person.pk),
            "justification": "Teléfono satelital para la comunidad",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    request = FundRequest.objects.get()
    assert request.currency == "PEN"
    detail = f"/o/org-a/fund/{request.pk}/"
    page = c.get(detail).content.decode()
    assert "cannot approve" in page
    assert c.get("/o/org-a/fund/").status_code == 200
    for persona in (admin, second):
        approver = login(persona)
        assert approver.post(detail + "approve/").status_code == 302
        # A second click by the same person changes nothing.
        approver.post(detail + "approve/")
    request.refresh_from_db()
    assert request.status == FundRequestStatus.APPROVED
    assert request.approvals.count() == 2
    assert c.post(detail + "disburse/", {"reference": "BCP-0042"}).status_code == 302
    assert c.post(detail + "satisfaction/", {"satisfaction": "5"}).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.satisfaction) == (FundRequestStatus.DISBURSED, 5)
    page = c.get(detail).content.decode()
    assert "BCP-0042" in page
    assert c.get("/o/org-a/fund/ledger/").status_code == 200


def test_the_form_pages_open_for_a_coordinator(world, login):
    c = login(world.coordinator)
    for url in (
        "/o/org-a/trainings/",
        "/o/org-a/trainings/new/",
        "/o/org-a/legal/",
        "/o/org-a/legal/new/",
        "/o/org-a/fund/summary/?since=2025-01-01&until=bad",
    ):
        assert c.get(url).status_code == 200, url


def test_a_workshop_is_recorded_from_the_page(world, login):
    c = login(world.coordinator)
    response = c.post(
        "/o/org-a/trainings/new/",
        {
            "line": "s1_l8",
            "topic": "El Acuerdo de Escazú, artículo 9",
            "held_on": "2025-05-02",
            "duration_hours": "6.5",
            "language": "Español",
            "community": "Infierno",
            "facilitator": "Abogada facilitadora",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    page = c.get(response["Location"]).content.decode()
    assert "Escazú" in page
    response = c.post(
        response["Location"] + "participants/",
        {
            "gender": "woman",
            "age_band": "under_18",
            "indigenous": "yes",
            "role": "community_member",
        },
    )
    assert response.status_code == 302
