"""The case pages: the media blackout banner on every page of the case, deadlines, and
the contacts panel (directory, and for deployed staff the insurer and, for the lead and
coordinators only, the next of kin)."""

from __future__ import annotations

from datetime import date

import pytest

from amparo.crisis import actions
from amparo.crisis.models import CrisisKind, CrisisRole
from amparo.people import actions as people_actions
from amparo.travel import actions as travel_actions

BANNER = 'data-testid="blackout-banner"'


def case_pages(case) -> list[str]:
    base = f"/o/org-a/crisis/{case.pk}/"
    return [base, base + "advocacy/", base + "review/"]


def test_the_blackout_banner_is_on_every_page_of_a_kidnapping_case(world, login, case):
    c = login(world.coordinator)
    for url in case_pages(case):
        response = c.get(url)
        assert response.status_code == 200, url
        assert BANNER in response.content.decode(), url
    # and after a POST that renders the page again (the advocacy preview)
    response = c.post(case_pages(case)[1], {"appeal": "x", "language": "en", "do": "preview"})
    assert BANNER in response.content.decode()


def test_no_banner_once_the_blackout_is_lifted(world, login, case):
    c = login(world.coordinator)
    c.post(f"/o/org-a/crisis/{case.pk}/blackout/", {"on": "0"})
    case.refresh_from_db()
    assert not case.media_blackout
    for url in case_pages(case):
        assert BANNER not in c.get(url).content.decode()
    assert [e.kind for e in case.timeline.all()][-1] == "blackout"


def test_an_attack_case_has_no_blackout_by_default(world, login):
    case = actions.open_crisis(world.coordinator.user, world.org_a, CrisisKind.ATTACK)
    assert (
        BANNER not in login(world.coordinator).get(f"/o/org-a/crisis/{case.pk}/").content.decode()
    )


def test_the_case_page_shows_tasks_with_deadlines_and_the_reference_panels(world, login, case):
    html = login(world.coordinator).get(f"/o/org-a/crisis/{case.pk}/").content.decode()
    assert html.count('data-testid="task"') == 8
    first = case.tasks.order_by("due_at").first()
    assert first.due_at.strftime("%Y-%m-%d %H:%M") in html
    assert "Negociar la liberación de rehenes ni pagar rescates." in html  # es: the default


@pytest.fixture
def deployed_case(world):
    d = travel_actions.create_deployment(
        world.coordinator.user,
        world.org_a,
        traveller=world.defender_person,
        trip_type="pri",
        starts_on=date(2025, 3, 1),
        returns_on=date(2025, 3, 20),
        destinations=[{"country": "PE", "region": "Madre de Dios", "places": "Hotel Anaconda"}],
    )
    travel_actions.save_next_of_kin(
        world.coordinator.user,
        d,
        [{"name": "Julia Huamán", "relation": "madre", "phone": "+51 955 000 111"}],
    )
    travel_actions.save_insurance(
        world.coordinator.user,
        d,
        insurer="Seguros Andinos",
        policy_number="POL-77",
        emergency_number="+45 7000 1234",
        valid_from=date(2025, 1, 1),
        valid_to=date(2025, 12, 31),
    )
    people_actions.create_directory_entry(
        "test",
        world.org_a,
        category="embassy",
        region="Lima",
        name="Embajada DK",
        phone="+51 1 111",
    )
    return actions.open_crisis(
        world.coordinator.user,
        world.org_a,
        CrisisKind.KIDNAPPING,
        deployment=d,
        assignees={CrisisRole.LEGAL: world.supervisor.user},
    )


def test_the_contacts_panel_draws_on_the_directory_and_the_deployment(world, login, deployed_case):
    html = login(world.coordinator).get(f"/o/org-a/crisis/{deployed_case.pk}/").content.decode()
    assert "Embajada DK" in html
    assert "+45 7000 1234" in html
    assert "Julia Huamán" in html


def test_next_of_kin_are_for_the_lead_and_coordinators_only(world, login, deployed_case):
    html = login(world.supervisor).get(f"/o/org-a/crisis/{deployed_case.pk}/").content.decode()
    assert "Embajada DK" in html
    assert "Julia Huamán" not in html
    assert "+51 955 000 111" not in html
    assert "crisis lead and the security coordinators only" in html or "coordinadores" in html
