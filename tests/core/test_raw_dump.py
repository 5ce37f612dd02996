"""A database dump without the master key reveals no name, contact or place of a person
or a safe house (DESIGN.md section 7). Each branch runs on its own database vendor; CI runs
the suite on SQLite and on PostgreSQL, so both execute."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from django.core import signing
from django.db import connection

from amparo.alerts import actions as alert_actions
from amparo.alerts import clock
from amparo.alerts.models import AckLink, OutboxMessage
from amparo.channels.sms.actions import receive_sms
from amparo.core.models import AuditEntry
from amparo.people import actions

SECRETS = [
    "Zoila",
    "Quispe Mamani",
    "Zoila Quispe Mamani",
    "+51 982 555 0199",
    "982 555 0199",
    "+51 984 303 7781",
    "zoila.quispe@example.pe",
    "Comunidad Nativa Boca Pariamanu",
    "Asháninka",
    "Dra. Hermelinda Ccori",
    "+51 82 571 900",
    "Jr. Loreto 742",
    "Casa Refugio Tambopata",
    "Av. Madre de Dios 1186",
    "-12.593412",
    "-69.189765",
    "Doña Teófila",
    "Entrar por la puerta de atrás",
    "Hombres armados en el embarcadero",
    "-12.61234",
    "vienen por mí esta noche",
]
# Plain columns of the same rows: they must show up, or the dump did not see the rows.
VISIBLE = ["org-raw-dump", "Región Madre de Dios"]


def make_records() -> None:
    org = actions.create_organisation(
        "test",
        name="Federación Raw",
        slug="org-raw-dump",
        kind="ngo",
        country="PE",
        region="Madre de Dios",
    )
    person = actions.create_person(
        "test",
        org,
        given_names="Zoila",
        family_names="Quispe Mamani",
        phone_numbers=["+51 982 555 0199", "+51 984 303 7781"],
        email="zoila.quispe@example.pe",
        home_area="Comunidad Nativa Boca Pariamanu",
        languages=["Asháninka"],
    )
    focal_user = actions.create_user("test", email="focal-raw@example.org", password=None)
    actions.add_membership("test", org, focal_user, "focal_point")
    boss = actions.create_person(
        "test", org, given_names="Doña Teófila", user=focal_user, phone_numbers=["+51 984 303 7781"]
    )
    actions.set_chain_of_command("test", person, supervisor=boss, emergency_rank=1)
    actions.create_directory_entry(
        "test",
        org,
        category="mental_health",
        region="Región Madre de Dios",
        name="Dra. Hermelinda Ccori",
        phone="+51 82 571 900",
        address="Jr. Loreto 742",
        specialties=["trauma"],
        person=person,
    )
    actions.create_safe_house(
        "test",
        org,
        region="Región Madre de Dios",
        name="Casa Refugio Tambopata",
        address="Av. Madre de Dios 1186",
        location={"lat": -12.593412, "lon": -69.189765},
        contact="+51 982 555 0199",
        notes="Entrar por la puerta de atrás",
    )
    # An alert about Zoila, its first step executed (outbox rows, acknowledgement links),
    # acknowledged by link, and an SMS from her number.
    alert = alert_actions.raise_alert(
        "test",
        org,
        kind="panic",
        severity="high",
        person=person,
        message="Hombres armados en el embarcadero",
        location={"lat": -12.61234, "lon": -69.2},
    )
    clock.run_due_steps("test")
    assert OutboxMessage.objects.filter(alert=alert).exists()
    link = AckLink.objects.filter(alert=alert).first()
    assert link is not None
    alert_actions.acknowledge_by_link(signing.dumps(str(link.pk), salt=alert_actions.ACK_SALT))
    receive_sms(
        org, sender="+51 982 555 0199", body="AYUDA vienen por mí esta noche", via="generic"
    )
    assert AuditEntry.objects.filter(organisation_id=org.pk).count() >= 6


def assert_reveals_nothing(dump: str) -> None:
    for visible in VISIBLE:
        assert visible in dump, f"the dump does not hold the test rows ({visible!r} missing)"
    leaked = [secret for secret in SECRETS if secret in dump]
    assert leaked == []
    assert "enc1:" in dump


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite dump")
def test_it_reveals_nothing_in_a_sqlite_dump(db):
    make_records()
    connection.ensure_connection()
    dump = "\n".join(connection.connection.iterdump())
    assert_reveals_nothing(dump)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL dump")
def test_it_reveals_nothing_in_a_pg_dump(transactional_db):
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to test the PostgreSQL dump"
    make_records()
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
