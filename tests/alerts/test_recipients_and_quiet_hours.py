"""Whom a step reaches and how (DESIGN.md section 6): role, person and directory targets
resolve to the right addresses per channel, one outbox row per (step, recipient, channel)
however often a step runs, quiet hours in the person's own time zone that never mute a
life-safety alert, and texts in the recipient's language that fit one SMS where they can."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from amparo.alerts import actions
from amparo.alerts.models import AlertStep, OutboxMessage, StepState
from amparo.alerts.sms import encoding, segment_count
from amparo.people import actions as people_actions
from tests.alerts.support import (
    T0,
    add_person,
    coordinator_person,
    fast_hashing,  # noqa: F401 - a fixture
    run_steps,
    set_quiet_hours,
)

pytestmark = pytest.mark.usefixtures("fast_hashing")


def one_tier_policy(world, targets, channels=("sms", "email"), name="Prueba"):
    return actions.save_policy(
        world.coordinator.user,
        world.org_a,
        policy=None,
        name=name,
        description="",
        kinds=["manual"],  # never chosen on its own for the kinds these tests raise
        severities=[],
        priority=900,
        tiers=[
            {
                "level": "local",
                "targets": targets,
                "channels": list(channels),
                "delay_minutes": 0,
                "repeat_count": 0,
                "repeat_interval_minutes": 5,
            }
        ],
    )


def raise_and_run(world, policy, kind="threat", severity="high", message="", at=T0, **kw):
    with time_machine.travel(at, tick=False):
        alert = actions.raise_alert(
            world.coordinator.user,
            world.org_a,
            kind=kind,
            severity=severity,
            message=message,
            policy=policy,
            **kw,
        )
        assert run_steps() == 1
    return alert


def sent(alert):
    """(recipient key, channel) -> address of every outbox row of the alert."""
    return {
        (m.idempotency_key.split(":", 1)[1].rsplit(":", 1)[0], m.channel): m.address
        for m in OutboxMessage.objects.filter(alert=alert)
    }


@pytest.fixture
def cast(world):
    """People and contacts with known addresses."""
    julia = coordinator_person(world)
    zoila = add_person(
        world.org_a,
        "Zoila",
        "Quispe",
        phone_numbers=["+51 982 555 0199", "+51 982 555 0200"],
        preferred_language="en",
    )
    # A profile with an account but no e-mail of its own: the account's e-mail is used.
    sara = add_person(world.org_a, "Sara", "Vargas", user=world.supervisor.user)
    ombudsman = people_actions.create_directory_entry(
        "test",
        world.org_a,
        category="ombudsman",
        region="Madre de Dios",
        name="Defensoría del Pueblo",
        phone="+51 82 571 111",
        email="defensoria@example.org",
    )
    network = people_actions.create_directory_entry(
        "test",
        world.org_a,
        category="defender_network",
        region="Madre de Dios",
        name="Red de defensores",
        phone="+51 82 571 222",
        email="red@example.org",
    )
    gone = people_actions.create_directory_entry(
        "test",
        world.org_a,
        category="defender_network",
        region="Madre de Dios",
        name="Red antigua",
        phone="+51 82 571 333",
        email="antigua@example.org",
    )
    people_actions.archive_directory_entry("test", gone)
    return {
        "julia": julia,
        "zoila": zoila,
        "sara": sara,
        "ombudsman": ombudsman,
        "network": network,
    }


def test_it_resolves_every_kind_of_target_to_the_right_address_per_channel(world, cast):
    policy = one_tier_policy(
        world,
        [
            {"type": "role", "role": "coordinator"},
            {"type": "role", "role": "focal_point"},
            {"type": "person", "id": str(cast["zoila"].pk)},
            {"type": "person", "id": str(cast["sara"].pk)},
            {"type": "directory", "id": str(cast["ombudsman"].pk)},
            {"type": "directory", "category": "defender_network"},
        ],
    )
    alert = raise_and_run(world, policy)
    julia, zoila, sara = cast["julia"], cast["zoila"], cast["sara"]
    focal = world.focal_point.user
    assert sent(alert) == {
        # The coordinator's profile: its first phone and its own e-mail.
        (f"person:{julia.pk}", "sms"): "+51 984 700 100",
        (f"person:{julia.pk}", "email"): "julia@a.example",
        # A focal point with no profile here: the account's e-mail, no phone to text.
        (f"user:{focal.pk}", "email"): "focal@a.example",
        # Only the first of two phones; no e-mail anywhere, so no e-mail message.
        (f"person:{zoila.pk}", "sms"): "+51 982 555 0199",
        # No phone; the e-mail of the account linked to the profile.
        (f"person:{sara.pk}", "email"): "supervisor@a.example",
        # Directory entries, by id and by category; archived entries are not reached.
        (f"directory:{cast['ombudsman'].pk}", "sms"): "+51 82 571 111",
        (f"directory:{cast['ombudsman'].pk}", "email"): "defensoria@example.org",
        (f"directory:{cast['network'].pk}", "sms"): "+51 82 571 222",
        (f"directory:{cast['network'].pk}", "email"): "red@example.org",
    }
    step = AlertStep.objects.get(alert=alert)
    assert step.recipients == 6
    labels = {m.recipient_label for m in OutboxMessage.objects.filter(alert=alert)}
    assert {"Julia Mamani Condori", "Zoila Quispe", "Sara Vargas", "focal@a.example"} <= labels


def test_it_reaches_nobody_outside_the_organisation(world, cast):
    other = add_person(world.org_b, "Ajena", phone_numbers=["+591 700 00000"])
    people_actions.create_directory_entry(
        "test", world.org_b, category="ombudsman", region="Pando", name="B", phone="+591 3 842 0000"
    )
    people_actions.add_membership("test", world.org_b, world.focal_point.user, "coordinator")
    policy = one_tier_policy(
        world,
        [
            {"type": "role", "role": "coordinator"},
            {"type": "directory", "category": "ombudsman"},
        ],
    )
    # A person of org B cannot even be named as a target of org A.
    with pytest.raises(ValidationError) as refused:
        one_tier_policy(world, [{"type": "person", "id": str(other.pk)}], name="Ajena")
    assert list(refused.value.message_dict) == ["tiers"]
    alert = raise_and_run(world, policy)
    assert set(sent(alert)) == {
        (f"person:{cast['julia'].pk}", "sms"),
        (f"person:{cast['julia'].pk}", "email"),
        (f"directory:{cast['ombudsman'].pk}", "sms"),
        (f"directory:{cast['ombudsman'].pk}", "email"),
    }


def test_it_reaches_no_archived_person(world, cast):
    policy = one_tier_policy(
        world,
        [{"type": "person", "id": str(cast["zoila"].pk)}, {"type": "role", "role": "coordinator"}],
    )
    people_actions.archive_person("test", cast["zoila"])
    alert = raise_and_run(world, policy)
    assert (f"person:{cast['zoila'].pk}", "sms") not in sent(alert)


def test_it_writes_one_row_per_step_recipient_and_channel_however_often_a_step_runs(world, cast):
    policy = one_tier_policy(
        world,
        [{"type": "role", "role": "coordinator"}, {"type": "person", "id": str(cast["zoila"].pk)}],
        channels=("sms", "email", "webhook"),
    )
    alert = raise_and_run(world, policy)
    step = AlertStep.objects.get(alert=alert)
    rows = list(OutboxMessage.objects.filter(alert=alert).values_list("idempotency_key", flat=True))
    # Julia by SMS and e-mail, Zoila by SMS, and one webhook call for the whole step.
    assert len(rows) == 4
    assert sorted(rows) == sorted(
        [
            f"{step.pk}:person:{cast['julia'].pk}:sms",
            f"{step.pk}:person:{cast['julia'].pk}:email",
            f"{step.pk}:person:{cast['zoila'].pk}:sms",
            f"{step.pk}:webhook:webhook",
        ]
    )
    # The step runs again (a worker died after writing, before its commit was seen).
    AlertStep.objects.filter(pk=step.pk).update(state=StepState.PENDING)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert run_steps() == 1
    actions.execute_step(AlertStep.objects.select_related("alert").get(pk=step.pk), "again")
    assert OutboxMessage.objects.filter(alert=alert).count() == 4
    # And the database itself refuses a second row with the same key.
    first = OutboxMessage.objects.filter(alert=alert).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(
            organisation=world.org_a,
            alert=alert,
            step=step,
            idempotency_key=first.idempotency_key,
            channel=first.channel,
            recipient_label="copy",
            body="copy",
            next_attempt_at=T0,
        )


# Quiet hours: 22:00 to 06:00 in Lima (UTC-5), across midnight.
LIMA_23H = datetime(2025, 3, 11, 4, 0, tzinfo=UTC)
LIMA_05H30 = datetime(2025, 3, 11, 10, 30, tzinfo=UTC)
LIMA_06H = datetime(2025, 3, 11, 11, 0, tzinfo=UTC)
LIMA_21H59 = datetime(2025, 3, 11, 2, 59, tzinfo=UTC)


@pytest.fixture
def quiet_zoila(world, cast):
    set_quiet_hours(cast["zoila"], "22:00", "06:00", "America/Lima")
    return one_tier_policy(
        world,
        [{"type": "person", "id": str(cast["zoila"].pk)}, {"type": "role", "role": "coordinator"}],
    )


def zoila_reached(alert, cast) -> bool:
    return (f"person:{cast['zoila'].pk}", "sms") in sent(alert)


@pytest.mark.parametrize("at", [LIMA_23H, LIMA_05H30], ids=["before-midnight", "after-midnight"])
def test_it_skips_a_quiet_person_for_a_medium_threat(world, cast, quiet_zoila, at):
    alert = raise_and_run(world, quiet_zoila, severity="medium", at=at)
    assert not zoila_reached(alert, cast)
    step = AlertStep.objects.get(alert=alert)
    assert step.skipped_quiet == 1
    assert step.state == StepState.DONE
    # The others are reached all the same.
    assert (f"person:{cast['julia'].pk}", "sms") in sent(alert)


@pytest.mark.parametrize("at", [LIMA_06H, LIMA_21H59], ids=["at-the-end", "just-before"])
def test_it_reaches_a_quiet_person_outside_their_quiet_hours(world, cast, quiet_zoila, at):
    alert = raise_and_run(world, quiet_zoila, severity="medium", at=at)
    assert zoila_reached(alert, cast)
    assert AlertStep.objects.get(alert=alert).skipped_quiet == 0


@pytest.mark.parametrize(
    ("kind", "severity"),
    [("panic", "high"), ("duress", "high"), ("missed_checkin", "medium"), ("threat", "high")],
)
def test_it_never_mutes_a_life_safety_alert(world, cast, quiet_zoila, kind, severity):
    alert = raise_and_run(world, quiet_zoila, kind=kind, severity=severity, at=LIMA_23H)
    assert zoila_reached(alert, cast)
    assert AlertStep.objects.get(alert=alert).skipped_quiet == 0


def test_it_reads_quiet_hours_in_the_persons_own_time_zone(world, cast):
    # 04:00 UTC is 23:00 in Lima (quiet) and 13:00 in Tokyo (not quiet).
    tokyo = add_person(world.org_a, "Kenji", phone_numbers=["+81 90 1234 5678"])
    set_quiet_hours(tokyo, "22:00", "06:00", "Asia/Tokyo")
    set_quiet_hours(cast["zoila"], "22:00", "06:00", "America/Lima")
    policy = one_tier_policy(
        world,
        [{"type": "person", "id": str(cast["zoila"].pk)}, {"type": "person", "id": str(tokyo.pk)}],
    )
    alert = raise_and_run(world, policy, severity="medium", at=LIMA_23H)
    assert set(sent(alert)) == {(f"person:{tokyo.pk}", "sms")}
    # A window that does not cross midnight: 12:00 to 14:00 in Tokyo.
    set_quiet_hours(tokyo, "12:00", "14:00", "Asia/Tokyo")
    alert = raise_and_run(world, policy, severity="medium", at=LIMA_23H)
    assert sent(alert) == {}


TEXTS = {
    "es": ("Alerta ALTA de AMPARO: Pánico", "Responda OK {code} para hacerse cargo."),
    "en": ("AMPARO HIGH alert: Panic", "Reply OK {code} to take responsibility."),
    "pt": ("Alerta AMPARO, gravidade ALTA: Pânico", "Responda OK {code} para assumir"),
}


@pytest.mark.parametrize("language", ["es", "en", "pt"])
def test_it_writes_in_the_recipients_language(world, language):
    reader = add_person(
        world.org_a,
        "Lectora",
        phone_numbers=["+51 984 000 001"],
        email="lectora@a.example",
        preferred_language=language,
    )
    policy = one_tier_policy(world, [{"type": "person", "id": str(reader.pk)}])
    alert = raise_and_run(world, policy, kind="panic", person=world.defender_person)
    email = OutboxMessage.objects.get(alert=alert, channel="email")
    sms = OutboxMessage.objects.get(alert=alert, channel="sms")
    title, reply = TEXTS[language]
    assert email.language == sms.language == language
    assert email.body.startswith(title)
    assert reply.format(code=alert.code) in email.body
    # The e-mail keeps every accent; the SMS may spell them the GSM-7 way.
    assert "Federación A" in email.body
    assert "Rosa Huamán" in email.body
    assert "/a/" in email.body.splitlines()[-1]
    assert reply.format(code=alert.code) in sms.body.replace("ã", "a")
    assert "/a/" not in sms.body  # no link in an SMS: replying is the way


LONG_MESSAGE = "Hombres armados en la trocha hacia la comunidad, vienen ya!!"
assert len(LONG_MESSAGE) == 60


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("es", ""),
        ("en", ""),
        ("pt", ""),
        ("es", "Amenazaron a Rosa en el puerto"),
        ("en", LONG_MESSAGE),
        ("es", LONG_MESSAGE),
        ("es", LONG_MESSAGE * 30),
        pytest.param(
            "pt",
            LONG_MESSAGE,
        ),
    ],
)
def test_it_fits_an_sms_into_one_gsm7_segment_where_it_can(world, language, message):
    reader = add_person(
        world.org_a, "Lectora", phone_numbers=["+51 984 000 001"], preferred_language=language
    )
    policy = one_tier_policy(world, [{"type": "person", "id": str(reader.pk)}], channels=["sms"])
    alert = raise_and_run(
        world, policy, kind="threat", message=message, person=world.defender_person
    )
    body = OutboxMessage.objects.get(alert=alert, channel="sms").body
    assert encoding(body) == "GSM-7", body
    assert segment_count(body) == 1, (len(body), body)
    assert alert.code in body
    assert "Huaman" in body  # "á" spelled "a": one GSM-7 segment instead of three UCS-2
