"""Relocations over the API, as a coordinator's integration: the whole life, and no
sealed value in any answer."""

from __future__ import annotations

from amparo.protocols.models import RelocationRequest
from tests.protocols.conftest import ADDRESS, COST_NOTE, DECISION, REASON, SAFE_HOUSE_NAME

SEALED = [REASON, ADDRESS, DECISION, COST_NOTE, SAFE_HOUSE_NAME, "BR"]


def test_it_runs_a_relocation_over_the_api(world, api_client, person, safe_house):
    api = api_client(world.coordinator)
    answers = []

    def post(url, body, expected=200):
        response = api.post(url, body, content_type="application/json")
        assert response.status_code == expected, response.content
        answers.append(response.content.decode())
        return response.json()

    created = post(
        "/api/v1/relocations",
        {
            "organisation": "org-a",
            "person": str(person.pk),
            "risk_level": "imminent",
            "reason": REASON,
            "cross_border": True,
            "destination_country": "br",
        },
        201,
    )
    base = f"/api/v1/relocations/{created['id']}"
    assert created["status"] == "requested" and created["cross_border"] is True
    post(base + "/decision", {"approve": True, "note": DECISION})
    moved = post(
        base + "/relocation",
        {
            "starts_on": "2025-03-10",
            "safe_house": str(safe_house.pk),
            "destination_address": ADDRESS,
            "destination_location": {"lat": -12.1, "lon": -69.2},
        },
    )
    assert moved["status"] == "relocated" and moved["safe_house"] == str(safe_house.pk)
    post(
        base + "/costs",
        {
            "category": "transport",
            "amount": "120.25",
            "currency": "PEN",
            "incurred_on": "2025-03-10",
            "note": COST_NOTE,
        },
        201,
    )
    returned = post(base + "/return", {"ends_on": "2025-03-30"})
    assert returned["status"] == "returned"
    assert returned["cost_totals"] == [{"currency": "PEN", "total": "120.25"}]
    for url in (base, base + "/costs", "/api/v1/relocations?organisation=org-a"):
        response = api.get(url)
        assert response.status_code == 200
        answers.append(response.content.decode())
    months = api.get("/api/v1/relocations/costs?organisation=org-a").json()
    assert months == [
        {
            "month": "2025-03-01",
            "currency": "PEN",
            "emergency_fund": True,
            "total": "120.25",
            "count": 1,
        }
    ]
    leaked = [s for s in SEALED for a in answers if s in a]
    assert leaked == []
    stored = RelocationRequest.objects.get()
    assert stored.reason == REASON and stored.destination_address == ADDRESS


def test_it_refuses_a_bad_step_with_422(world, api_client, requested):
    api = api_client(world.coordinator)
    response = api.post(
        f"/api/v1/relocations/{requested.pk}/return",
        {"ends_on": "2025-03-30"},
        content_type="application/json",
    )
    assert response.status_code == 422
