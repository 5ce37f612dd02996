"""Community protocols, evacuation plans, drills and the institutional policy leave
nothing readable behind without the master key (DESIGN.md section 7): a dump of the
database shows no route, shelter, gathering point, contact, alert code, provision,
observation, chain of command or finding. As in test_relocation_raw_dump.py, each branch
runs on its own database vendor."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date

import pytest
from django.db import connection

from amparo.protocols import community, institutional
from tests.protocols.test_community_builder import (
    COMMUNITY,
    CONTACT,
    CONTACT_PHONE,
    GATHERING,
    REPORT_PHONE,
    RISK,
    ROUTE,
    SIGNAL,
    SIGNAL_MEANING,
    make_protocol,
)
from tests.protocols.test_evacuation_plans_and_drills import (
    DRILL_NOTE,
    PLAN_ROUTE,
    PROVISION,
    SHELTER,
    drill,
    make_plan,
)
from tests.protocols.test_institutional_policy import CHAIN, FINDINGS, STANDARDS

SECRETS = [
    COMMUNITY,
    CONTACT,
    CONTACT_PHONE,
    GATHERING,
    REPORT_PHONE,
    RISK,
    ROUTE,
    SIGNAL,
    SIGNAL_MEANING,
    DRILL_NOTE,
    PLAN_ROUTE,
    PROVISION,
    SHELTER,
    "Tres Islas-Oculta",
    CHAIN,
    FINDINGS,
    STANDARDS,
]


def make_records(world):
    protocol = make_protocol(world)
    community.save_protocol_version(
        world.coordinator.user,
        protocol,
        title="Protocolo comunal v2",
        language="es",
        co_creators=["women"],
        community=COMMUNITY,
        sections={"safe_routes": ROUTE, "gathering_points": GATHERING},
        change_note="Segunda versión",
    )
    plan = make_plan(world, protocol=protocol)
    drill(world, date(2025, 1, 5), 600, followed=5, protocol=protocol, notes=DRILL_NOTE)
    institutional.update_institutional_policy(
        world.coordinator.user,
        world.org_a,
        has_security_manual=True,
        digital_security_standards=STANDARDS,
        chain_of_command=CHAIN,
    )
    institutional.record_compliance_check(
        world.coordinator.user,
        world.org_a,
        checked_on=date(2025, 2, 1),
        status="gaps_found",
        findings=FINDINGS,
    )
    return plan


def assert_reveals_nothing(dump: str, plan) -> None:
    # Plain columns of the same rows: they must show, or the dump did not see the rows.
    assert str(plan.pk).replace("-", "") in dump.replace("-", "")
    assert "Plan de evacuación comunal" in dump
    assert "Segunda versión" in dump
    leaked = [secret for secret in SECRETS if secret in dump]
    assert leaked == []
    assert "enc1:" in dump


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite dump")
def test_it_reveals_nothing_in_a_sqlite_dump(world):
    plan = make_records(world)
    connection.ensure_connection()
    dump = "\n".join(connection.connection.iterdump())
    assert_reveals_nothing(dump, plan)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL dump")
def test_it_reveals_nothing_in_a_pg_dump(transactional_db, world):
    plan = make_records(world)
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
    assert_reveals_nothing(result.stdout.decode("utf-8"), plan)
