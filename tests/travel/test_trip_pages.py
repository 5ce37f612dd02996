"""The traveller's pages around the trip (travel.trip_views): the itinerary with its
expected check-ins, the PINs, the web check-in (a duress check-in looks exactly like a
normal one), the lost-communications plan, proof of life (answers only through the
justified, audited read) and the annexes in the evidence vault."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from amparo.alerts.models import Alert, AlertKind, OutboxMessage, Severity
from amparo.core.models import AuditEntry
from amparo.people import actions as people_actions
from amparo.travel import actions, checkins, documents
from amparo.travel.models import (
    CheckIn,
    Deployment,
    DeploymentStatus,
    ExpectedCheckIn,
    ExpectedState,
    Leg,
    LostCommsPlan,
    ProofOfLife,
    TravelDocument,
    TravellerPins,
)
from tests.people.org_pages import without_csrf
from tests.people.wording import set_language
from tests.travel.test_pages import login as login  # noqa: F401  (the English pages)
from tests.travel.test_pages import signatories as signatories  # noqa: F401

# Lima is UTC-5 all year: 07:00 local is 12:00 UTC.
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LIMA_START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)  # 08:00 in Lima
PIN = "73190582"
DURESS = "46285517"
PLACE = "Albergue Tambopata-Secreto"
ANSWER = "Pachacútec-el-perro-azul"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n" * 40
frozen = time_machine.travel(NOW, tick=False)


@pytest.fixture(autouse=True)
def vault_dir(settings: Any, tmp_path: Path) -> Path:
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


@pytest.fixture
def lead(world: Any) -> Any:
    return people_actions.create_person(
        "test", world.org_a, given_names="Lead", phone_numbers=["+51982000777"]
    )


@pytest.fixture
def deployment(world: Any, lead: Any) -> Deployment:
    return Deployment.objects.create(
        organisation=world.org_a,
        traveller=world.defender_person,
        lead=lead,
        trip_type="other",
        starts_on=date(2026, 3, 1),
        returns_on=date(2026, 3, 20),
        status=DeploymentStatus.ACTIVE,
    )


def lead_told() -> int:
    """The designated lead's messages about the itinerary (travel.checkins._tell_lead)."""
    return OutboxMessage.objects.filter(idempotency_key__contains=":itinerary:").count()


def base(deployment: Deployment) -> str:
    return f"/o/org-a/deployments/{deployment.pk}/"


def lima_leg(actor: Any, deployment: Deployment) -> Leg:
    return checkins.add_leg(
        actor,
        deployment,
        place=PLACE,
        country="PE",
        region="Madre de Dios",
        time_zone="America/Lima",
        starts_at=LIMA_START,
        ends_at=LIMA_START + timedelta(days=3),
    )


def leg_form(**extra: Any) -> dict[str, Any]:
    return {
        "place": PLACE,
        "country": "pe",
        "region": "Madre de Dios",
        "time_zone": "America/Lima",
        "starts_local": "2026-03-01T08:00",
        "ends_local": "2026-03-04T08:00",
        "checkin_every_hours": "24",
        "grace_minutes": "60",
        **extra,
    }


def pdf_upload(name: str = "programa-Tambopata.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


# The itinerary


@frozen
def test_it_adds_changes_and_removes_legs_in_local_time(world, login, deployment):
    c = login(world.defender)
    page = c.get(base(deployment) + "legs/")
    assert page.status_code == 200
    assert b'data-testid="leg-form"' in page.content
    assert b'type="datetime-local"' in page.content
    assert b'<option value="America/Lima">' in page.content

    response = c.post(base(deployment) + "legs/", leg_form())
    assert response.status_code == 302
    leg = Leg.objects.get(deployment=deployment)
    assert (leg.starts_at, leg.ends_at) == (LIMA_START, LIMA_START + timedelta(days=3))
    assert (leg.country, leg.place) == ("PE", PLACE)
    # Active: the expected check-ins follow, and the designated lead is told.
    assert ExpectedCheckIn.objects.filter(deployment=deployment).count() == 3
    assert lead_told() == 1
    page = c.get(base(deployment) + "legs/").content.decode()
    assert PLACE in page
    assert "2026-03-01 08:00" in page and "2026-03-02 09:00" in page  # due, and deadline
    assert "America/Lima" in page

    # The coordinator changes it: the form shows the leg's own wall clock.
    coordinator = login(world.coordinator)
    url = base(deployment) + f"legs/{leg.pk}/"
    assert 'value="2026-03-01T08:00"' in coordinator.get(url).content.decode()
    response = coordinator.post(url, leg_form(ends_local="2026-03-03T08:00", grace_minutes="30"))
    assert response.status_code == 302
    leg.refresh_from_db()
    assert leg.ends_at == LIMA_START + timedelta(days=2) and leg.grace_minutes == 30
    assert ExpectedCheckIn.objects.filter(deployment=deployment).count() == 2
    assert lead_told() == 2

    response = c.post(base(deployment) + f"legs/{leg.pk}/remove/")
    assert response.status_code == 302
    assert not Leg.objects.filter(deployment=deployment).exists()
    assert not ExpectedCheckIn.objects.filter(deployment=deployment).exists()
    assert lead_told() == 3
    assert c.get(base(deployment) + f"legs/{leg.pk}/remove/").status_code == 405


@frozen
def test_it_refuses_a_time_the_clocks_skip_and_a_leg_ending_first(world, login, deployment):
    c = login(world.defender)
    # Copenhagen goes from 02:00 to 03:00 on 29 March 2026.
    skipped = c.post(
        base(deployment) + "legs/",
        leg_form(time_zone="Europe/Copenhagen", starts_local="2026-03-29T02:30"),
    )
    assert skipped.status_code == 400
    assert b"That time does not exist there" in skipped.content
    backwards = c.post(base(deployment) + "legs/", leg_form(ends_local="2026-02-28T08:00"))
    assert backwards.status_code == 400
    assert b"A leg ends after it starts." in backwards.content
    assert not Leg.objects.exists()


@frozen
def test_it_shows_the_itinerary_read_only_to_a_signatory(world, login, signatories, deployment):  # noqa: F811
    lima_leg(world.coordinator.user, deployment)
    c = login(signatories["ed"])
    page = c.get(base(deployment) + "legs/")
    assert page.status_code == 200
    assert PLACE.encode() in page.content
    assert b'data-testid="leg-form"' not in page.content
    assert c.post(base(deployment) + "legs/", leg_form()).status_code == 404
    assert Leg.objects.count() == 1


# PINs


def test_it_lets_the_traveller_set_pins_that_are_never_shown(world, login, deployment):
    c = login(world.defender)
    page = c.get(base(deployment) + "pins/")
    assert page.status_code == 200
    assert b"duress PIN" in page.content and b"silently" in page.content
    form = {
        "checkin_pin": PIN,
        "checkin_pin_again": PIN,
        "duress_pin": DURESS,
        "duress_pin_again": DURESS,
    }
    response = c.post(base(deployment) + "pins/", form)
    assert response.status_code == 302
    pins = TravellerPins.objects.get(person=world.defender_person)
    assert checkins.pin_matches(PIN, pins.checkin_pin)
    assert checkins.pin_matches(DURESS, pins.duress_pin)
    after = c.get(response.url).content
    assert b"Your PINs are saved." in after and b"last changed" in after
    # Never rendered back, neither after saving nor on a refused form.
    refused = c.post(base(deployment) + "pins/", form | {"duress_pin": PIN})
    assert refused.status_code == 400
    for content in (after, refused.content):
        assert PIN.encode() not in content and DURESS.encode() not in content


def test_it_refuses_mismatched_pins(world, login, deployment):
    c = login(world.defender)
    response = c.post(
        base(deployment) + "pins/",
        {"checkin_pin": PIN, "checkin_pin_again": "00000000", "duress_pin": ""},
    )
    assert response.status_code == 400
    assert b"The two check-in PINs differ." in response.content
    assert not TravellerPins.objects.exists()


def test_it_keeps_the_pins_page_from_anyone_but_the_traveller(world, login, deployment):
    for persona in (world.coordinator, world.supervisor):
        c = login(persona)
        assert c.get(base(deployment) + "pins/").status_code == 404
        assert (
            c.post(base(deployment) + "pins/", {"checkin_pin": PIN, "checkin_pin_again": PIN})
        ).status_code == 404
    assert not TravellerPins.objects.exists()


# Check-in


@frozen
def test_it_records_a_web_checkin(world, login, deployment):
    lima_leg(world.coordinator.user, deployment)
    c = login(world.defender)
    page = c.get(base(deployment) + "check-in/")
    assert page.status_code == 200
    assert b"Next check-in due at 2026-03-01 08:00 (America/Lima)" in page.content
    assert "no-store" in page["Cache-Control"]
    response = c.post(
        base(deployment) + "check-in/", {"note": "Todo bien", "lat": "-12.6", "lon": "-69.2"}
    )
    assert response.status_code == 302
    checkin = CheckIn.objects.get(deployment=deployment)
    assert (checkin.via, checkin.note, checkin.location) == (
        "web",
        "Todo bien",
        {"lat": -12.6, "lon": -69.2},
    )
    # 07:00 in Lima is within the grace before the 08:00 check-in: it answers it.
    assert checkin.expected is not None
    assert ExpectedCheckIn.objects.get(pk=checkin.expected_id).state == ExpectedState.CHECKED_IN
    page = c.get(response.url).content.decode()
    assert "Your check-in is recorded. Thank you." in page
    assert "Todo bien" in page


@frozen
def test_it_answers_a_wrong_pin_clearly(world, login, deployment):
    checkins.set_pins(world.defender.user, world.defender_person, PIN, DURESS)
    c = login(world.defender)
    response = c.post(base(deployment) + "check-in/", {"pin": "11112222"})
    assert response.status_code == 400
    assert b"That PIN is not right." in response.content
    assert b"11112222" not in response.content
    assert not CheckIn.objects.exists()
    assert not Alert.objects.exists()


@frozen
def test_it_refuses_a_checkin_to_a_trip_that_is_not_active(world, login, deployment):
    Deployment.objects.filter(pk=deployment.pk).update(status=DeploymentStatus.READY)
    c = login(world.defender)
    page = c.get(base(deployment) + "check-in/")
    assert b'data-testid="not-active"' in page.content
    assert b'data-testid="checkin-form"' not in page.content
    response = c.post(base(deployment) + "check-in/", {"note": "hola"})
    assert response.status_code == 400
    assert b"This trip is not active." in response.content
    assert not CheckIn.objects.exists()


def _check_in_and_look(c: Any, deployment: Deployment, pin: str) -> dict[str, Any]:
    posted = c.post(base(deployment) + "check-in/", {"note": "Todo bien", "pin": pin})
    followed = c.get(posted.url)
    return {
        "status": posted.status_code,
        "location": posted.url,
        "messages_cookie": posted.cookies["messages"].value if "messages" in posted.cookies else "",
        "body": posted.content,
        "page": without_csrf(followed.content),
    }


@frozen
def test_it_makes_a_duress_checkin_look_exactly_like_a_normal_one(world, login, deployment):
    """DESIGN.md section 7: the duress PIN "opens a harmless view and silently raises a
    high alert". The same redirect, the same message, the same page after it."""
    lima_leg(world.coordinator.user, deployment)
    checkins.set_pins(world.defender.user, world.defender_person, PIN, DURESS)
    c = login(world.defender)
    normal = _check_in_and_look(c, deployment, PIN)
    assert not Alert.objects.filter(kind=AlertKind.DURESS).exists()
    assert b"Your check-in is recorded. Thank you." in normal["page"]
    # Put the trip back as it was, then check in under duress at the same instant.
    CheckIn.objects.all().delete()
    ExpectedCheckIn.objects.filter(deployment=deployment).update(
        state=ExpectedState.PENDING, checked_in_at=None
    )
    duress = _check_in_and_look(c, deployment, DURESS)
    assert duress == normal
    alert = Alert.objects.get(kind=AlertKind.DURESS)
    assert alert.severity == Severity.HIGH
    assert alert.person_id == world.defender_person.pk
    assert b"duress" not in duress["page"].lower()


def test_it_keeps_the_checkin_page_from_anyone_but_the_traveller(world, login, deployment):
    for persona in (world.coordinator, world.supervisor, world.coordinator_b):
        c = login(persona)
        assert c.get(base(deployment) + "check-in/").status_code == 404
        assert c.post(base(deployment) + "check-in/", {"note": "x"}).status_code == 404
    assert not CheckIn.objects.exists()


# The lost-communications plan


def test_it_saves_the_plan_and_shows_it_to_a_signatory(world, login, signatories, deployment):  # noqa: F811
    c = login(world.defender)
    assert c.get(base(deployment) + "lost-comms/").status_code == 200
    plan = {
        "traveller_will": "Ir al puesto de control de Laberinto y llamar desde allí.",
        "organisation_should": "Esperar 12 horas, luego llamar a la embajada.",
    }
    assert c.post(base(deployment) + "lost-comms/", plan).status_code == 302
    saved = LostCommsPlan.objects.get(deployment=deployment)
    assert saved.traveller_will == plan["traveller_will"]
    assert AuditEntry.objects.filter(action="deployment.lost_comms_plan_saved").count() == 1
    ed = login(signatories["ed"])
    page = ed.get(base(deployment) + "lost-comms/").content.decode()
    assert "puesto de control de Laberinto" in page
    assert 'data-testid="lost-comms-form"' not in page
    assert ed.post(base(deployment) + "lost-comms/", plan).status_code == 404
    # A manager may write it too.
    coordinator = login(world.coordinator)
    changed = plan | {"organisation_should": "Llamar al Centro Global de Emergencias."}
    assert coordinator.post(base(deployment) + "lost-comms/", changed).status_code == 302
    saved.refresh_from_db()
    assert saved.organisation_should == "Llamar al Centro Global de Emergencias."


def test_it_refuses_an_empty_plan(world, login, deployment):
    c = login(world.defender)
    response = c.post(
        base(deployment) + "lost-comms/", {"traveller_will": " ", "organisation_should": ""}
    )
    assert response.status_code == 400
    assert not LostCommsPlan.objects.exists()


# Proof of life


PROOF_FORM = {
    "q0_question": "¿Cómo se llamaba el perro de la abuela?",
    "q0_answer": ANSWER,
    "q1_question": "¿Qué había en la puerta azul?",
    "q1_answer": "Una-campana-de-cobre",
}


def test_it_never_shows_proof_of_life_answers_without_a_justified_read(
    world,
    login,
    signatories,
    deployment,  # noqa: F811
):
    c = login(world.defender)
    assert c.get(base(deployment) + "proof-of-life/").status_code == 200
    assert c.post(base(deployment) + "proof-of-life/", PROOF_FORM).status_code == 302
    assert len(ProofOfLife.objects.get(deployment=deployment).questions) == 2
    own = c.get(base(deployment) + "proof-of-life/").content.decode()
    assert "perro de la abuela" in own  # the traveller sees their questions
    assert ANSWER not in own and "Una-campana-de-cobre" not in own

    coordinator = login(world.coordinator)
    page = coordinator.get(base(deployment) + "proof-of-life/").content.decode()
    assert "2 questions are set" in page
    assert ANSWER not in page and "perro de la abuela" not in page
    read = base(deployment) + "proof-of-life/read/"
    short = coordinator.post(read, {"justification": "porque"})
    assert short.status_code == 400
    assert ANSWER.encode() not in short.content
    assert not AuditEntry.objects.filter(action="deployment.proof_of_life_read").exists()

    reason = "Secuestro confirmado; los negociadores piden la prueba."
    response = coordinator.post(read, {"justification": reason})
    assert response.status_code == 200
    assert ANSWER in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action="deployment.proof_of_life_read")
    assert entry.details["justification"] == reason
    # Once: the page after it shows them no more.
    assert ANSWER not in coordinator.get(base(deployment) + "proof-of-life/").content.decode()
    assert coordinator.get(read).status_code == 405

    # Not a crisis role: the same 404 as a missing page, nothing read.
    ed = login(signatories["ed"])
    assert ed.get(base(deployment) + "proof-of-life/").status_code == 404
    assert ed.post(read, {"justification": reason}).status_code == 404
    # Only the traveller sets them.
    assert coordinator.post(base(deployment) + "proof-of-life/", PROOF_FORM).status_code == 404
    assert AuditEntry.objects.filter(action="deployment.proof_of_life_read").count() == 1


def test_it_asks_for_the_answer_of_every_question(world, login, deployment):
    c = login(world.defender)
    response = c.post(base(deployment) + "proof-of-life/", {"q0_question": "¿Color?"})
    assert response.status_code == 400
    assert b"Write the answer to this question." in response.content
    assert not ProofOfLife.objects.exists()


# The annexes


def test_it_stores_the_programme_annex_and_the_gate_passes(world, login, signatories):  # noqa: F811
    deployment = actions.create_deployment(
        "test",
        world.org_a,
        traveller=world.defender_person,
        trip_type="pri",
        starts_on=timezone.now().date() + timedelta(days=10),
        returns_on=timezone.now().date() + timedelta(days=20),
        destinations=[{"country": "PE"}],
    )
    actions.save_declaration("test", deployment, international_flights="LA2491")
    assert actions.facts_of(deployment).declaration.programme_annex is False
    c = login(world.defender)
    page = c.get(base(deployment) + "documents/")
    assert b'enctype="multipart/form-data"' in page.content
    response = c.post(base(deployment) + "documents/", {"kind": "programme", "file": pdf_upload()})
    assert response.status_code == 302
    document = TravelDocument.objects.get(deployment=deployment)
    assert (document.kind, document.name, document.size) == (
        "programme",
        "programa-Tambopata.pdf",
        len(PDF),
    )
    assert document.content_type == "application/pdf"
    assert actions.facts_of(deployment).declaration.programme_annex is True
    declaration_gate = next(
        g for g, _e in actions.gate_report(deployment) if g.code == "travel_declaration"
    )
    assert "The travel programme is not attached." not in [str(r) for r in declaration_gate.reasons]
    # The name is in no audit entry (it may say where the traveller goes).
    entry = AuditEntry.objects.get(action="deployment.document_attached")
    assert "Tambopata" not in str(entry.details)
    assert entry.details["sha256"] == document.sha256

    # The file round-trips to a reader of the deployment, as an attachment.
    ed = login(signatories["ed"])
    listing = ed.get(base(deployment) + "documents/").content.decode()
    assert "programa-Tambopata.pdf" in listing and 'data-testid="document-form"' not in listing
    download = ed.get(base(deployment) + f"documents/{document.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(action="deployment.document_downloaded").count() == 1
    # Signatories read, they do not upload.
    assert (
        ed.post(base(deployment) + "documents/", {"kind": "programme", "file": pdf_upload()})
    ).status_code == 404


def test_it_seals_the_annex_at_rest(world, deployment, vault_dir):
    document = documents.attach_document(
        world.coordinator.user, deployment, "security_assessment", pdf_upload()
    )
    blobs = list(vault_dir.rglob("*"))
    files = [p for p in blobs if p.is_file()]
    assert [p.name for p in files] == [f"{document.pk}.bin"]
    assert b"%PDF" not in files[0].read_bytes()
    assert b"".join(documents.read_document("test", document)) == PDF


def test_it_refuses_a_file_that_is_not_a_pdf_or_photo(world, login, deployment, vault_dir):
    c = login(world.defender)
    archive = SimpleUploadedFile("programa.docx", b"PK\x03\x04" + b"\x00" * 60)
    response = c.post(base(deployment) + "documents/", {"kind": "programme", "file": archive})
    assert response.status_code == 400
    assert b"The file was not accepted" in response.content
    assert not TravelDocument.objects.exists()
    assert not [p for p in vault_dir.rglob("*") if p.is_file()]
    assert not AuditEntry.objects.filter(action="deployment.document_attached").exists()


@frozen
def test_it_renders_every_trip_page_in_spanish(world, login, deployment):
    leg = lima_leg(world.coordinator.user, deployment)
    checkins.set_proof_of_life(
        world.defender.user, deployment, [{"question": "¿Color?", "answer": ANSWER}]
    )
    document = documents.attach_document(world.defender.user, deployment, "programme", pdf_upload())
    for persona, pages in (
        (world.defender, ("legs/", "pins/", "check-in/", "lost-comms/", "proof-of-life/")),
        (world.coordinator, ("legs/", f"legs/{leg.pk}/", "proof-of-life/", "documents/")),
    ):
        c = login(persona)
        set_language(persona, "es")
        for page in pages:
            response = c.get(base(deployment) + page)
            assert response.status_code == 200, page
            assert b'lang="es"' in response.content, page
        assert c.get(base(deployment) + f"documents/{document.pk}/").status_code == 200
    assert c.get(base(deployment)).status_code == 200  # the deployment page's links


def test_it_links_the_trip_pages_from_the_deployment_page(world, login, deployment):
    traveller, coordinator = (
        login(persona).get(base(deployment)).content.decode()
        for persona in (world.defender, world.coordinator)
    )
    for page in ("check-in/", "pins/", "legs/", "documents/", "lost-comms/", "proof-of-life/"):
        assert f'href="{base(deployment)}{page}"' in traveller, page
    for page in ("legs/", "documents/", "lost-comms/", "proof-of-life/"):
        assert f'href="{base(deployment)}{page}"' in coordinator, page
    for page in ("check-in/", "pins/"):
        assert f'href="{base(deployment)}{page}"' not in coordinator, page
