"""Expected check-ins from the itinerary, check-ins, duress and missed check-ins (issue 5
points 4 and 5; DESIGN.md section 5, "Check-in")."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.utils import OperationalError
from django.http import Http404

from amparo.alerts.models import Alert, AlertKind, OutboxMessage, Severity
from amparo.channels.models import InboundSms
from amparo.channels.sms import actions as sms_actions
from amparo.core.models import AuditEntry
from amparo.people import actions as people_actions
from amparo.travel import checkins
from amparo.travel.models import (
    CheckIn,
    Deployment,
    DeploymentStatus,
    ExpectedCheckIn,
    ExpectedState,
    Leg,
    TravellerPins,
)

PIN = "73190582"  # eight digits: a shorter one turns up by chance in hex hashes
DURESS = "46285517"
BEFORE = datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
# Lima is UTC-5 all year: 08:00 local is 13:00 UTC.
LIMA_START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def lead(world: Any) -> Any:
    return people_actions.create_person(
        "test",
        world.org_a,
        given_names="Lead",
        family_names="Person",
        phone_numbers=["+51982000777"],
    )


@pytest.fixture
def deployment(world: Any, lead: Any) -> Deployment:
    return Deployment.objects.create(
        organisation=world.org_a,
        traveller=world.defender_person,
        lead=lead,
        trip_type="other",
        starts_on=date(2026, 3, 1),
        returns_on=date(2026, 4, 30),
        status=DeploymentStatus.ACTIVE,
    )


def lima_leg(world: Any, deployment: Deployment, **overrides: Any) -> Leg:
    values: dict[str, Any] = {
        "place": "Hotel Los Pinos, Puerto Maldonado",
        "country": "PE",
        "region": "Madre de Dios",
        "time_zone": "America/Lima",
        "starts_at": LIMA_START,
        "ends_at": LIMA_START + timedelta(days=3),
    } | overrides
    return checkins.add_leg(world.coordinator.user, deployment, **values)


def expected(deployment: Deployment) -> list[ExpectedCheckIn]:
    return list(ExpectedCheckIn.objects.filter(deployment=deployment).order_by("due_at"))


def missed_alerts() -> list[Alert]:
    return list(Alert.objects.filter(kind=AlertKind.MISSED_CHECKIN))


# Generation


@time_machine.travel(BEFORE, tick=False)
def test_it_generates_one_expected_checkin_per_period_with_grace(world, deployment):
    lima_leg(world, deployment)
    rows = expected(deployment)
    assert [e.due_at for e in rows] == [LIMA_START + timedelta(days=d) for d in range(3)]
    assert all(e.deadline == e.due_at + timedelta(minutes=60) for e in rows)
    assert all(e.state == ExpectedState.PENDING for e in rows)


@time_machine.travel(BEFORE, tick=False)
def test_it_counts_periods_on_the_local_wall_clock_across_summer_time(world, deployment):
    # Copenhagen moves to summer time on 29 March 2026: 09:00 local is 08:00 UTC on the
    # 28th and 07:00 UTC from the 29th.
    checkins.add_leg(
        world.coordinator.user,
        deployment,
        country="DK",
        time_zone="Europe/Copenhagen",
        starts_at=utc(2026, 3, 28, 8, 0),
        ends_at=utc(2026, 3, 30, 12, 0),
        grace_minutes=30,
    )
    rows = expected(deployment)
    assert [e.due_at for e in rows] == [
        utc(2026, 3, 28, 8, 0),
        utc(2026, 3, 29, 7, 0),
        utc(2026, 3, 30, 7, 0),
    ]
    assert rows[0].deadline == utc(2026, 3, 28, 8, 30)


@time_machine.travel(BEFORE, tick=False)
def test_it_refuses_an_unknown_time_zone(world, deployment):
    with pytest.raises(ValidationError):
        lima_leg(world, deployment, time_zone="America/Atlantis")
    assert not Leg.objects.exists()


@time_machine.travel(BEFORE, tick=False)
def test_an_inactive_deployment_waits_for_nothing_until_it_becomes_active(world, deployment):
    Deployment.objects.filter(pk=deployment.pk).update(status=DeploymentStatus.READY)
    deployment.refresh_from_db()
    lima_leg(world, deployment)
    assert expected(deployment) == []
    Deployment.objects.filter(pk=deployment.pk).update(status=DeploymentStatus.ACTIVE)
    deployment.refresh_from_db()
    assert checkins.on_status_change(deployment) == 3
    assert len(expected(deployment)) == 3


@time_machine.travel(BEFORE, tick=False)
def test_returning_cancels_the_pending_checkins(world, deployment):
    lima_leg(world, deployment)
    Deployment.objects.filter(pk=deployment.pk).update(status=DeploymentStatus.RETURNED)
    deployment.refresh_from_db()
    checkins.on_status_change(deployment)
    assert {e.state for e in expected(deployment)} == {ExpectedState.CANCELLED}
    assert checkins.sweep_missed(BEFORE + timedelta(days=10)) == 0


def test_a_leg_change_regenerates_the_future_checkins_and_keeps_the_past(world, deployment):
    with time_machine.travel(BEFORE, tick=False):
        leg = lima_leg(world, deployment)
    with time_machine.travel(LIMA_START + timedelta(minutes=5), tick=False):
        checkins.check_in(world.defender.user, deployment, via="web")
        checkins.change_leg(world.coordinator.user, leg, checkin_every_hours=12)
    rows = expected(deployment)
    assert rows[0].state == ExpectedState.CHECKED_IN
    assert [e.due_at for e in rows] == [LIMA_START + timedelta(hours=12 * n) for n in range(6)]


def test_every_leg_change_is_audited_and_told_to_the_lead_once(world, deployment, lead):
    with time_machine.travel(BEFORE, tick=False):
        leg = lima_leg(world, deployment)
        checkins.change_leg(world.coordinator.user, leg, region="Cusco")
        checkins.remove_leg(world.coordinator.user, leg)
    actions = list(
        AuditEntry.objects.filter(object_id=str(deployment.pk), action__startswith="deployment.leg")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["deployment.leg_added", "deployment.leg_changed", "deployment.leg_removed"]
    messages = list(
        OutboxMessage.objects.filter(idempotency_key__startswith=f"deployment:{deployment.pk}:")
    )
    assert len(messages) == 3
    assert {m.address for m in messages} == {"+51982000777"}
    assert len({m.idempotency_key for m in messages}) == 3
    assert all("Hotel" not in m.body for m in messages)
    assert expected(deployment) == []


# Check-ins


def test_a_checkin_marks_the_current_expected_one(world, deployment):
    with time_machine.travel(BEFORE, tick=False):
        lima_leg(world, deployment)
    with time_machine.travel(LIMA_START + timedelta(days=1, minutes=20), tick=False):
        checkin = checkins.check_in(world.defender.user, deployment, via="web", note="ok")
    rows = expected(deployment)
    assert [e.state for e in rows] == [
        ExpectedState.PENDING,
        ExpectedState.CHECKED_IN,
        ExpectedState.PENDING,
    ]
    assert checkin.expected_id == rows[1].pk


@pytest.mark.parametrize("unswept", [2, checkins.LOOKAHEAD + 3])
def test_a_checkin_finds_its_expected_one_behind_missed_ones_not_yet_swept(
    world, deployment, unswept
):
    """Check-ins every hour with 15 minutes' grace; the worker has not run: the pending
    ones whose deadline passed come first, fewer or more than current_expected reads at
    once, and the check-in still answers the one being waited for."""
    with time_machine.travel(BEFORE, tick=False):
        lima_leg(world, deployment, checkin_every_hours=1, grace_minutes=15)
    rows = expected(deployment)
    assert len(rows) > unswept + 1
    waited_for = rows[unswept]
    with time_machine.travel(waited_for.due_at + timedelta(minutes=5), tick=False):
        checkin = checkins.check_in(world.defender.user, deployment, via="web")
    assert checkin.expected_id == waited_for.pk
    states = [e.state for e in expected(deployment)]
    assert states[:unswept] == [ExpectedState.PENDING] * unswept
    assert states[unswept] == ExpectedState.CHECKED_IN


def test_a_checkin_whose_expected_one_is_taken_before_its_transaction_answers_none(
    world, deployment, monkeypatch
):
    """The expected check-in is read before the check-in's transaction; if the sweep
    marks it missed in between, the check-in is still recorded, answers nothing, and
    the missed one stays missed."""
    with time_machine.travel(BEFORE, tick=False):
        lima_leg(world, deployment)
    waited_for = expected(deployment)[1]
    read = checkins.current_expected

    def read_then_swept(deployment: Deployment, now: datetime) -> Any:
        found = read(deployment, now)
        if found is not None:
            ExpectedCheckIn.objects.filter(pk=found.pk).update(state=ExpectedState.MISSED)
        return found

    monkeypatch.setattr(checkins, "current_expected", read_then_swept)
    with time_machine.travel(waited_for.deadline - timedelta(seconds=1), tick=False):
        checkin = checkins.check_in(world.defender.user, deployment, via="web")
    checkin.refresh_from_db()
    assert checkin.expected_id is None
    waited_for.refresh_from_db()
    assert waited_for.state == ExpectedState.MISSED
    assert AuditEntry.objects.filter(action="deployment.checked_in").count() == 1


def test_a_checkin_long_before_its_due_time_answers_none(world, deployment):
    with time_machine.travel(BEFORE, tick=False):
        lima_leg(world, deployment)
        checkin = checkins.check_in(world.defender.user, deployment, via="web")
    assert checkin.expected_id is None
    assert {e.state for e in expected(deployment)} == {ExpectedState.PENDING}


@pytest.fixture
def pins(world: Any) -> TravellerPins:
    return checkins.set_pins(world.defender.user, world.defender_person, PIN, DURESS)


def test_a_duress_checkin_looks_like_a_normal_one_and_raises_a_high_alert(world, deployment, pins):
    with time_machine.travel(BEFORE, tick=False):
        lima_leg(world, deployment)
    with time_machine.travel(LIMA_START, tick=False):
        normal = checkins.check_in(world.defender.user, deployment, via="api", pin=PIN)
    assert not Alert.objects.exists()
    with time_machine.travel(LIMA_START + timedelta(days=1), tick=False):
        duress = checkins.check_in(world.defender.user, deployment, via="api", pin=DURESS)
    rows = expected(deployment)
    assert rows[0].state == rows[1].state == ExpectedState.CHECKED_IN
    assert (normal.via, normal.note) == (duress.via, duress.note)
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity) == (AlertKind.DURESS, Severity.HIGH)
    assert alert.person_id == world.defender_person.pk
    assert alert.subject_id == str(deployment.pk)
    audits = AuditEntry.objects.filter(action="deployment.checked_in").order_by("seq")
    assert [a.details for a in audits] == [{"via": "api"}, {"via": "api"}]


def test_a_wrong_pin_is_refused_and_records_nothing(world, deployment, pins):
    with pytest.raises(checkins.WrongPin):
        checkins.check_in(world.defender.user, deployment, via="sms", pin="9999")
    assert not CheckIn.objects.exists()
    assert not Alert.objects.exists()


def test_the_pins_must_be_digits_and_differ(world):
    with pytest.raises(ValidationError):
        checkins.set_pins(world.defender.user, world.defender_person, "abcd")
    with pytest.raises(ValidationError):
        checkins.set_pins(world.defender.user, world.defender_person, PIN, PIN)


def test_a_checkin_on_an_inactive_deployment_is_refused(world, deployment):
    Deployment.objects.filter(pk=deployment.pk).update(status=DeploymentStatus.RETURNED)
    deployment.refresh_from_db()
    with pytest.raises(ValidationError):
        checkins.check_in(world.defender.user, deployment, via="web")


# Missed


def test_a_missed_checkin_raises_one_high_alert_however_often_the_sweep_runs(world, deployment):
    with time_machine.travel(BEFORE, tick=False):
        lima_leg(world, deployment)
    deadline = LIMA_START + timedelta(minutes=60)
    assert checkins.sweep_missed(deadline) == 0  # the deadline itself is still in time
    with time_machine.travel(deadline + timedelta(minutes=1), tick=False):
        assert checkins.sweep_missed(deadline + timedelta(minutes=1)) == 1
        assert checkins.sweep_missed(deadline + timedelta(minutes=1)) == 0
    (alert,) = missed_alerts()
    assert alert.severity == Severity.HIGH
    assert alert.person_id == world.defender_person.pk
    assert (alert.subject_type, alert.subject_id) == ("travel.deployment", str(deployment.pk))
    first = expected(deployment)[0]
    assert first.state == ExpectedState.MISSED
    assert first.alert_id == alert.pk
    assert expected(deployment)[1].state == ExpectedState.PENDING


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_raise_one_alert_per_missed_checkin(world, deployment):
    with time_machine.travel(BEFORE, tick=False):
        lima_leg(world, deployment)
    later = LIMA_START + timedelta(days=2, hours=2)  # all three are past their deadline
    start = threading.Barrier(2)
    counts: list[int] = []

    def sweep() -> None:
        try:
            start.wait()
            for _attempt in range(20):
                try:
                    counts.append(checkins.sweep_missed(later))
                    return
                except OperationalError:
                    time.sleep(0.05)  # the other sweep holds the write lock
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(counts) == 2
    assert sum(counts) == 3
    assert len(missed_alerts()) == 3
    assert {e.state for e in expected(deployment)} == {ExpectedState.MISSED}


def test_the_raw_database_holds_no_pin_and_no_place(world, deployment, pins):
    with time_machine.travel(BEFORE, tick=False):
        lima_leg(world, deployment)
    with time_machine.travel(LIMA_START, tick=False):
        checkins.check_in(
            world.defender.user, deployment, via="web", pin=PIN, note="Casa de Doña Elvira"
        )
    with connection.cursor() as cursor:
        rows = []
        for table in ("travel_leg", "travel_checkin", "travel_travellerpins", "core_auditentry"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            rows.extend(cursor.fetchall())
    dump = repr(rows)
    for secret in (PIN, DURESS, "Los Pinos", "Puerto Maldonado", "Elvira"):
        assert secret not in dump


# SMS: LLEGUE/CHECKIN/CHEGUEI <pin> through the generic webhook

ROSA = "+51 982 111 222"  # the world's defender, the traveller


def sms(client: Any, world: Any, body: str, sender: str = ROSA) -> tuple[str, InboundSms]:
    token = sms_actions.set_inbound_token("test", world.org_a)
    before = set(InboundSms.objects.values_list("pk", flat=True))
    response = client.post(
        f"/channels/sms/generic/{world.org_a.slug}/?token={token}", {"From": sender, "Body": body}
    )
    assert response.status_code == 200
    return response.content.decode("utf-8"), InboundSms.objects.exclude(pk__in=before).get()


@pytest.fixture
def on_trip(world: Any, deployment: Deployment, pins: TravellerPins) -> Deployment:
    with time_machine.travel(BEFORE, tick=False):
        lima_leg(world, deployment)
    return deployment


def test_llegue_with_the_pin_checks_in_by_sms(client, world, on_trip):
    with time_machine.travel(LIMA_START, tick=False):
        reply, inbound = sms(client, world, f"LLEGUE {PIN}")
    assert expected(on_trip)[0].state == ExpectedState.CHECKED_IN
    assert CheckIn.objects.get().via == "sms"
    assert inbound.outcome == "checked_in"
    assert not Alert.objects.exists()
    assert reply


def test_a_wrong_pin_by_sms_gets_a_short_refusal(client, world, on_trip):
    with time_machine.travel(LIMA_START, tick=False):
        right, _inbound = sms(client, world, f"CHECKIN {PIN}")
        wrong, inbound = sms(client, world, "CHECKIN 9999")
    assert wrong != right
    assert inbound.outcome == "checkin_refused"
    assert CheckIn.objects.count() == 1


def test_the_duress_pin_by_sms_gets_the_normal_reply_and_raises_a_high_alert(
    client, world, on_trip
):
    with time_machine.travel(LIMA_START, tick=False):
        normal, first = sms(client, world, f"CHEGUEI {PIN}")
    with time_machine.travel(LIMA_START + timedelta(days=1), tick=False):
        duress, second = sms(client, world, f"CHEGUEI {DURESS}")
    assert duress == normal
    assert (second.outcome, second.alert_id) == (first.outcome, first.alert_id)
    assert [e.state for e in expected(on_trip)][:2] == [ExpectedState.CHECKED_IN] * 2
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.source) == (AlertKind.DURESS, Severity.HIGH, "sms")


def test_a_number_without_an_active_trip_is_told_so(client, world, pins):
    reply, inbound = sms(client, world, f"LLEGUE {PIN}")
    assert inbound.outcome == "checkin_without_trip"
    assert not CheckIn.objects.exists()


# Lost-communications plan and proof of life


def test_the_lost_comms_plan_is_saved_and_audited(world, deployment):
    plan = checkins.save_lost_comms_plan(
        world.defender.user,
        deployment,
        traveller_will="Walk to the Puerto Maldonado police post",
        organisation_should="Call the embassy after 12 hours",
    )
    plan.refresh_from_db()
    assert plan.traveller_will.startswith("Walk")
    assert AuditEntry.objects.filter(action="deployment.lost_comms_plan_saved").count() == 1
    with pytest.raises(ValidationError):
        checkins.save_lost_comms_plan(
            world.defender.user, deployment, traveller_will=" ", organisation_should="x"
        )


def ctx_of(persona: Any) -> Any:
    from amparo.people.access import access_organisation_by_slug

    return access_organisation_by_slug(persona.user, persona.organisation.slug)


@pytest.fixture
def proof(world: Any, deployment: Deployment) -> Any:
    return checkins.set_proof_of_life(
        world.defender.user,
        deployment,
        [
            {"question": "Name of my first dog?", "answer": "Tintín"},
            {"question": "", "answer": "x"},
        ],
    )


def test_a_crisis_role_reads_proof_of_life_with_an_audited_reason(world, deployment, proof):
    answers = checkins.read_proof_of_life(
        ctx_of(world.coordinator), deployment, "Kidnappers called; verifying they hold her"
    )
    assert answers == [{"question": "Name of my first dog?", "answer": "Tintín"}]
    entry = AuditEntry.objects.get(action="deployment.proof_of_life_read")
    assert entry.details["justification"].startswith("Kidnappers")


def test_proof_of_life_needs_a_written_reason(world, deployment, proof):
    with pytest.raises(ValidationError):
        checkins.read_proof_of_life(ctx_of(world.coordinator), deployment, "  ")
    assert not AuditEntry.objects.filter(action="deployment.proof_of_life_read").exists()


@pytest.mark.parametrize("who", ["focal_point", "supervisor", "coordinator_b"])
def test_only_a_crisis_role_of_the_organisation_reads_proof_of_life(world, deployment, proof, who):
    with pytest.raises(Http404):
        checkins.read_proof_of_life(ctx_of(getattr(world, who)), deployment, "I want to see it")


def test_the_raw_database_holds_no_proof_of_life_answer(world, deployment, proof):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM travel_proofoflife")
        dump = repr(cursor.fetchall())
    assert "Tintín" not in dump
    assert "first dog" not in dump


@time_machine.travel(BEFORE, tick=False)
def test_set_status_starts_and_stops_the_check_ins(world, deployment):
    """actions.set_status calls checkins.on_status_change: becoming active schedules
    the expected check-ins (every gate let through here by a signed exception), and
    returning cancels the pending ones."""
    from amparo.travel import actions as travel_actions
    from amparo.travel import gates
    from amparo.travel.models import TravelSettings

    signatory = world.coordinator.user
    TravelSettings.objects.create(organisation=world.org_a, executive_director=signatory)
    Deployment.objects.filter(pk=deployment.pk).update(status=DeploymentStatus.READY)
    deployment.refresh_from_db()
    lima_leg(world, deployment)
    assert expected(deployment) == []
    for gate in gates.GATES:
        travel_actions.grant_exception(signatory, deployment, gate, "tested elsewhere")
    travel_actions.set_status(signatory, deployment, DeploymentStatus.ACTIVE)
    assert len(expected(deployment)) == 3
    travel_actions.set_status(signatory, deployment, DeploymentStatus.RETURNED)
    assert {e.state for e in expected(deployment)} == {ExpectedState.CANCELLED}
