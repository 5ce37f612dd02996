"""Issue 6 end to end in a real browser, on a phone-sized screen: a panic alert becomes a
kidnapping crisis in one action; its tasks appear with deadlines; the media blackout
banner is on every page of the case; tasks are completed; the after-action review is
filed and its lessons show on the protocols page."""

from __future__ import annotations

import re

import pytest

from amparo.alerts import actions as alert_actions
from amparo.crisis.models import CrisisCase
from tests.browser.test_threat_report import csp_watch, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LESSON = "Verificar cada trimestre el número de emergencia de la aseguradora"


def test_an_alert_becomes_a_kidnapping_crisis_and_closes_with_lessons(world, live_server, page):
    violations = csp_watch(page)
    alert = alert_actions.raise_alert(
        world.defender.user,
        world.org_a,
        kind="panic",
        severity="high",
        person=world.defender_person,
    )
    sign_in(page, live_server, world.coordinator)

    # One action on the alert page.
    page.goto(f"{live_server.url}/o/org-a/alerts/{alert.pk}/")
    form = page.locator("[data-testid=open-crisis]")
    form.locator("select[name=kind]").select_option("kidnapping")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/o/org-a/crisis/[0-9a-f-]{36}/$"))
    case = CrisisCase.objects.get()
    assert case.alert_id == alert.pk
    case_url = page.url

    # Tasks with deadlines, under the blackout banner.
    assert page.locator("[data-testid=blackout-banner]").is_visible()
    assert page.locator("[data-testid=task]").count() == 8
    dues = page.locator("[data-testid=task-due]").all_inner_texts()
    assert len(dues) == 8
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", d) for d in dues)

    # The banner is on every page of the case.
    for link in (f"{case_url}advocacy/", f"{case_url}review/", case_url):
        page.goto(link)
        assert page.locator("[data-testid=blackout-banner]").is_visible(), link

    # Tasks are completed (the first-hour ones first).
    for _ in range(2):
        page.locator("[data-testid=task-complete]").first.click()
        page.wait_for_load_state()
    assert page.locator("[data-testid=task-done]").count() == 2
    case.refresh_from_db()
    assert case.seconds_to_first_task is not None
    assert case.seconds_to_open is not None

    # The after-action review closes the case.
    page.goto(f"{case_url}review/")
    page.fill("textarea[name=what_worked]", "La cadena de mando respondió a tiempo")
    page.fill("textarea[name=what_failed]", "El número de la aseguradora estaba desactualizado")
    page.fill("textarea[name=lessons]", LESSON)
    page.fill("textarea[name=protocol_changes]", "Verificación trimestral en el protocolo")
    page.select_option("select[name=continuity_status]", "in_place")
    page.click("[data-testid=file-review]")
    page.wait_for_url(case_url)
    case.refresh_from_db()
    assert case.state == "closed"

    page.goto(f"{live_server.url}/o/org-a/protocols/")
    assert LESSON in page.locator("[data-testid=lesson]").first.inner_text()
    assert violations == []
