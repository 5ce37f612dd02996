"""The deployment pages through the test client: the board, the new-deployment form, the
"what is left before I can go" list with each record's form, the approval queue and the
settings; a whole trip from creation to active, with the wrong signatory refused."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from amparo.core.models import AuditEntry
from amparo.people import actions as people_actions
from amparo.people.models import Role
from amparo.travel import actions, settings_actions
from amparo.travel.models import (
    CodeOfConduct,
    Deployment,
    DeploymentStatus,
    TravelDeclaration,
    TravelDocument,
    TravelSettings,
)
from conftest import Persona, World, make_persona
from tests.people.wording import set_language

DAY = timedelta(days=1)
FLIGHTS = "LA2491 Copenhague-Lima secreto"
RELATIVE = "Teodora Pariamanu-Secreta"


@pytest.fixture
def login(login: Any) -> Any:
    """The pages in English, as the assertions read them."""

    def _login(persona: Persona, c: Any = None) -> Any:
        set_language(persona, "en")
        return login(persona, c)

    return _login


def departure() -> date:
    return timezone.now().date() + 10 * DAY


@pytest.fixture
def signatories(world: World) -> dict[str, Persona]:
    ed = make_persona(world.org_a, Role.SIGNATORY, "director@a.example")
    hof = make_persona(world.org_a, Role.SIGNATORY, "finance@a.example")
    settings_actions.set_signatories(
        "test",
        world.org_a,
        executive_director=ed.user,
        head_of_finance=hof.user,
        other_trips_signed_by="executive_director",
    )
    settings_actions.write_code_of_conduct(
        "test", world.org_a, "No armas. Respeto a las comunidades."
    )
    return {"ed": ed, "hof": hof}


@pytest.fixture
def deployment(world: World) -> Deployment:
    return actions.create_deployment(
        "test",
        world.org_a,
        traveller=world.defender_person,
        trip_type="pri",
        starts_on=departure(),
        returns_on=departure() + 14 * DAY,
        destinations=[{"country": "PE", "region": "Madre de Dios", "advisory": "orange"}],
    )


def new_deployment_form(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "traveller": str(world.defender_person.pk),
        "trip_type": "pri",
        "starts_on": departure().isoformat(),
        "returns_on": (departure() + 14 * DAY).isoformat(),
        "purpose": "Acompañar la denuncia",
        "lead": "",
        "dest0_country": "PE",
        "dest0_region": "Madre de Dios",
        "dest0_places": "Puerto Arturo",
        "dest0_advisory": "orange",
        "dest0_reviewed_on": (departure() - 2 * DAY).isoformat(),
        "dest0_source": "um.dk",
        **extra,
    }


def records_forms(start: date) -> dict[str, dict[str, Any]]:
    before = (start - 5 * DAY).isoformat()
    kin: dict[str, str] = {}
    for i, name in enumerate([RELATIVE, "Julio Yumbato", "Rosa Curichimba"]):
        kin |= {
            f"kin{i}_name": name,
            f"kin{i}_relation": "familia",
            f"kin{i}_phone": f"+51 900 000 00{i}",
            f"kin{i}_email": "",
        }
    return {
        "declaration": {
            "international_flights": FLIGHTS,
            "domestic_flights": "",
            "no_domestic_flights": "on",
            "accommodation": "Hospedaje Tambopata",
            "partner_contacts": "FENAMAD +51 982 404 3318",
        },
        "next-of-kin": kin,
        "insurance": {
            "insurer": "Europæiske",
            "policy_number": "POL-1",
            "emergency_number": "+45 7033 2727",
            "medical": "on",
            "evacuation": "on",
            "repatriation": "on",
            "valid_from": (start - 30 * DAY).isoformat(),
            "valid_to": (start + 60 * DAY).isoformat(),
            "countries": "",
            "valid_orange_red": "on",
        },
        "health": {
            "vaccinations_required": "yellow fever",
            "vaccinations_done": "yellow fever",
            "health_check_on": before,
            "first_aid_on": before,
        },
        "training": {
            "training_on": before,
            "local_procedures_briefed_on": before,
            "ransom_policy_briefed_on": before,
        },
        "chain-of-command": {
            "chain0_role": "Reports to",
            "chain0_name": "Coordinadora",
            "chain0_phone": "+51 1",
            "chain1_role": "Decides in an emergency",
            "chain1_name": "Directora",
            "chain1_phone": "+45 1",
        },
        "necessity": {
            "strictly_necessary": "yes",
            "necessity_reason": "La audiencia es presencial.",
        },
        "registrations": {
            "embassy_registered": "on",
            "embassy_contact_saved": "on",
            "emergency_centre_contact_saved": "on",
        },
    }


def attach_programme(deployment: Deployment) -> None:
    # The annex upload page is not built yet; the record is what the gate reads.
    TravelDocument.objects.create(
        organisation_id=deployment.organisation_id,
        deployment=deployment,
        kind=TravelDocument.Kind.PROGRAMME,
        name="programa.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
        file_key="none",
        uploaded_at=timezone.now(),
    )


def test_it_renders_every_page_for_each_role(world, login, signatories, deployment):
    base = f"/o/org-a/deployments/{deployment.pk}/"
    coordinator = login(world.coordinator)
    for url in (
        "/o/org-a/deployments/",
        "/o/org-a/deployments/new/",
        "/o/org-a/deployments/approvals/",
        "/o/org-a/deployments/settings/",
        base,
    ):
        assert coordinator.get(url).status_code == 200, url
    board = coordinator.get("/o/org-a/deployments/").content.decode()
    assert "Rosa" in board and "gates failing" in board and "advisory-orange" in board
    traveller = login(world.defender)
    assert traveller.get("/o/org-a/deployments/").status_code == 200
    page = traveller.get(base).content.decode()
    assert "What is left before I can go" in page and "I accept" in page
    for url in ("/o/org-a/deployments/new/", "/o/org-a/deployments/settings/"):
        assert traveller.get(url).status_code == 404, url
    assert traveller.get("/o/org-a/deployments/approvals/").status_code == 404
    director = login(signatories["ed"])
    assert director.get("/o/org-a/deployments/approvals/").status_code == 200
    page = director.get(base).content.decode()
    assert "Sign the travel declaration" in page
    assert director.get("/o/org-a/deployments/settings/").status_code == 404
    # A supervisor is neither a manager, a signatory nor the traveller.
    supervisor = login(world.supervisor)
    assert supervisor.get(base).status_code == 404
    assert "Rosa" not in supervisor.get("/o/org-a/deployments/").content.decode()


def test_it_takes_a_trip_from_creation_to_active(world, login):
    coordinator = login(world.coordinator)
    ed = make_persona(world.org_a, Role.SIGNATORY, "director@a.example")
    hof = make_persona(world.org_a, Role.SIGNATORY, "finance@a.example")
    response = coordinator.post(
        "/o/org-a/deployments/settings/",
        {
            "form": "signatories",
            "executive_director": str(ed.user.pk),
            "head_of_finance": str(hof.user.pk),
            "other_trips_signed_by": "executive_director",
        },
    )
    assert response.status_code == 302
    assert TravelSettings.objects.get(organisation=world.org_a).executive_director == ed.user
    response = coordinator.post(
        "/o/org-a/deployments/settings/", {"form": "code", "text": "Respeto a las comunidades."}
    )
    assert response.status_code == 302
    assert CodeOfConduct.objects.get(organisation=world.org_a).version == 1

    response = coordinator.post("/o/org-a/deployments/new/", new_deployment_form(world))
    assert response.status_code == 302, response.content.decode()[:2000]
    deployment = Deployment.objects.get(organisation=world.org_a)
    base = f"/o/org-a/deployments/{deployment.pk}/"
    assert response.url == base

    traveller = login(world.defender)
    for record, form in records_forms(deployment.starts_on).items():
        response = traveller.post(base + f"{record}/", form)
        assert response.status_code == 302, (record, response.content.decode()[:3000])
    attach_programme(deployment)
    assert traveller.post(base + "accept-code/").status_code == 302
    page = traveller.get(base).content.decode()
    assert FLIGHTS in page and RELATIVE in page

    assert coordinator.post(base + "status/", {"status": "awaiting_approval"}).status_code == 302
    assert deployment.pk in {
        r.pk for r in Deployment.objects.filter(status=DeploymentStatus.AWAITING_APPROVAL)
    }
    queue = login(hof).get("/o/org-a/deployments/approvals/").content.decode()
    assert "Rosa" in queue

    wrong = login(hof).post(base + "sign/")
    assert wrong.status_code == 400
    assert "Only the signatory for this kind of trip can sign it." in wrong.content.decode()
    assert TravelDeclaration.objects.get(deployment=deployment).signed_at is None

    assert login(ed).post(base + "sign/").status_code == 302
    assert TravelDeclaration.objects.get(deployment=deployment).signed_as == "executive_director"
    assert actions.blocking(deployment) == []

    assert coordinator.post(base + "status/", {"status": "ready"}).status_code == 302
    assert coordinator.post(base + "status/", {"status": "active"}).status_code == 302
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.ACTIVE
    board = coordinator.get("/o/org-a/deployments/").content.decode()
    assert "Active" in board
    assert AuditEntry.objects.filter(action="travel.signatories_set").exists()
    assert AuditEntry.objects.filter(action="deployment.declaration_signed").exists()


def test_it_names_the_failing_gates_when_a_status_change_is_refused(
    world, login, signatories, deployment
):
    c = login(world.coordinator)
    base = f"/o/org-a/deployments/{deployment.pk}/"
    assert c.post(base + "status/", {"status": "awaiting_approval"}).status_code == 302
    response = c.post(base + "status/", {"status": "ready"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Gates still failing:" in text
    assert "Next-of-kin declaration" in text or "next of kin" in text.lower()
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.AWAITING_APPROVAL


def test_it_shows_a_records_validation_errors_in_its_form(world, login, deployment):
    c = login(world.defender)
    base = f"/o/org-a/deployments/{deployment.pk}/"
    form = records_forms(deployment.starts_on)["insurance"]
    form["valid_to"] = (deployment.starts_on - 60 * DAY).isoformat()
    response = c.post(base + "insurance/", form)
    assert response.status_code == 400
    assert "The policy ends before it starts." in response.content.decode()


def test_it_lets_a_signatory_grant_an_exception_with_a_reason(
    world, login, signatories, deployment
):
    c = login(signatories["hof"])
    base = f"/o/org-a/deployments/{deployment.pk}/"
    short = c.post(base + "exception/", {"gate": "health", "reason": "no"})
    assert short.status_code == 400
    assert "Write why the trip may go without it." in short.content.decode()
    reason = "Vacunación imposible antes de la salida; se vacuna en Lima."
    assert c.post(base + "exception/", {"gate": "health", "reason": reason}).status_code == 302
    page = login(world.coordinator).get(base).content.decode()
    assert reason in page and "finance@a.example" in page
    # The coordinator is not a signatory: the exception form is not theirs.
    assert (
        login(world.coordinator)
        .post(base + "exception/", {"gate": "training", "reason": reason})
        .status_code
        == 404
    )


def test_it_keeps_the_code_of_conduct_button_for_the_traveller(
    world, login, signatories, deployment
):
    c = login(world.coordinator)
    base = f"/o/org-a/deployments/{deployment.pk}/"
    assert "I accept" not in c.get(base).content.decode()
    response = c.post(base + "accept-code/")
    assert response.status_code == 400
    assert "Only the traveller accepts the code of conduct." in response.content.decode()


def test_it_refuses_a_signatory_who_is_not_a_member(world, login):
    outsider = people_actions.create_user("test", email="out@b.example", password="x" * 20)
    c = login(world.coordinator)
    response = c.post(
        "/o/org-a/deployments/settings/",
        {
            "form": "signatories",
            "executive_director": str(outsider.pk),
            "head_of_finance": "",
            "other_trips_signed_by": "executive_director",
        },
    )
    assert response.status_code == 200
    assert not TravelSettings.objects.filter(executive_director=outsider).exists()
