"""Issue 5 end to end in a real browser: the traveller completes the records on a phone
and uploads the travel programme; the coordinator submits the trip for approval; the
wrong signatory cannot sign, the right one does; the coordinator marks the trip ready,
then active, and gives it a leg; with the clock moved past the first check-in's deadline
the worker's sweep raises a missed check-in, which appears on the coordinator's board."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from amparo.alerts.models import Alert, AlertKind
from amparo.people.models import Role
from amparo.travel import actions, checkins, settings_actions
from amparo.travel.models import Deployment, DeploymentStatus
from conftest import PASSWORD, make_persona, totp_now
from tests.browser.test_threat_report import PHONE
from tests.people.wording import set_language
from tests.travel.test_pages import records_forms

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = timedelta(days=1)
CHECKBOXES = {
    "no_domestic_flights",
    "medical",
    "evacuation",
    "repatriation",
    "valid_orange_red",
    "embassy_registered",
    "embassy_contact_saved",
    "emergency_centre_contact_saved",
}


@pytest.fixture(autouse=True)
def evidence_store(settings, tmp_path: Path) -> Path:
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


@pytest.fixture
def trip(world: Any) -> dict[str, Any]:
    ed = make_persona(world.org_a, Role.SIGNATORY, "director@a.example")
    hof = make_persona(world.org_a, Role.SIGNATORY, "finance@a.example")
    settings_actions.set_signatories(
        "test",
        world.org_a,
        executive_director=ed.user,
        head_of_finance=hof.user,
        other_trips_signed_by="executive_director",
    )
    settings_actions.write_code_of_conduct("test", world.org_a, "Respeto a las comunidades.")
    start = timezone.now().date() + 10 * DAY
    deployment = actions.create_deployment(
        "test",
        world.org_a,
        traveller=world.defender_person,
        trip_type="pri",  # PRI-related: the Executive Director signs
        starts_on=start,
        returns_on=start + 14 * DAY,
        destinations=[
            {
                "country": "PE",
                "region": "Madre de Dios",
                "advisory": "orange",
                "advisory_reviewed_on": start - 2 * DAY,
                "advisory_source": "um.dk",
            }
        ],
    )
    for persona in (world.defender, world.coordinator, ed, hof):
        set_language(persona, "en")
    return {"deployment": deployment, "ed": ed, "hof": hof, "start": start}


def sign_in(page: Any, live_server: Any, persona: Any) -> None:
    """Password, then the second factor for staff roles (defenders have none)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", persona.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    if "/accounts/mfa/verify/" in page.url:
        page.fill("input[name=token]", totp_now(persona.device))
        page.click("main button[type=submit]")
        page.wait_for_load_state()
    assert "/accounts/login/" not in page.url


def fill_record(page: Any, name: str, values: dict[str, Any]) -> None:
    section = page.locator(f"section[data-testid=record-{name}]")
    for field, value in values.items():
        control = section.locator(f"[name={field}]")
        if field in CHECKBOXES:
            control.check()
        elif control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    section.locator("button[type=submit]").click()
    page.wait_for_load_state()


def upload_programme(page: Any, detail: str, programme: Path) -> None:
    page.goto(detail + "documents/")
    form = page.locator("[data-testid=document-form]")
    form.locator("[name=kind]").select_option("programme")
    form.locator("[name=file]").set_input_files(str(programme))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-testid=documents]").count() == 1


def add_leg(page: Any, detail: str) -> None:
    """A stay in Puerto Maldonado from an hour from now, a check-in a day, an hour's
    grace; the times as Lima's clocks show them."""
    lima = ZoneInfo("America/Lima")
    arrives = (timezone.now() + timedelta(hours=1)).astimezone(lima).replace(second=0)
    page.goto(detail + "legs/")
    form = page.locator("[data-testid=leg-form]")
    form.locator("[name=place]").fill("Hospedaje Tambopata, Puerto Maldonado")
    form.locator("[name=country]").fill("PE")
    form.locator("[name=region]").fill("Madre de Dios")
    form.locator("[name=time_zone]").select_option("America/Lima")
    form.locator("[name=starts_local]").fill(arrives.strftime("%Y-%m-%dT%H:%M"))
    form.locator("[name=ends_local]").fill((arrives + 3 * DAY).strftime("%Y-%m-%dT%H:%M"))
    form.locator("[name=checkin_every_hours]").fill("24")
    form.locator("[name=grace_minutes]").fill("60")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_a_trip_from_the_records_to_a_missed_checkin_on_the_board(
    world, live_server, browser, trip, tmp_path
):
    deployment: Deployment = trip["deployment"]
    detail = f"{live_server.url}/o/org-a/deployments/{deployment.pk}/"

    # The traveller, on a phone, fills in every record and accepts the code of conduct.
    traveller = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    sign_in(traveller, live_server, world.defender)
    traveller.goto(detail)
    assert traveller.locator("[data-gate][data-passed=no]").count() > 5
    for name, values in records_forms(trip["start"]).items():
        fill_record(traveller, name, values)
        traveller.goto(detail)
    traveller.click("text=I accept")
    traveller.wait_for_load_state()
    # The travel programme, as the declaration's annex.
    programme = tmp_path / "programa.pdf"
    programme.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    upload_programme(traveller, detail, programme)
    traveller.goto(detail)
    failing = traveller.locator("[data-gate][data-passed=no]")
    # Only the signature is left.
    assert failing.count() == 1
    assert failing.first.get_attribute("data-gate") == "travel_declaration"

    # The coordinator sends it to the signatories.
    coordinator = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    sign_in(coordinator, live_server, world.coordinator)
    coordinator.goto(detail)
    coordinator.click("[data-testid=status-buttons] button:has-text('Submit for approval')")
    coordinator.wait_for_load_state()
    assert "The status changed." in coordinator.content()

    # The Head of Finance signs M&E trips, not this PRI-related one.
    hof = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    sign_in(hof, live_server, trip["hof"])
    hof.goto(detail)
    hof.click("text=Sign the travel declaration")
    hof.wait_for_load_state()
    assert "Only the signatory for this kind of trip can sign it." in hof.content()
    # The Executive Director signs.
    director = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
    sign_in(director, live_server, trip["ed"])
    director.goto(detail)
    director.click("text=Sign the travel declaration")
    director.wait_for_load_state()
    assert "The travel declaration is signed." in director.content()

    # The coordinator: ready, active, and a leg whose first check-in is due in an hour.
    coordinator.goto(detail)
    assert coordinator.locator("[data-gate][data-passed=no]").count() == 0
    for button in ("Mark ready", "Activate"):
        coordinator.click(f"[data-testid=status-buttons] button:has-text('{button}')")
        coordinator.wait_for_load_state()
        assert "The status changed." in coordinator.content()
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.ACTIVE
    add_leg(coordinator, detail)
    first = deployment.expected_checkins.order_by("due_at").first()
    assert first is not None

    # The board: the next check-in, nothing missed yet.
    board = f"{live_server.url}/o/org-a/deployments/"
    coordinator.goto(board)
    row = coordinator.locator(f"tr[data-deployment='{deployment.pk}']")
    assert row.locator("[data-testid=missed-checkin]").count() == 0
    assert first.due_at.strftime("%Y-%m-%d %H:%M") in row.inner_text()

    # The clock moves past the deadline: the worker's sweep raises the missed check-in.
    assert checkins.sweep_missed(first.deadline + timedelta(seconds=1)) == 1
    alert = Alert.objects.get(kind=AlertKind.MISSED_CHECKIN)
    coordinator.goto(board)
    missed = row.locator("[data-testid=missed-checkin]")
    assert missed.inner_text().strip() == "Missed check-in"
    missed.locator("a").click()
    coordinator.wait_for_url(f"**/alerts/{alert.pk}/")
