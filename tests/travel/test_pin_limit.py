"""The limit on wrong check-in PINs: after 5 within 15 minutes, PIN check-ins are refused
for 15 minutes, by the API and by SMS alike; the lock is audited and raises a medium
alert (someone may be guessing on the traveller's phone)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import translation

from amparo.alerts.models import Alert, AlertKind, Severity
from amparo.channels.models import InboundSms
from amparo.channels.sms import actions as sms_actions
from amparo.core.models import AuditEntry
from amparo.travel import checkins
from amparo.travel.models import CheckIn, Deployment, DeploymentStatus, TravellerPins

PIN = "73190582"
DURESS = "46285517"
WRONG = "11112222"
BEFORE = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
ROSA = "+51 982 111 222"  # the world's defender, the traveller
LOCKED = "Too many wrong PINs; try again later or call your coordinator."


@pytest.fixture
def deployment(world: Any) -> Deployment:
    deployment = Deployment.objects.create(
        organisation=world.org_a,
        traveller=world.defender_person,
        trip_type="other",
        starts_on=date(2026, 3, 1),
        returns_on=date(2026, 3, 10),
        status=DeploymentStatus.ACTIVE,
    )
    checkins.set_pins(world.defender.user, world.defender_person, PIN, DURESS)
    with time_machine.travel(BEFORE, tick=False):
        checkins.add_leg(
            world.coordinator.user,
            deployment,
            country="PE",
            time_zone="America/Lima",
            starts_at=START,
            ends_at=START + timedelta(days=3),
        )
    return deployment


def attempt(world: Any, deployment: Deployment, pin: str) -> str:
    """``checked_in``, ``wrong`` or ``locked``."""
    try:
        checkins.check_in(world.defender.user, deployment, via="api", pin=pin)
    except checkins.PinsLocked:
        return "locked"
    except checkins.WrongPin:
        return "wrong"
    return "checked_in"


def pins_of(world: Any) -> TravellerPins:
    return TravellerPins.objects.get(person=world.defender_person)


def lock_alerts() -> list[Alert]:
    return list(Alert.objects.filter(kind=AlertKind.MANUAL, source="checkin"))


def test_it_locks_pin_checkins_after_five_wrong_pins(world, deployment):
    with time_machine.travel(START, tick=False):
        assert [attempt(world, deployment, WRONG) for _ in range(5)] == ["wrong"] * 5
        assert attempt(world, deployment, WRONG) == "locked"
        assert attempt(world, deployment, PIN) == "locked"  # even the right one
    assert not CheckIn.objects.exists()
    assert pins_of(world).locked_until == START + timedelta(minutes=15)


def test_the_count_survives_the_refusal(world, deployment):
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            attempt(world, deployment, WRONG)
    assert pins_of(world).failed_attempts == 3
    assert not CheckIn.objects.exists()


def test_the_lock_is_audited_and_raises_one_medium_alert(world, deployment):
    with time_machine.travel(START, tick=False):
        for _ in range(8):
            attempt(world, deployment, WRONG)
    (entry,) = AuditEntry.objects.filter(action="travel.pins_locked")
    assert entry.details == {"via": "api", "attempts": 5, "minutes": 15}
    (alert,) = lock_alerts()
    assert alert.severity == Severity.MEDIUM
    assert alert.person_id == world.defender_person.pk
    assert alert.subject_id == str(deployment.pk)
    assert not Alert.objects.exclude(pk=alert.pk).exists()


def test_a_right_pin_resets_the_count(world, deployment):
    with time_machine.travel(START, tick=False):
        outcomes = [attempt(world, deployment, WRONG) for _ in range(4)]
        outcomes.append(attempt(world, deployment, PIN))
        outcomes += [attempt(world, deployment, WRONG) for _ in range(4)]
        outcomes.append(attempt(world, deployment, PIN))
    assert outcomes == (["wrong"] * 4 + ["checked_in"]) * 2
    assert pins_of(world).failed_attempts == 0
    assert not lock_alerts()


def test_the_duress_pin_resets_the_count_too(world, deployment):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            attempt(world, deployment, WRONG)
        assert attempt(world, deployment, DURESS) == "checked_in"
    assert pins_of(world).failed_attempts == 0
    assert Alert.objects.get().kind == AlertKind.DURESS


def test_wrong_pins_further_apart_than_the_window_do_not_add_up(world, deployment):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            attempt(world, deployment, WRONG)
    with time_machine.travel(START + timedelta(minutes=16), tick=False):
        assert [attempt(world, deployment, WRONG) for _ in range(4)] == ["wrong"] * 4
        assert attempt(world, deployment, PIN) == "checked_in"


def test_the_lock_ends_after_fifteen_minutes(world, deployment):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            attempt(world, deployment, WRONG)
    with time_machine.travel(START + timedelta(minutes=14), tick=False):
        assert attempt(world, deployment, PIN) == "locked"
    with time_machine.travel(START + timedelta(minutes=15, seconds=1), tick=False):
        assert attempt(world, deployment, PIN) == "checked_in"
    assert pins_of(world).failed_attempts == 0


def test_after_the_lock_the_count_starts_again(world, deployment):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            attempt(world, deployment, WRONG)
    with time_machine.travel(START + timedelta(minutes=16), tick=False):
        assert [attempt(world, deployment, WRONG) for _ in range(5)] == ["wrong"] * 5
        assert attempt(world, deployment, PIN) == "locked"
    assert len(lock_alerts()) == 2


def test_the_duress_pin_while_locked_is_refused_but_still_raises_its_alert(world, deployment):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            attempt(world, deployment, WRONG)
        assert attempt(world, deployment, DURESS) == "locked"
    assert not CheckIn.objects.exists()
    duress = Alert.objects.get(kind=AlertKind.DURESS)
    assert (duress.severity, duress.person_id) == (Severity.HIGH, world.defender_person.pk)


def test_a_malformed_pin_is_refused_without_counting(world, deployment):
    with time_machine.travel(START, tick=False):
        for _ in range(6):
            assert attempt(world, deployment, "abc") == "wrong"
        assert attempt(world, deployment, PIN) == "checked_in"


def test_a_checkin_without_a_pin_is_not_locked(world, deployment):
    """Signed in on the web or with the API token and no PIN: the lock is on guessing
    PINs, not on the traveller's session."""
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            attempt(world, deployment, WRONG)
        checkins.check_in(world.defender.user, deployment, via="web")
    assert CheckIn.objects.count() == 1


# Over the API


def test_the_api_answers_the_lock_clearly(world, api_client, deployment):
    client = api_client(world.defender)
    url = f"/api/v1/deployments/{deployment.pk}/checkins"
    with time_machine.travel(START, tick=False):
        statuses = [
            client.post(url, json.dumps({"pin": WRONG}), content_type="application/json")
            for _ in range(5)
        ]
        locked = client.post(url, json.dumps({"pin": PIN}), content_type="application/json")
    assert [r.status_code for r in statuses] == [422] * 5
    assert locked.status_code == 422
    # The API answers in the account's language (Spanish by default).
    with translation.override(world.defender.user.language):
        assert locked.json()["detail"] == {"pin": [translation.gettext(LOCKED)]}
    assert pins_of(world).failed_attempts == 5


# By SMS: LLEGUE <pin> through the generic webhook


def sms(client: Any, world: Any, body: str) -> tuple[str, InboundSms]:
    token = sms_actions.set_inbound_token("test", world.org_a)
    before = set(InboundSms.objects.values_list("pk", flat=True))
    response = client.post(
        f"/channels/sms/generic/{world.org_a.slug}/?token={token}", {"From": ROSA, "Body": body}
    )
    assert response.status_code == 200
    return response.content.decode("utf-8"), InboundSms.objects.exclude(pk__in=before).get()


def test_wrong_pins_by_sms_count_and_lock(client, world, deployment):
    # The reply follows the traveller's preferred language; read it in English.
    world.defender_person.preferred_language = "en"
    world.defender_person.save(update_fields=["preferred_language"])
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            _reply, inbound = sms(client, world, f"LLEGUE {WRONG}")
            assert inbound.outcome == "checkin_refused"
        reply, inbound = sms(client, world, f"LLEGUE {PIN}")
    assert inbound.outcome == "checkin_locked"
    assert reply == LOCKED
    assert not CheckIn.objects.exists()
    assert pins_of(world).failed_attempts == 5
    assert len(lock_alerts()) == 1


def test_a_right_pin_by_sms_resets_the_count(client, world, deployment):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            sms(client, world, f"LLEGUE {WRONG}")
        _reply, inbound = sms(client, world, f"LLEGUE {PIN}")
    assert inbound.outcome == "checked_in"
    assert pins_of(world).failed_attempts == 0


def test_pins_are_hashed_with_the_pin_hasher_and_old_hashes_still_verify(world, deployment):
    """PINs use Argon2id at OWASP's minimum (checkins.PinHasher), not the password
    settings; a PIN hashed before, with Django's Argon2 hasher, still checks in."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    pins = TravellerPins.objects.get(person=world.defender_person)
    assert pins.checkin_pin.startswith("argon2pin$argon2id$v=19$m=19456,t=2,p=1$")
    assert PIN not in pins.checkin_pin and DURESS not in pins.duress_pin
    assert checkins.pin_matches(PIN, pins.checkin_pin)
    assert not checkins.pin_matches(WRONG, pins.checkin_pin)
    old = Argon2PasswordHasher()
    pins.checkin_pin = old.encode(PIN, old.salt())
    pins.save()
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        assert attempt(world, deployment, WRONG) == "wrong"
        with time_machine.travel(START + timedelta(hours=1), tick=False):
            assert attempt(world, deployment, PIN) == "checked_in"
