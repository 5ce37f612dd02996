"""A referral leaves nothing readable behind without the master key (DESIGN.md section
7, medical data): neither the reason, the healing practices nor a session's clinical
notes appear in a dump of the database. Each branch runs on its own vendor, as in
tests/incidents/test_raw_dump_reports.py."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from django.db import connection

from amparo.programmes import actions
from tests.programmes.conftest import HEALING, NOTES, REASON, past

SECRETS = [REASON, HEALING, NOTES, "Huepetuhe-Secreto", "Shipibo-Reservado", "Confidencial"]


def fill(care):
    actions.record_session(
        care.psychologist.user,
        care.referral,
        held_on=past(),
        duration_minutes=55,
        attended=True,
        clinical_notes=NOTES,
    )
    return care.referral


def assert_reveals_nothing(dump: str, referral) -> None:
    assert str(referral.pk).replace("-", "") in dump.replace("-", ""), "the dump misses the rows"
    assert [secret for secret in SECRETS if secret in dump] == []
    assert "enc1:" in dump


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite dump")
def test_it_reveals_nothing_in_a_sqlite_dump(db, world, care):
    referral = fill(care)
    connection.ensure_connection()
    assert_reveals_nothing("\n".join(connection.connection.iterdump()), referral)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL dump")
def test_it_reveals_nothing_in_a_pg_dump(transactional_db, world, care):
    referral = fill(care)
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
    assert_reveals_nothing(result.stdout.decode("utf-8"), referral)
