"""A dump of the database shows none of a crisis's sealed text: the case's title, exact
place and summary, task notes, the timeline, the advocacy text and override reason, and
the after-action review (as tests/travel/test_deployments.py: each branch runs on its own
database vendor)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from django.db import connection

from amparo.crisis import actions
from amparo.crisis.models import CrisisKind

SECRETS = [
    "Secuestro de Rosa en Boca Colorado",
    "Finca Los Pinos",
    "La camioneta blanca sin placas",
    "Nota de tarea reservada",
    "Llamamos al negociador Pérez",
    "Motivo de anulación reservado",
    "Apelación reservada",
    "Funcionó la cadena reservada",
    "Falló el seguro reservado",
    "Lección reservada",
    "Cambio de protocolo reservado",
]
VISIBLE = ["kidnapping", "in_place"]


def make_records(world, partners) -> None:
    user = world.coordinator.user
    case = actions.open_crisis(
        user,
        world.org_a,
        CrisisKind.KIDNAPPING,
        title=SECRETS[0],
        exact_place=SECRETS[1],
        summary=SECRETS[2],
    )
    actions.complete_task(user, case.tasks.first(), note=SECRETS[3])
    actions.append_to_timeline(user, case, SECRETS[4])
    actions.send_advocacy_alert(
        user,
        case,
        appeal=SECRETS[6],
        recipient_ids=[p.pk for p in partners],
        override_reason=SECRETS[5],
    )
    actions.file_review(
        user,
        case,
        what_worked=SECRETS[7],
        what_failed=SECRETS[8],
        lessons=SECRETS[9],
        protocol_changes=SECRETS[10],
        continuity_status="in_place",
    )


def assert_reveals_nothing(dump: str) -> None:
    for visible in VISIBLE:
        assert visible in dump, f"the dump does not hold the test rows ({visible!r} missing)"
    leaked = [secret for secret in SECRETS if secret in dump]
    assert leaked == []
    assert "enc1:" in dump


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite dump")
def test_it_reveals_nothing_in_a_sqlite_dump(world, partners):
    make_records(world, partners)
    connection.ensure_connection()
    assert_reveals_nothing("\n".join(connection.connection.iterdump()))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL dump")
def test_it_reveals_nothing_in_a_pg_dump(transactional_db, world, partners):
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to test the PostgreSQL dump"
    make_records(world, partners)
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
    assert_reveals_nothing(result.stdout.decode("utf-8"))
