"""Threat report pages (issue 4, points 2, 3, 4 and 8): the report form for members and
the anonymous one with real uploads into the vault, the receipt status page, the case list
and the case view with its checklist, evidence, level and status. Real database, real
files in a scratch evidence store."""

from __future__ import annotations

import hashlib
import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from amparo.core.models import AuditEntry
from amparo.incidents import actions, checklist, vault
from amparo.incidents.models import (
    ChecklistItem,
    CustodyEvent,
    EvidenceFile,
    ItemStatus,
    Level,
    Source,
    Status,
    ThreatReport,
)
from amparo.people import actions as people_actions
from amparo.people.models import Role
from conftest import PASSWORD, make_persona, supervise
from tests.people.org_pages import random_id, without_csrf

# Step 1 answers that make a medium threat: the source is linked to illegal mining and
# knows the defender's work (DESIGN.md section 5).
MEDIUM = {
    "physical_violence": "no",
    "attempted_assault": "no",
    "imminent_harm_signs": ["none"],
    "source_illicit_activity": "illegal_mining",
    "shows_knowledge_of_work": "yes",
    "source_known": "unknown",
}
RECORD = {
    "occurred_date": "2025-03-01",
    "occurred_time": "18:30",
    "place": "Trocha a Boca Colorado, km 12",
    "region": "Madre de Dios",
    "community": "Comunidad Nativa Tres Islas",
    "perpetrator_description": "Dos hombres en moto, uno con gorra roja",
    "channel": "in_person",
    "verbatim": "Deja de denunciar a los mineros o te vamos a desaparecer",
}
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"


def jpeg_bytes(side: int = 48) -> bytes:
    """A real JPEG photo (noise, so it does not compress to nothing)."""
    from PIL import Image

    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def form_data(**overrides) -> dict:
    data = {**MEDIUM, **RECORD}
    data.update(overrides)
    return data


def file_report(world, *, actor=None, person=None, level_answers=None, language="es", **fields):
    """A report filed through the action, as another channel would."""
    data = {
        "physical_violence": False,
        "attempted_assault": False,
        "imminent_harm_signs": [],
        "source_illicit_activity": "illegal_mining",
        "shows_knowledge_of_work": True,
        "source_known": False,
        "verbatim": "Te tenemos vigilada",
        "region": "Madre de Dios",
        "channel": "phone_call",
        "language": language,
    }
    data.update(level_answers or {})
    data.update(fields)
    return actions.report_threat(
        actor or world.coordinator.user,
        world.org_a,
        data,
        source=Source.WEB,
        person=person,
    ).report


def file_with_photo(world, person=None, photo: bytes | None = None):
    photo = photo or jpeg_bytes()
    staged = vault.stage_stream(world.org_a.pk, "foto amenaza.jpg", iter([photo]))
    receipt = actions.report_threat(
        world.focal_point.user,
        world.org_a,
        {**{k: None for k in MEDIUM}, "verbatim": "Foto del mensaje", "language": "es"},
        source=Source.WEB,
        person=person,
        evidence=[staged],
    )
    return receipt.report, photo


def stored_files(organisation) -> list[Path]:
    folder = vault.blob_path(organisation.pk, "x").parent
    return sorted(folder.glob("*")) if folder.exists() else []


@pytest.fixture(autouse=True)
def evidence_store(settings, tmp_path: Path) -> Path:
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


# The report form, for each role


@pytest.mark.parametrize("role", ["defender", "focal_point", "coordinator", "supervisor"])
def test_it_renders_the_report_form_for_each_member(world, login, role):
    c = login(getattr(world, role))
    page = c.get("/o/org-a/threats/new/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'enctype="multipart/form-data"' in text
    assert 'name="evidence"' in text and "multiple" in text
    for question in MEDIUM:
        assert f'name="{question}"' in text
    # Only those who may report for someone else choose the person.
    assert ('name="person"' in text) == (role != "defender")
    assert "Rosa Huamán" not in text if role == "defender" else "Rosa Huamán" in text


def test_it_files_a_defenders_report_about_themselves(world, login):
    c = login(world.defender)
    page = c.post("/o/org-a/threats/new/", form_data())
    assert page.status_code == 200
    report = ThreatReport.objects.get()
    assert report.person == world.defender_person
    assert report.reported_by == world.defender.user
    assert report.source == Source.WEB
    assert report.level == Level.MEDIUM
    assert report.answers["source_illicit_activity"] == "illegal_mining"
    assert report.answers["shows_knowledge_of_work"] is True
    assert report.answers["source_known"] is None  # "I do not know" is unanswered
    assert report.answers["imminent_harm_signs"] == []
    assert report.verbatim == RECORD["verbatim"]
    assert report.channel == "in_person"
    # 18:30 in Lima is 23:30 UTC.
    assert report.occurred_at.isoformat() == "2025-03-01T23:30:00+00:00"
    text = page.content.decode()
    assert report.receipt in text
    assert f'href="/o/org-a/threats/{report.pk}/"' in text


def test_it_lets_a_focal_point_report_for_someone_else(world, login):
    zoila = people_actions.create_person("test", world.org_a, given_names="Zoila")
    c = login(world.focal_point)
    page = c.post("/o/org-a/threats/new/", form_data(person=str(zoila.pk)))
    assert page.status_code == 200
    report = ThreatReport.objects.get()
    assert report.person == zoila
    assert report.reported_by == world.focal_point.user


def test_it_refuses_a_person_of_another_organisation(world, login):
    stranger = people_actions.create_person("test", world.org_b, given_names="Ajena")
    c = login(world.focal_point)
    response = c.post("/o/org-a/threats/new/", form_data(person=str(stranger.pk)))
    # Not among the choices: the form refuses it before any lookup.
    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert not ThreatReport.objects.exists()


def test_it_ignores_a_person_field_from_a_defender(world, login):
    zoila = people_actions.create_person("test", world.org_a, given_names="Zoila")
    c = login(world.defender)
    c.post("/o/org-a/threats/new/", form_data(person=str(zoila.pk)))
    assert ThreatReport.objects.get().person == world.defender_person


def test_it_shows_what_is_wrong_and_keeps_no_file(world, login, evidence_store):
    c = login(world.defender)
    response = c.post(
        "/o/org-a/threats/new/",
        form_data(lat="-12.6", lon="", evidence=upload("foto.jpg", jpeg_bytes())),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["lat"]
    assert not ThreatReport.objects.exists()
    assert stored_files(world.org_a) == []


def test_it_asks_for_words_or_evidence(world, login):
    c = login(world.defender)
    response = c.post("/o/org-a/threats/new/", form_data(verbatim="", perpetrator_description=""))
    assert response.status_code == 200
    assert response.context["form"].errors["verbatim"]
    assert not ThreatReport.objects.exists()


def test_it_refuses_a_date_in_the_future(world, login):
    c = login(world.defender)
    response = c.post("/o/org-a/threats/new/", form_data(occurred_date="2999-01-01"))
    assert response.context["form"].errors["occurred_date"]
    assert not ThreatReport.objects.exists()


# The anonymous form, end to end


def test_it_takes_an_anonymous_report_with_a_photo_end_to_end(world, evidence_store):
    anonymous = Client()
    page = anonymous.get("/report/org-a/")
    assert page.status_code == 200
    assert "Federación A" in page.content.decode()
    assert 'name="person"' not in page.content.decode()
    photo = jpeg_bytes()
    response = anonymous.post(
        "/report/org-a/",
        form_data(
            evidence=[
                upload("foto.jpg", photo, "image/jpeg"),
                upload("pruebas.zip", ZIP, "application/zip"),
                upload("video.exe", EXE, "video/mp4"),  # the browser's word counts for nothing
            ]
        ),
    )
    assert response.status_code == 200
    report = ThreatReport.objects.get()
    assert report.source == Source.ANONYMOUS
    assert report.reported_by is None
    assert report.person is None
    assert report.level == Level.MEDIUM
    text = response.content.decode()
    assert report.receipt in text
    assert re.search(r'data-testid="receipt">[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}<', text)
    # The explanation in plain words, and the guidance of a medium threat.
    assert response.context["explanation"] == actions.Receipt(report).explanation()
    with translation.override(report.language):
        for item in checklist.items_for(Level.MEDIUM):
            assert str(item.title) in text
    # The photo is in the vault, hashed; the others are named with the reason.
    evidence = EvidenceFile.objects.get()
    assert evidence.report == report
    assert evidence.sha256 == hashlib.sha256(photo).hexdigest()
    assert evidence.content_type == "image/jpeg"
    assert evidence.name == "foto.jpg"
    refused = dict(response.context["receipt"].refused_files)
    assert set(refused) == {"pruebas.zip", "video.exe"}
    assert all(refused.values())
    assert "pruebas.zip" in text and "video.exe" in text
    assert 'data-testid="refused-files"' in text
    # Only the photo's sealed blob is left in the store, and it is not the plaintext.
    files = stored_files(world.org_a)
    assert [f.name for f in files] == [f"{evidence.pk}.bin"]
    assert photo[:64] not in files[0].read_bytes()
    # The status page answers for the receipt.
    status = anonymous.post("/report/status/", {"code": report.receipt.lower()})
    assert status.context["found"]["receipt"] == report.receipt


def test_it_keeps_the_report_when_a_file_is_over_the_limit(world, settings):
    settings.AMPARO_EVIDENCE_MAX_BYTES = 1024
    big = jpeg_bytes(side=64)
    assert len(big) > 1024
    response = Client().post(
        "/report/org-a/", form_data(evidence=upload("grande.jpg", big, "image/jpeg"))
    )
    assert response.status_code == 200
    report = ThreatReport.objects.get()
    assert report.verbatim == RECORD["verbatim"]
    assert not EvidenceFile.objects.exists()
    ((name, why),) = response.context["receipt"].refused_files
    assert name == "grande.jpg"
    assert why in response.content.decode()
    assert stored_files(world.org_a) == []


def test_it_keeps_a_report_whose_only_file_was_refused(world):
    response = Client().post(
        "/report/org-a/",
        form_data(verbatim="", perpetrator_description="", evidence=upload("x.zip", ZIP)),
    )
    assert response.status_code == 200
    assert ThreatReport.objects.count() == 1
    assert response.context["receipt"].refused_files[0][0] == "x.zip"


def test_it_stores_no_ip_address_anywhere(world):
    address, forwarded = "203.0.113.77", "198.51.100.9"
    response = Client(REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=forwarded).post(
        "/report/org-a/", form_data(evidence=upload("foto.jpg", jpeg_bytes()))
    )
    assert response.status_code == 200
    report = ThreatReport.objects.get()
    entry = AuditEntry.objects.get(action="threat.reported", object_id=str(report.pk))
    assert entry.actor == "anonymous"
    # Every row of every table, decrypted fields included.
    for model in apps.get_models():
        for row in model.objects.values():
            text = str(row)
            assert address not in text, model
            assert forwarded not in text, model
    # No session either: the visitor leaves nothing but the report.
    assert "sessionid" not in response.cookies


def test_it_refuses_an_anonymous_post_without_csrf_and_keeps_no_file(world):
    c = Client(enforce_csrf_checks=True)
    response = c.post("/report/org-a/", form_data(evidence=upload("foto.jpg", jpeg_bytes())))
    assert response.status_code == 403
    assert not ThreatReport.objects.exists()
    assert stored_files(world.org_a) == []


def test_it_accepts_an_anonymous_post_with_csrf(world):
    c = Client(enforce_csrf_checks=True)
    page = c.get("/report/org-a/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = c.post(
        "/report/org-a/",
        form_data(csrfmiddlewaretoken=token, evidence=upload("foto.jpg", jpeg_bytes())),
    )
    assert response.status_code == 200
    assert EvidenceFile.objects.count() == 1


def test_it_answers_404_for_an_unknown_organisation(db):
    assert Client().get("/report/no-such-org/").status_code == 404
    assert Client().post("/report/no-such-org/", form_data()).status_code == 404


def test_it_lets_a_signed_in_member_without_mfa_report_anonymously(world):
    """A staff member half-way through signing in is not sent to MFA from the public form."""
    c = Client()
    c.post("/accounts/login/", {"username": world.coordinator.user.email, "password": PASSWORD})
    assert c.get("/report/org-a/").status_code == 200
    assert c.get("/report/status/").status_code == 200


# The 60 KB budget (DESIGN.md section 9)


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.urls.append(attrs["href"])
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "img" and attrs.get("src", "").startswith("/"):
            self.urls.append(attrs["src"])


def page_weight(c: Client, url: str) -> tuple[int, dict[str, int]]:
    """Bytes of the page and of everything it loads, as sent (no compression assumed,
    since the default deployment serves static files uncompressed), plus 600 bytes of
    headers per request."""
    page = c.get(url)
    assert page.status_code == 200
    parser = _Assets()
    parser.feed(page.content.decode())
    sizes = {url: len(page.content) + 600}
    for asset in parser.urls:
        response = c.get(asset)
        assert response.status_code == 200, asset
        body = b"".join(response.streaming_content) if response.streaming else response.content
        sizes[asset] = len(body) + 600
    return sum(sizes.values()), sizes


def test_the_report_form_weighs_under_60_kb(world, login):
    for c, url in (
        (Client(), "/report/org-a/"),
        (login(world.defender), "/o/org-a/threats/new/"),
        (login(world.focal_point), "/o/org-a/threats/new/"),
    ):
        total, sizes = page_weight(c, url)
        assert total < 60 * 1024, sizes
        assert any(a.endswith(".css") for a in sizes), sizes  # styled, not bare


def test_the_report_form_works_without_javascript(world):
    """Every field is a plain form control; the location button is hidden until the
    script shows it, and the latitude and longitude can be typed."""
    text = Client().get("/report/org-a/").content.decode()
    assert re.search(r'<button type="button" id="use-location"[^>]* hidden', text)
    assert 'name="lat"' in text and 'name="lon"' in text
    response = Client().post("/report/org-a/", form_data(lat="-12.59", lon="-69.18"))
    assert ThreatReport.objects.get().location == {"lat": -12.59, "lon": -69.18}
    assert response.status_code == 200


# Receipt lookup


def test_it_shows_only_the_status_for_a_receipt(world):
    report, _photo = file_with_photo(world, person=world.defender_person)
    response = Client().post("/report/status/", {"code": report.receipt})
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="receipt-status"' in text
    assert set(response.context["found"]) == {
        "receipt",
        "status",
        "level",
        "created_at",
        "updated_at",
    }
    for secret in ("Foto del mensaje", "Rosa", "Huamán", "foto amenaza", "Madre de Dios"):
        assert secret not in text
    assert str(report.pk) not in text


def test_it_answers_unknown_and_malformed_codes_alike(world):
    file_report(world)
    c = Client()
    answers = [
        c.post("/report/status/", {"code": code})
        for code in ("ABCD-EFGH-JKLM", "not a code", "", "X" * 300)
    ]
    assert {r.status_code for r in answers} == {200}
    assert len({without_csrf(r.content) for r in answers}) == 1
    assert 'data-testid="receipt-unknown"' in answers[0].content.decode()


def test_it_follows_a_receipt_through_a_status_change(world):
    report = file_report(world)
    actions.set_status(world.coordinator.user, report, Status.RESPONDING)
    response = Client().post("/report/status/", {"code": report.receipt.replace("-", " ")})
    assert response.context["found"]["status"] == Status.RESPONDING.label


# The case list


def test_it_lists_and_filters_cases_for_a_coordinator(world, login):
    high = file_report(
        world,
        level_answers={"physical_violence": True},
        region="Pando",
        channel="in_person",
        person=world.defender_person,
    )
    medium = file_report(world, region="Madre de Dios")
    actions.set_status(world.coordinator.user, medium, Status.TRIAGED)
    c = login(world.coordinator)
    page = c.get("/o/org-a/threats/")
    assert page.status_code == 200
    text = page.content.decode()
    assert high.receipt in text and medium.receipt in text
    assert "Rosa Huamán" in text

    def listed(query: str) -> set[str]:
        response = c.get("/o/org-a/threats/?" + query)
        return {r.receipt for r in response.context["page"]}

    assert listed("level=high") == {high.receipt}
    assert listed("status=triaged") == {medium.receipt}
    assert listed("region=pando") == {high.receipt}
    assert listed("channel=phone_call") == {medium.receipt}
    assert listed("date_from=2000-01-01&date_to=2999-01-01") == {high.receipt, medium.receipt}
    assert listed("date_to=2000-01-01") == set()
    assert listed("level=nonsense") == {high.receipt, medium.receipt}


def test_it_pages_the_case_list(world, login):
    for _ in range(27):
        file_report(world)
    c = login(world.coordinator)
    first = c.get("/o/org-a/threats/?level=medium")
    assert len(first.context["page"]) == 25
    assert "page=2" in first.content.decode()
    second = c.get("/o/org-a/threats/?level=medium&page=2")
    assert len(second.context["page"]) == 2
    assert "level=medium" in second.content.decode()  # the filter stays while paging


def test_it_shows_a_defender_only_their_own_reports(world, login):
    zoila = people_actions.create_person("test", world.org_a, given_names="Zoila")
    about_zoila = file_report(world, person=zoila)
    nobody = file_report(world, actor=world.focal_point.user)
    own = file_report(world, actor=world.defender.user, person=world.defender_person)
    about_rosa = file_report(world, person=world.defender_person)
    c = login(world.defender)
    listed = {r.receipt for r in c.get("/o/org-a/threats/").context["page"]}
    assert listed == {own.receipt, about_rosa.receipt}
    for report in (about_zoila, nobody):
        assert c.get(f"/o/org-a/threats/{report.pk}/").status_code == 404
    # The focal point sees what they filed, and nothing else.
    listed = {r.receipt for r in login(world.focal_point).get("/o/org-a/threats/").context["page"]}
    assert listed == {nobody.receipt}


# The case view


@pytest.fixture
def case(world):
    people_actions.create_directory_entry(
        "test",
        world.org_a,
        category="mental_health",
        region="Madre de Dios",
        name="Psic. Ana Torres",
        phone="+51 982 000 111",
    )
    report, photo = file_with_photo(world, person=world.defender_person)
    return report, photo


@pytest.mark.parametrize("role", ["defender", "focal_point", "coordinator", "supervisor"])
def test_it_renders_the_case_for_each_role_allowed(world, login, case, role):
    supervise(world)
    report, _photo = case
    page = login(getattr(world, role)).get(f"/o/org-a/threats/{report.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert report.receipt in text
    assert "Psic. Ana Torres" in text
    assert "Foto del mensaje" in text


def test_it_shows_the_coordinator_the_whole_case(world, login, case):
    report, photo = case
    c = login(world.coordinator)
    text = c.get(f"/o/org-a/threats/{report.pk}/").content.decode()
    evidence = EvidenceFile.objects.get()
    assert evidence.sha256 == hashlib.sha256(photo).hexdigest()
    assert evidence.sha256 in text
    assert "foto amenaza.jpg" in text
    assert "image/jpeg" in text
    assert f"/o/org-a/threats/{report.pk}/evidence/{evidence.pk}/" in text
    assert f"/o/org-a/threats/{report.pk}/dossier.pdf" in text
    assert f"/o/org-a/alerts/{report.alert_id}/" in text
    assert 'data-testid="checklist-progress"' in text
    items = ChecklistItem.objects.filter(report=report).count()
    assert re.search(rf"0 (de|of) {items}", text)
    assert 'data-testid="level-form"' in text and 'data-testid="status-form"' in text
    assert 'data-testid="timeline"' in text
    assert "Psic. Ana Torres" in text and "+51 982 000 111" in text


def test_it_gives_the_person_plain_guidance_in_the_reports_language(world, login):
    report = file_report(world, person=world.defender_person, language="pt")
    c = login(world.defender)  # the defender's pages are in Spanish
    page = c.get(f"/o/org-a/threats/{report.pk}/")
    text = page.content.decode()
    with translation.override("pt"):
        expected = actions.Receipt(report).explanation()
        titles = [str(checklist.BY_CODE[i.code].title) for i in report.checklist.all()]
    assert expected.startswith("Média")
    assert expected in text
    for title in titles:
        assert title in text
    # No staff tools, no evidence downloads, no timeline, no dossier.
    assert 'data-testid="level-form"' not in text
    assert 'data-testid="timeline"' not in text
    assert "dossier.pdf" not in text
    # The person ticks their own items, not the coordinator's.
    tickable = {row["item"].owner for row in page.context["checklist"] if row["may_tick"]}
    assert tickable == {"reporter", "relatives"}


def test_it_streams_evidence_to_a_case_reader(world, login, case):
    supervise(world)
    report, photo = case
    evidence = EvidenceFile.objects.get()
    url = f"/o/org-a/threats/{report.pk}/evidence/{evidence.pk}/"
    response = login(world.coordinator).get(url)
    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == photo
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "foto" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert CustodyEvent.objects.filter(evidence=evidence, action="download").count() == 1
    # A supervisor reads cases too; the defender the case is about does not download.
    assert login(world.supervisor).get(url).status_code == 200
    assert login(world.defender).get(url).status_code == 404
    assert CustodyEvent.objects.filter(evidence=evidence, action="download").count() == 2


def test_it_changes_the_status(world, login, case):
    report, _photo = case
    c = login(world.coordinator)
    response = c.post(f"/o/org-a/threats/{report.pk}/status/", {"status": "responding"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Status.RESPONDING
    assert AuditEntry.objects.filter(action="threat.status", object_id=str(report.pk)).exists()
    timeline = c.get(f"/o/org-a/threats/{report.pk}/").context["timeline"]
    assert any("responding" in e["what"] for e in timeline)
    bad = c.post(f"/o/org-a/threats/{report.pk}/status/", {"status": "gone"})
    assert bad.status_code == 400
    for persona in (world.supervisor, world.defender, world.focal_point):
        response = login(persona).post(
            f"/o/org-a/threats/{report.pk}/status/", {"status": "closed"}
        )
        assert response.status_code == 404
    report.refresh_from_db()
    assert report.status == Status.RESPONDING


def test_it_changes_the_level_with_a_reason_and_shows_errors(world, login, case):
    report, _photo = case
    c = login(world.coordinator)
    url = f"/o/org-a/threats/{report.pk}/level/"
    missing = c.post(url, {"level": "high", "reason": ""})
    assert missing.status_code == 400
    assert 'class="field-error"' in missing.content.decode()
    short = c.post(url, {"level": "high", "reason": "ok"})
    assert short.status_code == 400
    assert short.context["level_form"].errors["reason"]
    same = c.post(url, {"level": report.level, "reason": "Lo mismo de antes"})
    assert same.status_code == 400
    assert same.context["level_form"].errors["level"]
    report.refresh_from_db()
    assert report.level == Level.MEDIUM
    done = c.post(url, {"level": "high", "reason": "Vieron armas cerca de su casa"})
    assert done.status_code == 302
    report.refresh_from_db()
    assert report.level == Level.HIGH
    assert report.level_reason == "Vieron armas cerca de su casa"
    page = c.get(f"/o/org-a/threats/{report.pk}/").content.decode()
    assert "Vieron armas cerca de su casa" in page
    assert (
        login(world.supervisor).post(url, {"level": "low", "reason": "No es nada"}).status_code
        == 404
    )


def test_it_ticks_checklist_items(world, login, case):
    report, _photo = case
    police = report.checklist.get(code="step1_police_report")
    relocation = report.checklist.get(code="step1_evaluate_relocation")
    c = login(world.coordinator)
    url = f"/o/org-a/threats/{report.pk}/items/{relocation.pk}/"
    assert (
        c.post(url, {"status": "done", "notes": "Se queda; revisar en 7 días"}).status_code == 302
    )
    relocation.refresh_from_db()
    assert relocation.status == ItemStatus.DONE
    assert relocation.done_by == world.coordinator.user
    assert relocation.notes == "Se queda; revisar en 7 días"
    page = c.get(f"/o/org-a/threats/{report.pk}/")
    assert "Se queda; revisar en 7 días" in page.content.decode()
    assert page.context["done_count"] == 1
    # The person threatened ticks their own item, not the coordinator's.
    defender = login(world.defender)
    own_url = f"/o/org-a/threats/{report.pk}/items/{police.pk}/"
    assert defender.post(own_url, {"status": "done"}).status_code == 302
    police.refresh_from_db()
    assert police.status == ItemStatus.DONE
    assert defender.post(url, {"status": "open"}).status_code == 404
    # The focal point filed it, so may tick the reporter's items too; the supervisor not.
    assert login(world.focal_point).post(own_url, {"status": "open"}).status_code == 302
    assert login(world.supervisor).post(own_url, {"status": "done"}).status_code == 404
    police.refresh_from_db()
    assert police.status == ItemStatus.OPEN
    # An item of another report under this report's address is missing.
    other = file_report(world, person=world.defender_person)
    foreign = other.checklist.first()
    assert (
        c.post(f"/o/org-a/threats/{report.pk}/items/{foreign.pk}/", {"status": "done"}).status_code
        == 404
    )
    assert c.post(f"/o/org-a/threats/{report.pk}/items/{random_id()}/", {}).status_code == 404


def test_it_links_to_the_report_from_the_menu(world, login):
    text = login(world.defender).get("/o/org-a/").content.decode()
    assert 'href="/o/org-a/threats/"' in text
    assert (
        reverse("threat-new", args=["org-a"])
        in login(world.defender).get("/o/org-a/threats/").content.decode()
    )


def test_the_person_threatened_sees_their_record_but_not_evidence_or_staff_notes(
    world, login, evidence_store
):
    """The same rules as the API (access.may_read_record, may_read_notes): their own
    case's record and their own items' notes, not the evidence files nor the notes on
    the coordinator's items."""
    report, _photo = file_with_photo(world, person=world.defender_person)
    staff_item = ChecklistItem.objects.get(report=report, code="step1_evaluate_relocation")
    actions.update_item(world.coordinator.user, staff_item, notes="Casa segura en Iberia")
    own_item = ChecklistItem.objects.get(report=report, code="step1_police_report")
    actions.update_item(world.coordinator.user, own_item, notes="Comisaría de Tambopata")
    page = login(world.defender).get(reverse("threat-detail", args=[world.org_a.slug, report.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Foto del mensaje" in text
    assert "Comisaría de Tambopata" in text
    assert "Casa segura en Iberia" not in text
    assert "foto amenaza.jpg" not in text
    assert 'data-testid="evidence"' not in text
    coordinator_page = (
        login(world.coordinator)
        .get(reverse("threat-detail", args=[world.org_a.slug, report.pk]))
        .content.decode()
    )
    assert "Casa segura en Iberia" in coordinator_page
    assert "foto amenaza.jpg" in coordinator_page


def test_a_supervisor_and_a_lawyer_read_only_the_reports_they_need_to_know(world, login, case):
    """DESIGN.md section 1: a supervisor receives the Step 2 documentation of threats
    against their own staff; a lawyer works only the cases assigned to them."""
    from amparo.programmes.models import LegalCase

    report, _photo = case
    url = f"/o/org-a/threats/{report.pk}/"
    assert login(world.supervisor).get(url).status_code == 404  # Rosa is not their staff
    supervise(world)
    assert login(world.supervisor).get(url).status_code == 200
    lawyer = make_persona(world.org_a, Role.LAWYER, "lawyer@a.example")
    assert login(lawyer).get(url).status_code == 404
    assert report.pk not in {r.pk for r in login(lawyer).get("/o/org-a/threats/").context["page"]}
    LegalCase.objects.create(
        organisation=world.org_a,
        threat_report=report,
        matter="threat",
        summary="Denuncia ante la fiscalía",
        lawyer=lawyer.user,
        opened_at=report.created_at,
    )
    assert login(lawyer).get(url).status_code == 200
