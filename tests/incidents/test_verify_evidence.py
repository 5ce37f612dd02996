"""``amparo verify-evidence``: every file of the vault (evidence, hotspot photos, travel
documents) re-hashed against its intake SHA-256; a missing or altered file is named,
recorded in its custody log (evidence) or the audit log (the others), and fails the run."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from amparo.core.audit import verify_chain
from amparo.incidents import actions, vault
from amparo.incidents.models import CustodyAction, CustodyEvent, EvidenceFile, ThreatReport

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


@pytest.fixture(autouse=True)
def store(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path
    return tmp_path


def report_with_files(world, organisation, count: int = 2) -> ThreatReport:
    files = [
        vault.stage_stream(
            organisation.pk, f"foto-{n}.jpg", iter([JPEG + bytes([n]) * 20_000 + b"end"])
        )
        for n in range(count)
    ]
    receipt = actions.report_threat(
        "test",
        organisation,
        {"verbatim": "Te estamos vigilando", "language": "es"},
        source="web",
        evidence=files,
    )
    return receipt.report


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_evidence", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def custody(evidence: EvidenceFile) -> list[str]:
    return list(CustodyEvent.objects.filter(evidence=evidence).values_list("action", flat=True))


def test_it_passes_a_clean_store_and_records_each_check(world):
    report = report_with_files(world, world.org_a)
    report_with_files(world, world.org_b, count=1)

    code, out, err = run()

    assert code == 0, err
    assert "3 files verified, 0 problems" in out
    assert err == ""
    for evidence in EvidenceFile.objects.filter(report=report):
        assert custody(evidence) == [CustodyAction.INTAKE, CustodyAction.VERIFY]
    assert verify_chain()[1] == []


def test_it_names_a_tampered_file_and_fails(world):
    report = report_with_files(world, world.org_a)
    tampered, intact = EvidenceFile.objects.filter(report=report).order_by("uploaded_at", "id")
    path = vault.blob_path(tampered.organisation_id, tampered.pk)
    blob = bytearray(path.read_bytes())
    blob[-20] ^= 0xFF
    path.write_bytes(bytes(blob))

    code, out, err = run()

    assert code == 1
    assert "2 files verified, 1 problems" in err
    lines = [line for line in err.splitlines() if line.startswith("PROBLEM")]
    assert len(lines) == 1
    assert str(tampered.pk) in lines[0]
    assert report.receipt in lines[0]
    assert "altered" in lines[0]
    assert str(intact.pk) not in err
    assert custody(tampered)[-1] == CustodyAction.MISMATCH
    event = CustodyEvent.objects.filter(evidence=tampered).last()
    assert event is not None and "altered" in event.details["problem"]
    assert custody(intact)[-1] == CustodyAction.VERIFY


def test_it_reports_a_missing_file(world):
    report = report_with_files(world, world.org_a, count=1)
    evidence = EvidenceFile.objects.get(report=report)
    vault.blob_path(evidence.organisation_id, evidence.pk).unlink()

    code, _out, err = run()

    assert code == 1
    assert str(evidence.pk) in err
    assert "missing" in err
    assert custody(evidence)[-1] == CustodyAction.MISMATCH


def test_it_detects_a_file_replaced_by_another_file(world):
    # A well-formed blob of another file, copied over: it opens under neither the id nor
    # the key of the file it replaces.
    report = report_with_files(world, world.org_a)
    first, second = EvidenceFile.objects.filter(report=report).order_by("uploaded_at", "id")
    vault.blob_path(first.organisation_id, first.pk).write_bytes(
        vault.blob_path(second.organisation_id, second.pk).read_bytes()
    )
    code, _out, err = run()
    assert code == 1
    assert str(first.pk) in err


def test_it_limits_the_run_to_an_organisation_or_a_report(world):
    report_a = report_with_files(world, world.org_a)
    other_a = report_with_files(world, world.org_a, count=1)
    report_b = report_with_files(world, world.org_b, count=1)
    broken = EvidenceFile.objects.get(report=report_b)
    vault.blob_path(broken.organisation_id, broken.pk).unlink()

    code, out, _err = run("--organisation", "org-a")
    assert code == 0
    assert "3 files verified, 0 problems" in out

    # A receipt as a person might type it: lower case, no dashes.
    code, out, _err = run("--report", report_a.receipt.replace("-", "").lower())
    assert code == 0
    assert "2 files verified, 0 problems" in out
    assert CustodyAction.VERIFY in custody(EvidenceFile.objects.get(report=other_a))

    code, _out, err = run("--report", report_b.receipt)
    assert code == 1
    assert "1 files verified, 1 problems" in err


def test_it_refuses_an_unknown_organisation(world):
    with pytest.raises(CommandError, match="no organisation"):
        call_command("verify_evidence", "--organisation", "nobody")


def test_it_runs_as_amparo_verify_evidence(world, capsys, monkeypatch, settings):
    from django.db import connections

    from amparo.cli import main

    # A command run from the command line closes the connections when it ends, which
    # would end this test's transaction on PostgreSQL.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    # main() sets Django up again, which would configure logging anew: its handler would
    # write to this test's captured stderr, closed when the test ends, and every later
    # test of this process that logs would find a closed stream.
    settings.LOGGING_CONFIG = None
    report = report_with_files(world, world.org_a, count=1)
    evidence = EvidenceFile.objects.get(report=report)
    main(["amparo", "verify-evidence", "--report", report.receipt])
    assert "1 files verified, 0 problems" in capsys.readouterr().out

    vault.blob_path(evidence.organisation_id, evidence.pk).unlink()
    with pytest.raises(SystemExit) as exit_:
        main(["amparo", "verify-evidence"])
    assert exit_.value.code == 1
    assert str(evidence.pk) in capsys.readouterr().err


def _photo_and_document(world):
    """A hotspot photo and a travel document of org-a: the vault's two other kinds."""
    import datetime as dt

    from amparo.monitoring import hotspots
    from amparo.travel.documents import attach_document
    from amparo.travel.models import Deployment, TravelDocument

    hotspot = hotspots.add_hotspot(
        world.focal_point.user,
        world.org_a,
        kind="mining_camp",
        observed_on=dt.date(2025, 2, 1),
        geometry={"type": "Point", "coordinates": [-69.1891, -12.5934]},
        mapped_by=world.focal_point.user,
    )
    photo_bytes = JPEG + b"camp seen from the river" * 50
    added = hotspots.add_photos(
        world.focal_point.user,
        hotspot,
        [vault.stage_stream(world.org_a.pk, "camp.jpg", iter([photo_bytes]))],
    )
    deployment = Deployment.objects.create(
        organisation=world.org_a,
        traveller=world.defender_person,
        trip_type="other",
        starts_on=dt.date(2026, 3, 1),
        returns_on=dt.date(2026, 3, 10),
    )
    pdf = b"%PDF-1.4\n" + b"programme " * 300 + b"\n%%EOF\n"
    document = attach_document(
        world.coordinator.user,
        deployment,
        TravelDocument.Kind.PROGRAMME,
        vault.stage_stream(world.org_a.pk, "programa.pdf", iter([pdf])),
    )
    return added.photos[0], document


def test_it_also_checks_hotspot_photos_and_travel_documents(world):
    from amparo.core.models import AuditEntry

    report_with_files(world, world.org_a, count=1)
    photo, document = _photo_and_document(world)

    code, out, err = run()
    assert code == 0, err
    assert "3 files verified, 0 problems (1 evidence, 1 hotspot photos, 1 travel documents)" in out

    # Altered photo, missing document: both named, both in the audit log, the run fails.
    path = vault.blob_path(photo.organisation_id, photo.pk)
    blob = bytearray(path.read_bytes())
    blob[-20] ^= 0xFF
    path.write_bytes(bytes(blob))
    vault.blob_path(document.organisation_id, document.pk).unlink()

    code, _out, err = run()
    assert code == 1
    problems = [line for line in err.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 2
    assert any(f"hotspot photo {photo.pk}" in line and "altered" in line for line in problems)
    assert any(f"travel document {document.pk}" in line and "missing" in line for line in problems)
    mismatches = AuditEntry.objects.filter(action="vault.mismatch")
    assert {e.object_id for e in mismatches} == {str(photo.pk), str(document.pk)}
    runs = AuditEntry.objects.filter(action="vault.verified").order_by("seq")
    assert [e.details["problems"] for e in runs] == [0, 2]
    assert verify_chain()[1] == []

    # Another organisation's run does not look at org-a's files.
    code, out, _err = run("--organisation", "org-b")
    assert code == 0
    assert "0 files verified, 0 problems" in out
