"""Submissions as ODK Collect and Tella send them: filed through report_threat with their
attachments in the vault, accepted once per instanceID, reassembled when split across
POSTs, and refused whole when unsafe, oversized or malformed."""

from __future__ import annotations

import hashlib
import io
import uuid

import pytest
from django.test import Client, override_settings

from amparo.alerts.models import Alert
from amparo.channels.models import OpenRosaSubmission, SubmissionState
from amparo.channels.openrosa import actions
from amparo.core.models import AuditEntry
from amparo.incidents.actions import read_evidence
from amparo.incidents.models import (
    CustodyAction,
    CustodyEvent,
    EvidenceFile,
    Level,
    Source,
    ThreatReport,
)
from amparo.incidents.vault import evidence_dir
from amparo.monitoring.models import Incident
from tests.channels.openrosa_phone import (
    AMR,
    JPEG,
    Phone,
    multipart,
    submission_parts,
    threat_xml,
)


@pytest.fixture(autouse=True)
def vault_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture
def phone(world, client):
    device, password = actions.create_device(
        "test", world.org_a, label="Rosa", person=world.defender_person
    )
    return Phone(client, device.username, password)


def blobs() -> list[str]:
    if not evidence_dir().exists():
        return []
    return sorted(p.name for p in evidence_dir().rglob("*") if p.is_file())


def test_collect_submits_a_threat_report_with_a_photo(world, phone):
    xml = threat_xml(physical_violence="yes", photo="1714578600000.jpg")
    response = phone.submit("org-a", xml, [("1714578600000.jpg", JPEG, "image/jpeg")])
    assert response.status_code == 201, response.content
    assert response["X-OpenRosa-Version"] == "1.0"
    assert b'<OpenRosaResponse xmlns="http://openrosa.org/http/response">' in response.content
    report = ThreatReport.objects.get()
    assert report.receipt.encode() in response.content
    assert (report.source, report.level, report.person) == (
        Source.OPENROSA,
        Level.HIGH,
        world.defender_person,
    )
    assert report.reported_by == world.defender.user
    assert report.verbatim == "Nos dijeron que nos van a quemar la casa"
    assert report.alert is not None
    evidence = EvidenceFile.objects.get()
    assert evidence.name == "1714578600000.jpg"
    assert evidence.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert evidence.content_type == "image/jpeg"
    assert not [b for b in blobs() if b.endswith(".part")]
    submission = OpenRosaSubmission.objects.get()
    assert (submission.state, submission.subject_id) == (SubmissionState.FILED, report.pk)


def test_a_resubmission_is_accepted_once(phone):
    xml = threat_xml(photo="a.jpg")
    files = [("a.jpg", JPEG, "image/jpeg")]
    assert phone.submit("org-a", xml, files).status_code == 201
    again = phone.submit("org-a", xml, files)
    assert again.status_code == 201
    # The phone asks for es-PE (Accept-Language): the message is in Spanish.
    assert "ya se recibió".encode() in again.content
    assert ThreatReport.objects.count() == 1
    assert EvidenceFile.objects.count() == 1
    assert len(blobs()) == 1


def test_different_xml_with_the_same_instance_id_conflicts(phone):
    instance_id = f"uuid:{uuid.uuid4()}"
    assert phone.submit("org-a", threat_xml(instance_id)).status_code == 201
    other = phone.submit("org-a", threat_xml(instance_id, verbatim="Otra cosa"))
    assert other.status_code == 409
    assert ThreatReport.objects.count() == 1


def test_a_split_submission_is_reassembled(phone):
    """ODK Collect past X-OpenRosa-Accept-Content-Length: the XML again on every POST,
    *isIncomplete*=yes on all but the last. The first part files the report; the last
    adds its file to it."""
    xml = threat_xml(photo="p.jpg", audio="v.amr")
    first = phone.submit("org-a", xml, [("p.jpg", JPEG, "image/jpeg")], incomplete=True)
    assert first.status_code == 201
    report = ThreatReport.objects.get()
    assert [e.name for e in report.evidence.all()] == ["p.jpg"]
    assert OpenRosaSubmission.objects.get().state == SubmissionState.FILED
    last = phone.submit("org-a", xml, [("v.amr", AMR, "audio/amr")])
    assert last.status_code == 201
    assert report.receipt.encode() in last.content
    assert ThreatReport.objects.get() == report
    assert sorted(e.name for e in report.evidence.all()) == ["p.jpg", "v.amr"]
    submission = OpenRosaSubmission.objects.get()
    assert (submission.state, submission.parts) == (SubmissionState.FILED, 2)
    assert not [b for b in blobs() if b.endswith(".part")]


def test_a_split_threat_raises_its_alert_at_the_first_part(world, phone):
    """A high threat from a phone that splits its submission: the alert must not wait
    for a large video to arrive. The later part's file lands in the vault on the same
    report, with its intake custody event, and sending a part again adds nothing."""
    xml = threat_xml(physical_violence="yes", photo="p.jpg", audio="v.amr")
    first = phone.submit("org-a", xml, [("p.jpg", JPEG, "image/jpeg")], incomplete=True)
    assert first.status_code == 201, first.content
    report = ThreatReport.objects.get()
    assert report.level == Level.HIGH
    alert = Alert.objects.get()
    assert (report.alert, alert.kind, alert.severity) == (alert, "threat", "high")
    assert Incident.objects.get(report=report).has_evidence

    last = phone.submit("org-a", xml, [("v.amr", AMR, "audio/amr")])
    assert last.status_code == 201, last.content
    added = EvidenceFile.objects.get(report=report, content_type="audio/amr")
    assert added.sha256 == hashlib.sha256(AMR).hexdigest()
    assert b"".join(read_evidence("test", added, "download")) == AMR
    intake = CustodyEvent.objects.get(evidence=added, action=CustodyAction.INTAKE)
    assert intake.details["sha256"] == added.sha256
    entry = AuditEntry.objects.get(action="threat.evidence_added")
    assert (entry.object_id, entry.details["evidence"]) == (str(report.pk), 1)
    assert AuditEntry.objects.filter(action="openrosa.files_added").count() == 1

    for files in ([("v.amr", AMR, "audio/amr")], [("p.jpg", JPEG, "image/jpeg")]):
        again = phone.submit("org-a", xml, files)
        assert again.status_code == 201
        assert "ya se recibió".encode() in again.content
    assert ThreatReport.objects.count() == 1
    assert Alert.objects.count() == 1
    assert EvidenceFile.objects.filter(report=report).count() == 2
    assert len(blobs()) == 2
    assert OpenRosaSubmission.objects.get().parts == 2


def test_a_first_part_with_nothing_to_file_is_held(phone):
    """No words and no file yet (all in the later parts): held until a part brings one,
    as report_threat refuses an empty report."""
    xml = threat_xml(verbatim="", photo="p.jpg").replace(b"Dos hombres en moto", b"")
    first = phone.submit("org-a", xml, [], incomplete=True)
    assert first.status_code == 201, first.content
    assert not ThreatReport.objects.exists()
    assert OpenRosaSubmission.objects.get().state == SubmissionState.INCOMPLETE
    last = phone.submit("org-a", xml, [("p.jpg", JPEG, "image/jpeg")])
    assert last.status_code == 201, last.content
    report = ThreatReport.objects.get()
    assert [e.name for e in report.evidence.all()] == ["p.jpg"]
    assert OpenRosaSubmission.objects.get().state == SubmissionState.FILED


def test_a_refused_file_in_a_later_part_is_named(phone):
    xml = threat_xml(photo="p.jpg", audio="v.amr")
    assert phone.submit("org-a", xml, [], incomplete=True).status_code == 201
    last = phone.submit("org-a", xml, [("v.amr", b"MZ\x90\x00" + b"\x00" * 300, "audio/amr")])
    assert last.status_code == 201
    assert b"v.amr" in last.content
    assert not EvidenceFile.objects.exists()
    assert blobs() == []


def test_tella_submits_with_its_own_headers_and_layout(world, client):
    device, password = actions.create_device("test", world.org_a, label="Tella")
    tella = Phone(Client(), device.username, password, app="tella")
    response = tella.submit("org-a", threat_xml(audio="rec.amr"), [("rec.amr", AMR, "audio/amr")])
    assert response.status_code == 201, response.content
    report = ThreatReport.objects.get()
    assert report.person is None
    assert report.evidence.get().content_type == "audio/amr"


def test_a_chunked_body_is_read(phone):
    """gunicorn de-chunks and says so with wsgi.input_terminated; there is no
    Content-Length."""
    phone.send("HEAD", "/openrosa/org-a/submission")
    body, content_type = multipart(submission_parts(threat_xml(), []))
    response = phone.send(
        "POST",
        "/openrosa/org-a/submission",
        body,
        content_type,
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )
    assert response.status_code == 201, response.content
    assert ThreatReport.objects.count() == 1


def test_a_body_without_length_or_chunking_needs_a_length(phone):
    phone.send("HEAD", "/openrosa/org-a/submission")
    body, content_type = multipart(submission_parts(threat_xml(), []))
    response = phone.send(
        "POST", "/openrosa/org-a/submission", body, content_type, CONTENT_LENGTH=""
    )
    assert response.status_code == 411


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<data id="amparo_threat_report"><step2><verbatim>&xxe;</verbatim></step2>
<meta><instanceID>uuid:1</instanceID></meta></data>"""

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><data id="amparo_threat_report"><step2><verbatim>&lol9;</verbatim></step2>'
    + b"<meta><instanceID>uuid:2</instanceID></meta></data>"
)


@pytest.mark.parametrize("xml", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_entities_are_refused(phone, xml):
    response = phone.submit("org-a", xml, [("a.jpg", JPEG, "image/jpeg")])
    assert response.status_code == 400
    assert b"DTD" in response.content
    assert not ThreatReport.objects.exists()
    assert not OpenRosaSubmission.objects.exists()
    assert blobs() == []


@override_settings(AMPARO_EVIDENCE_MAX_BYTES=1024, AMPARO_OPENROSA_MAX_BYTES=1024)
def test_an_oversized_body_is_refused(phone):
    big = JPEG + b"\x00" * (4 * 1024 * 1024)
    response = phone.submit("org-a", threat_xml(photo="big.jpg"), [("big.jpg", big, "image/jpeg")])
    assert response.status_code == 413
    assert response["X-OpenRosa-Accept-Content-Length"] == "1024"
    assert not ThreatReport.objects.exists()
    assert blobs() == []


@override_settings(AMPARO_EVIDENCE_MAX_BYTES=1024, AMPARO_OPENROSA_MAX_BYTES=1024)
def test_an_oversized_chunked_body_is_cut_off(phone):
    phone.send("HEAD", "/openrosa/org-a/submission")
    big = JPEG + b"\x00" * (4 * 1024 * 1024)
    body, content_type = multipart(
        submission_parts(threat_xml(photo="big.jpg"), [("big.jpg", big, "image/jpeg")])
    )
    response = phone.send(
        "POST",
        "/openrosa/org-a/submission",
        body,
        content_type,
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert blobs() == []


@pytest.mark.parametrize(
    ("xml", "says"),
    [
        (b"<data id='amparo_threat_report'><unclosed></data>", b"no es XML bien formado"),
        (b"<data id='amparo_threat_report'><step2/></data>", b"instanceID"),
        (threat_xml(illicit="smuggling"), b""),
        (threat_xml(occurred_date="tomorrow"), b"fecha"),
        (threat_xml(verbatim=""), b""),
    ],
    ids=["not-xml", "no-instance-id", "unknown-choice", "bad-date", "empty-report"],
)
def test_a_malformed_submission_stores_nothing(phone, xml, says):
    xml = xml.replace(b"Dos hombres en moto", b"")
    response = phone.submit("org-a", xml, [("a.jpg", JPEG, "image/jpeg")])
    assert response.status_code == 400, response.content
    assert says in response.content
    assert b"<message" in response.content
    assert not ThreatReport.objects.exists()
    assert not OpenRosaSubmission.objects.exists()
    assert blobs() == []


def test_an_unknown_form_is_not_found(phone):
    response = phone.submit("org-a", threat_xml(form_id="someone_elses_form"))
    assert response.status_code == 404
    assert not OpenRosaSubmission.objects.exists()


def test_attachments_the_answers_do_not_name_are_dropped(phone):
    response = phone.submit("org-a", threat_xml(), [("extra.jpg", JPEG, "image/jpeg")])
    assert response.status_code == 201
    assert not EvidenceFile.objects.exists()
    assert blobs() == []


def test_another_organisations_device_cannot_submit_here(world, client):
    device_b, password_b = actions.create_device("test", world.org_b, label="B")
    phone_b = Phone(client, device_b.username, password_b)
    head = phone_b.send("HEAD", "/openrosa/org-a/submission")
    assert head.status_code == 401
    body, content_type = multipart(submission_parts(threat_xml(), []))
    post = phone_b.send("POST", "/openrosa/org-a/submission", body, content_type)
    assert post.status_code == 401
    assert not ThreatReport.objects.exists()
