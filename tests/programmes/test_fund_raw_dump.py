"""The emergency fund, legal cases and trainings leave nothing readable behind without
the master key (DESIGN.md section 7): neither a beneficiary, a justification, a refusal
note, a case summary, a complaint's notes, a facilitator, nor a participant's name or
phone appears in a dump of the database (the SMS follow-up in the outbox is sealed too).
Each branch runs on its own vendor, as in tests/programmes/test_raw_dump_referrals.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from amparo.people.models import Role
from amparo.programmes import fund, legal, trainings
from conftest import make_persona

SECRETS = [
    "Beneficiaria Dump-Nombre",
    "Dump-Justificacion",
    "Dump-Rechazo",
    "Dump-Resumen",
    "Dump-Notas",
    "Dump-Facilitadora",
    "Dump-Participante",
    "982 777 6543",
    "Dump-Seguimiento",
]


def fill(world):
    coordinator = world.coordinator.user
    admin = make_persona(world.org_a, Role.ADMIN, "admin@a.example").user
    paid = fund.request_funds(
        coordinator,
        world.org_a,
        category="medical",
        amount="90",
        currency="PEN",
        justification="Herida de bala Dump-Justificacion",
        beneficiary_name="Beneficiaria Dump-Nombre",
    )
    refused = fund.request_funds(
        coordinator,
        world.org_a,
        category="legal",
        amount="90",
        currency="PEN",
        justification="x",
        beneficiary=world.defender_person,
    )
    fund.refuse_fund_request(admin, refused, "Dump-Rechazo")
    case = legal.open_legal_case(
        coordinator, world.org_a, matter="assault", summary="Ataque Dump-Resumen"
    )
    legal.file_complaint(
        coordinator,
        case,
        body="prosecutor",
        filed_on=timezone.localdate() - timedelta(days=1),
        notes="Dump-Notas",
    )
    workshop = trainings.record_workshop(
        coordinator,
        world.org_a,
        line="s1_l6",
        topic="Apps de alerta",
        held_on=timezone.localdate(),
        duration_hours="4",
        language="Harakbut",
        community="Queros",
        facilitator="Dump-Facilitadora",
    )
    trainings.add_participant(
        coordinator,
        workshop,
        gender="woman",
        age_band="18_29",
        indigenous="yes",
        role="community_leader",
        name="Dump-Participante",
        phone="+51 982 777 6543",
        follow_up_consent=True,
    )
    trainings.send_follow_up(
        coordinator, workshop, message="Dump-Seguimiento", request_key=uuid.uuid4()
    )
    return [paid.pk, case.pk, workshop.pk]


def assert_reveals_nothing(dump: str, ids) -> None:
    flat = dump.replace("-", "")
    for pk in ids:
        assert str(pk).replace("-", "") in flat, "the dump misses the rows"
    assert [secret for secret in SECRETS if secret in dump] == []
    assert "enc1:" in dump


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite dump")
def test_it_reveals_nothing_in_a_sqlite_dump(db, world):
    ids = fill(world)
    connection.ensure_connection()
    assert_reveals_nothing("\n".join(connection.connection.iterdump()), ids)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL dump")
def test_it_reveals_nothing_in_a_pg_dump(transactional_db, world):
    ids = fill(world)
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
    assert_reveals_nothing(result.stdout.decode("utf-8"), ids)
