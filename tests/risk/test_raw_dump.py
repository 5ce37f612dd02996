"""A risk assessment leaves nothing readable in a database dump without the master key
(DESIGN.md section 7): threat, vulnerability and capacity descriptions, the scenario
analysis, the mitigation actions and a community's name are sealed. Each database
branch runs on its own vendor, as in tests/incidents/test_raw_dump_reports.py."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from django.db import connection

from tests.risk.conftest import (
    ACTION_TEXT,
    CAPACITY_TEXT,
    COMMUNITY_TEXT,
    SCENARIO_TEXT,
    THREAT_TEXT,
    VULNERABILITY_TEXT,
    assess,
)

SECRETS = [
    THREAT_TEXT,
    VULNERABILITY_TEXT,
    CAPACITY_TEXT,
    SCENARIO_TEXT,
    ACTION_TEXT,
    COMMUNITY_TEXT,
]


def make_assessments(world, subject, community):
    person = assess(world, subject)
    assess(world, community)
    return person


def assert_reveals_nothing(dump, assessment):
    assert str(assessment.pk).replace("-", "") in dump.replace("-", ""), "rows not dumped"
    assert [s for s in SECRETS if s in dump] == []
    assert "enc1:" in dump


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite dump")
def test_it_reveals_nothing_in_a_sqlite_dump(world, subject, community):
    assessment = make_assessments(world, subject, community)
    connection.ensure_connection()
    assert_reveals_nothing("\n".join(connection.connection.iterdump()), assessment)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL dump")
def test_it_reveals_nothing_in_a_pg_dump(transactional_db, world, subject, community):
    assessment = make_assessments(world, subject, community)
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
    assert_reveals_nothing(result.stdout.decode("utf-8"), assessment)
