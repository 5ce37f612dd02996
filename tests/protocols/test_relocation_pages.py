"""The relocation pages, walked as a security coordinator would on a phone: plain posts,
no JavaScript. A supervisor may ask for their own staff and then sees nothing more."""

from __future__ import annotations

from datetime import date

from amparo.core.models import AuditEntry
from amparo.people import actions as people_actions
from amparo.protocols import relocation
from amparo.protocols.models import RelocationCost, RelocationRequest, RelocationStatus
from tests.protocols.conftest import (
    ADDRESS,
    DECISION,
    FAMILY,
    GIVEN,
    REASON,
    SAFE_HOUSE_ADDRESS,
    SAFE_HOUSE_NAME,
)


def test_it_walks_a_relocation_through_the_pages(world, login, person, safe_house):
    c = login(world.coordinator)
    assert GIVEN in c.get("/o/org-a/relocations/new/").content.decode()
    response = c.post(
        "/o/org-a/relocations/new/",
        {
            "person": str(person.pk),
            "risk_level": "imminent",
            "reason": REASON,
            "cross_border": "on",
            "destination_country": "br",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    item = RelocationRequest.objects.get()
    base = f"/o/org-a/relocations/{item.pk}/"
    assert response.url == base
    page = c.get(base).content.decode()
    assert REASON in page and "BR" in page and "Approve" in page
    # A note is required.
    page = c.post(base + "decide/", {"decision": "approve", "note": ""}).content.decode()
    assert "field-error" in page
    assert c.post(base + "decide/", {"decision": "approve", "note": DECISION}).status_code == 302
    assert GIVEN in c.get("/o/org-a/relocations/").content.decode()
    form = c.get(base + "relocate/").content.decode()
    assert SAFE_HOUSE_NAME in form
    response = c.post(
        base + "relocate/",
        {
            "safe_house": str(safe_house.pk),
            "destination_address": ADDRESS,
            "starts_on": "2025-03-10",
        },
    )
    assert response.status_code == 302
    page = c.get(base).content.decode()
    assert SAFE_HOUSE_NAME in page and ADDRESS in page and "Relocated" in page
    response = c.post(
        base + "costs/new/",
        {
            "category": "transport",
            "amount": "99.90",
            "currency": "pen",
            "incurred_on": "2025-03-10",
            "emergency_fund": "on",
            "fund_reference": "EF-7",
        },
    )
    assert response.status_code == 302
    assert RelocationCost.objects.get().currency == "PEN"
    assert "99.90 PEN" in c.get(base).content.decode()
    assert c.post(base + "return/", {"ends_on": "2025-03-20"}).status_code == 302
    item.refresh_from_db()
    assert item.status == RelocationStatus.RETURNED
    assert c.get("/o/org-a/relocations/").content.decode().count(GIVEN) == 0
    assert GIVEN in c.get("/o/org-a/relocations/?all=1").content.decode()


def test_it_shows_the_four_eyes_rule_on_the_page(world, login, requested):
    from conftest import make_persona

    make_persona(world.org_a, "coordinator", "second@a.example")
    c = login(world.coordinator)
    base = f"/o/org-a/relocations/{requested.pk}/"
    page = c.get(base).content.decode()
    assert "another security coordinator must approve" in page
    page = c.post(base + "decide/", {"decision": "approve", "note": DECISION}).content.decode()
    assert "Another security coordinator must approve" in page
    requested.refresh_from_db()
    assert requested.status == RelocationStatus.REQUESTED


def test_it_closes_from_the_page(world, login, requested):
    c = login(world.coordinator)
    base = f"/o/org-a/relocations/{requested.pk}/"
    assert c.get(base + "close/").status_code == 405
    assert c.post(base + "close/", {"note": "La amenaza cesó tras la detención"}).status_code == 302
    requested.refresh_from_db()
    assert requested.status == RelocationStatus.CLOSED


def test_it_lets_a_supervisor_ask_for_their_staff_then_shows_them_nothing(world, login, person):
    boss = people_actions.create_person(
        "test", world.org_a, given_names="Jefa", user=world.supervisor.user
    )
    people_actions.set_chain_of_command("test", person, supervisor=boss, emergency_rank=None)
    c = login(world.supervisor)
    form = c.get("/o/org-a/relocations/new/").content.decode()
    assert GIVEN in form
    assert "Rosa" not in form  # not their staff
    assert 'name="crisis_case_id"' not in form
    response = c.post(
        "/o/org-a/relocations/new/",
        {"person": str(world.defender_person.pk), "risk_level": "high", "reason": REASON},
    )
    assert response.status_code == 200 and not RelocationRequest.objects.exists()
    response = c.post(
        "/o/org-a/relocations/new/",
        {"person": str(person.pk), "risk_level": "high", "reason": REASON},
    )
    assert response.status_code == 302 and response.url == "/o/org-a/"
    item = RelocationRequest.objects.get()
    assert item.requested_by == world.supervisor.user
    assert AuditEntry.objects.filter(action="relocation.requested").count() == 1
    home = c.get(response.url).content.decode()
    assert "sent to the security coordinator" in home
    for url in (f"/o/org-a/relocations/{item.pk}/", "/o/org-a/relocations/"):
        response = c.get(url)
        assert response.status_code == 404
        assert REASON not in response.content.decode()
    # The coordinator takes it from there.
    page = login(world.coordinator).get(f"/o/org-a/relocations/{item.pk}/").content.decode()
    assert REASON in page and FAMILY in page


def test_the_person_page_says_relocated_and_nothing_more(world, login, person, relocated):
    """Strategy 6, line 3: whoever may read the person learns only that they are
    relocated; where, since when and why stay on the coordinator's pages."""
    url = f"/o/org-a/people/{person.pk}/"
    for persona in (world.coordinator, world.supervisor):
        page = login(persona).get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-testid="relocated"' in html
        assert "Relocated" in html
        for secret in (SAFE_HOUSE_NAME, SAFE_HOUSE_ADDRESS, ADDRESS, REASON, DECISION):
            assert secret not in html
    relocation.mark_returned(world.coordinator.user, relocated, ends_on=date(2025, 4, 1))
    page = login(world.supervisor).get(url).content.decode()
    assert 'data-testid="relocated"' not in page
