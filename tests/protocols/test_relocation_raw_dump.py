"""A relocation leaves nothing readable behind without the master key (DESIGN.md section
7: "precise locations of people and safe houses" are sealed): a dump of the database
shows no reason, destination, country, location, decision or note. As in
tests/incidents/test_raw_dump_reports.py, each branch runs on its own database vendor."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date

import pytest
from django.db import connection

from amparo.protocols import relocation
from tests.protocols.conftest import (
    ADDRESS,
    CLOSING,
    COST_NOTE,
    DECISION,
    FAMILY,
    REASON,
    SAFE_HOUSE_ADDRESS,
    SAFE_HOUSE_NAME,
)

SECRETS = [
    REASON,
    ADDRESS,
    DECISION,
    COST_NOTE,
    CLOSING,
    FAMILY,
    SAFE_HOUSE_NAME,
    SAFE_HOUSE_ADDRESS,
    "-12.35791",
    "-69.2468",
]


def make_relocation(world, relocated):
    relocation.mark_returned(
        world.coordinator.user, relocated, ends_on=date(2025, 4, 2), note=CLOSING
    )
    return relocated


def assert_reveals_nothing(dump: str, item) -> None:
    # Plain columns of the same rows: they must show, or the dump did not see the rows.
    assert str(item.pk).replace("-", "") in dump.replace("-", "")
    assert "EF-2025-03" in dump
    leaked = [secret for secret in SECRETS if secret in dump]
    assert leaked == []
    assert "enc1:" in dump


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite dump")
def test_it_reveals_nothing_in_a_sqlite_dump(world, relocated):
    item = make_relocation(world, relocated)
    connection.ensure_connection()
    dump = "\n".join(connection.connection.iterdump())
    assert_reveals_nothing(dump, item)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL dump")
def test_it_reveals_nothing_in_a_pg_dump(transactional_db, world, relocated):
    item = make_relocation(world, relocated)
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
    assert_reveals_nothing(result.stdout.decode("utf-8"), item)
