"""A threat report leaves nothing readable behind without the master key (DESIGN.md
section 7): neither a dump of the database nor the files of the evidence store show the
verbatim words, the perpetrator, the place, the community, the person, a file's name or a
byte of its content. Each database branch runs on its own vendor, as in
tests/core/test_raw_dump.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection

from amparo.incidents import actions, vault
from amparo.incidents.models import ChecklistItem, EvidenceFile, ThreatReport
from amparo.people import actions as people_actions

SECRETS = [
    "Nos vas a pagar con tu sangre, Teodora",
    "Tres hombres del campamento minero Huepetuhe-Norte",
    "Trocha de la chacra Yupanqui, kilómetro 37",
    "Comunidad Nativa Shipetiari-Alto",
    "Teodora",
    "Yupanqui Ccahua",
    "teodora.yupanqui@example.pe",
    "grabacion-amenaza-yupanqui.jpg",
    "el abogado dice que la amenaza vino del alcalde",
    "Llamar al fiscal Quenta mañana",
    "-12.47113",
    "-70.31517",
]
# Bytes inside the evidence file: it must not appear in the store or the database.
MARKER = b"MARCADOR-BINARIO-EVIDENCIA-99173"
# Plain columns of the same rows: they must show up, or the dump did not see the rows.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"


@pytest.fixture(autouse=True)
def store(settings, tmp_path: Path) -> Path:
    settings.EVIDENCE_DIR = tmp_path
    return tmp_path


def make_report(world) -> ThreatReport:
    person = people_actions.create_person(
        "test",
        world.org_a,
        given_names="Teodora",
        family_names="Yupanqui Ccahua",
        email="teodora.yupanqui@example.pe",
    )
    boss = people_actions.create_person(
        "test", world.org_a, given_names="Jefa", email="jefa@example.org"
    )
    # The supervisor is told (an outbox message naming the person, sealed).
    people_actions.set_chain_of_command("test", person, supervisor=boss, emergency_rank=1)
    content = JPEG + (bytes(range(256)) * 8 + MARKER) * 40
    staged = vault.stage_stream(world.org_a.pk, SECRETS[7], iter([content]))
    report = actions.report_threat(
        world.focal_point.user,
        world.org_a,
        {
            "verbatim": SECRETS[0],
            "perpetrator_description": SECRETS[1],
            "place": SECRETS[2],
            "community": SECRETS[3],
            "region": "Madre de Dios",
            "lat": -12.47113,
            "lon": -70.31517,
            "channel": "phone_call",
            "source_illicit_activity": "illegal_mining",
            "shows_knowledge_of_work": True,
        },
        source="web",
        person=person,
        evidence=[staged],
    ).report
    assert not staged.refused
    actions.change_level(world.coordinator.user, report, "high", SECRETS[8])
    item = ChecklistItem.objects.get(report=report, code="step1_police_report")
    actions.update_item(world.coordinator.user, item, status="done", notes=SECRETS[9])
    evidence = EvidenceFile.objects.get(report=report)
    assert b"".join(actions.read_evidence(world.coordinator.user, evidence, "view")) == content
    return report


def assert_reveals_nothing(dump: str, report: ThreatReport) -> None:
    evidence = EvidenceFile.objects.get(report=report)
    for visible in (report.receipt, evidence.sha256):
        assert visible in dump, f"the dump does not hold the test rows ({visible!r} missing)"
    leaked = [secret for secret in SECRETS if secret in dump]
    assert leaked == []
    assert MARKER.decode() not in dump
    assert "enc1:" in dump


def assert_store_reveals_nothing(store: Path) -> None:
    files = [p for p in store.rglob("*") if p.is_file()]
    assert [p.suffix for p in files] == [".bin"]
    for path in files:
        raw = path.read_bytes()
        assert MARKER not in raw
        assert JPEG not in raw
        leaked = [secret for secret in SECRETS if secret.encode("utf-8") in raw]
        assert leaked == [], path


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite dump")
def test_it_reveals_nothing_in_a_sqlite_dump_or_the_evidence_store(world, store):
    report = make_report(world)
    connection.ensure_connection()
    dump = "\n".join(connection.connection.iterdump())
    assert_reveals_nothing(dump, report)
    assert_store_reveals_nothing(store)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL dump")
def test_it_reveals_nothing_in_a_pg_dump_or_the_evidence_store(transactional_db, world, store):
    # transactional_db: the rows are committed, so that pg_dump (another connection) sees
    # them; the personas of ``world`` are made in the same way.
    report = make_report(world)
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to test the PostgreSQL dump"
    settings_dict = connection.settings_dict
    args = [pg_dump, "--no-owner", "--dbname", settings_dict["NAME"]]
    for option, key in (("--username", "USER"), ("--host", "HOST"), ("--port", "PORT")):
        if settings_dict.get(key):
            args += [option, str(settings_dict[key])]
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    result = subprocess.run(args, capture_output=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert_reveals_nothing(result.stdout.decode("utf-8"), report)
    assert_store_reveals_nothing(store)
