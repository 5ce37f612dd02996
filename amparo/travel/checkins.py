"""The itinerary and its check-ins (issue 5 points 4 and 5; DESIGN.md section 5,
"Check-in"): legs, the expected check-ins generated from them, check-ins by web, SMS or
API, the traveller's check-in and duress PINs, and the sweep that turns an expected
check-in past its deadline into a "missed check-in" alert.

``travel.actions.set_status`` must call ``on_status_change(deployment)`` after it saves a
new status, inside its transaction: that generates the expected check-ins when the
deployment becomes active and cancels the pending ones when it returns or is cancelled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import Argon2PasswordHasher, check_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from amparo.alerts import actions as alert_actions
from amparo.alerts.models import AlertKind, Channel, OutboxMessage, Severity
from amparo.core import audit
from amparo.core.access import not_found
from amparo.core.db import prepared
from amparo.core.db.loader import Loader
from amparo.people.access import OrgContext
from amparo.people.models import Person, Role
from amparo.travel.models import (
    CheckIn,
    CheckInVia,
    Deployment,
    DeploymentStatus,
    ExpectedCheckIn,
    ExpectedState,
    Leg,
    LostCommsPlan,
    ProofOfLife,
    TravellerPins,
)

log = logging.getLogger("amparo.travel.checkins")

SWEEPER = "system:checkins"
LEG_FIELDS = (
    "position",
    "place",
    "country",
    "region",
    "time_zone",
    "starts_at",
    "ends_at",
    "checkin_every_hours",
    "grace_minutes",
)
# Readable in the audit log; the place is sealed and stays out of it.
AUDITED_LEG_FIELDS = tuple(f for f in LEG_FIELDS if f != "place")
PIN_DIGITS = (4, 8)  # as the SMS parser reads a PIN (channels.sms.commands._PIN)


class WrongPin(ValidationError):
    """Neither the check-in PIN nor the duress PIN."""


# Itinerary


@transaction.atomic
def add_leg(actor: Any, deployment: Deployment, **values: Any) -> Leg:
    leg = Leg(organisation_id=deployment.organisation_id, deployment=deployment)
    _assign(leg, values)
    leg.save()
    _leg_changed(actor, leg, "deployment.leg_added", sorted(values))
    return leg


@transaction.atomic
def change_leg(actor: Any, leg: Leg, **values: Any) -> Leg:
    locked = Leg.objects.select_for_update().get(pk=leg.pk)
    _assign(locked, values)
    locked.save()
    _leg_changed(actor, locked, "deployment.leg_changed", sorted(values))
    return locked


@transaction.atomic
def remove_leg(actor: Any, leg: Leg) -> None:
    deployment = leg.deployment
    removed = Leg(pk=leg.pk, organisation_id=leg.organisation_id, deployment=deployment)
    Leg.objects.filter(pk=leg.pk).delete()
    _leg_changed(actor, removed, "deployment.leg_removed", [])


def _assign(leg: Leg, values: dict[str, Any]) -> None:
    unknown = set(values) - set(LEG_FIELDS)
    if unknown:
        raise ValidationError({f: _("Not a field of a leg.") for f in sorted(unknown)})
    for name, value in values.items():
        setattr(leg, name, value)
    leg.full_clean(exclude=["organisation", "deployment"])
    if leg.ends_at <= leg.starts_at:
        raise ValidationError({"ends_at": _("A leg ends after it starts.")})
    if not leg.checkin_every_hours:
        raise ValidationError({"checkin_every_hours": _("Give at least one hour.")})


def _leg_changed(actor: Any, leg: Leg, action: str, fields: list[str]) -> None:
    deployment = Deployment.objects.select_related("lead", "lead__user").get(pk=leg.deployment_id)
    regenerate(deployment, timezone.now())
    entry = audit.record(
        actor,
        action,
        deployment,
        details={"leg": str(leg.pk), "fields": [f for f in fields if f in AUDITED_LEG_FIELDS]},
    )
    _tell_lead(deployment, entry.seq)


@dataclass(frozen=True)
class _Address:
    channel: str
    address: str
    language: str


def _address_of(person: Person | None) -> _Address | None:
    """E-mail when the person has one, else SMS to their first phone (as the threat
    report's Step 2 message to the supervisor)."""
    if person is None:
        return None
    email = person.email or (person.user.email if person.user is not None else "")
    phones = person.phone_numbers or []
    channel, address = (
        (Channel.EMAIL, email) if email else (Channel.SMS, phones[0] if phones else "")
    )
    if not address:
        return None
    return _Address(channel, address, person.preferred_language or "es")


def _tell_lead(deployment: Deployment, seq: int) -> None:
    """Reference: "any changes must be communicated immediately to the designated lead".
    The message names the change, not the place (the lead reads it in Amparo)."""
    lead = _address_of(deployment.lead)
    if lead is None:
        return
    assert deployment.lead is not None
    with translation.override(lead.language):
        body = _(
            "The itinerary of %(traveller)s's trip (%(start)s to %(end)s) changed. Read it "
            "in Amparo."
        ) % {
            "traveller": deployment.traveller.display_name,
            "start": deployment.starts_on.isoformat(),
            "end": deployment.returns_on.isoformat(),
        }
    OutboxMessage.objects.create(
        organisation_id=deployment.organisation_id,
        idempotency_key=f"deployment:{deployment.pk}:itinerary:{seq}:lead:{lead.channel}",
        channel=lead.channel,
        recipient_label=deployment.lead.display_name[:80],
        address=lead.address,
        body=body,
        language=lead.language,
        next_attempt_at=timezone.now(),
    )


# Expected check-ins


def due_times(leg: Leg) -> list[datetime]:
    """Every ``checkin_every_hours`` from the leg's start, counted on the wall clock of
    the leg's time zone (a daily check-in stays at the same local hour across a change of
    summer time), while before the leg's end; in UTC."""
    zone = ZoneInfo(leg.time_zone)
    start = leg.starts_at.astimezone(zone).replace(tzinfo=None)
    end = leg.ends_at
    period = timedelta(hours=leg.checkin_every_hours)
    times: list[datetime] = []
    local = start
    while True:
        due = local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))
        if due >= end:
            return times
        times.append(due)
        local += period


def regenerate(deployment: Deployment, now: datetime) -> int:
    """Replace the future pending check-ins of an active deployment with those its legs
    give now; the past ones and those answered stay. Returns how many were written."""
    if deployment.status != DeploymentStatus.ACTIVE:
        return 0
    ExpectedCheckIn.objects.filter(
        deployment=deployment, state=ExpectedState.PENDING, due_at__gt=now
    ).delete()
    kept = set(
        ExpectedCheckIn.objects.filter(deployment=deployment, due_at__gt=now)
        .exclude(state=ExpectedState.CANCELLED)
        .values_list("due_at", flat=True)
    )
    rows = []
    for leg in Leg.objects.filter(deployment=deployment):
        grace = timedelta(minutes=leg.grace_minutes)
        for due in due_times(leg):
            if due > now and due not in kept:
                kept.add(due)
                rows.append(
                    ExpectedCheckIn(
                        organisation_id=deployment.organisation_id,
                        deployment=deployment,
                        leg=leg,
                        due_at=due,
                        deadline=due + grace,
                    )
                )
    ExpectedCheckIn.objects.bulk_create(rows)
    return len(rows)


def on_status_change(deployment: Deployment) -> int:
    """Called by ``travel.actions.set_status`` inside its transaction: an active
    deployment gets its expected check-ins; a returned or cancelled one waits for none."""
    if deployment.status == DeploymentStatus.ACTIVE:
        return regenerate(deployment, timezone.now())
    if deployment.status in (DeploymentStatus.RETURNED, DeploymentStatus.CANCELLED):
        return ExpectedCheckIn.objects.filter(
            deployment=deployment, state=ExpectedState.PENDING
        ).update(state=ExpectedState.CANCELLED)
    return 0


# How many of a deployment's first pending check-ins current_expected reads at once.
LOOKAHEAD = 8
# Read on every check-in: with SQL written once (amparo/core/db/loader.py).
_EXPECTED = Loader(ExpectedCheckIn)


def current_expected(deployment: Deployment, now: datetime) -> ExpectedCheckIn | None:
    """The check-in being waited for: the earliest pending one whose deadline has not
    passed and whose grace before the due time has begun (one may check in up to the
    grace early, as late).

    Read through the index on (deployment, state, due_at): the deployment's first
    pending check-ins in order, of which the one waited for is normally the first (ones
    whose deadline has passed come before it only until the worker marks them missed).
    A filter on the deadline in SQL would lead SQLite's planner to the sweep's index on
    (state, deadline), which reads every traveller's pending check-ins (bench/checkins.py:
    with 1,000 travellers that query was most of a check-in's time)."""
    first = _EXPECTED.all(
        f"t0.deployment_id = %s AND t0.state = %s ORDER BY t0.due_at LIMIT {LOOKAHEAD:d}",
        [_EXPECTED.param("deployment", deployment.pk), ExpectedState.PENDING.value],
    )
    upcoming = [expected for expected in first if expected.deadline >= now]
    if not upcoming and len(first) == LOOKAHEAD:
        pending = ExpectedCheckIn.objects.filter(
            deployment=deployment, state=ExpectedState.PENDING
        ).order_by("due_at")
        # More unswept missed ones than the lookahead (the worker was down): ask SQL.
        upcoming = list(pending.filter(deadline__gte=now)[:1])
    for expected in upcoming[:1]:
        if expected.due_at - (expected.deadline - expected.due_at) <= now:
            return expected
    return None


# PINs


def _valid_pin(pin: str) -> bool:
    low, high = PIN_DIGITS
    return pin.isascii() and pin.isdigit() and low <= len(pin) <= high


class PinHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane) for check-in PINs, instead of
    Django's password settings (100 MiB, 8 lanes: about 300 ms a hash here, and every PIN
    check-in checks two). A PIN has at most 10^8 values, so no cost setting protects a
    stolen hash from an offline search; what protects a PIN is the online limit
    (PIN_ATTEMPTS below). The cost only needs to stop cheap mass cracking."""

    algorithm = "argon2pin"
    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1


PIN_HASHER = PinHasher()


def hash_pin(pin: str) -> str:
    return PIN_HASHER.encode(pin, PIN_HASHER.salt())


def pin_matches(pin: str, encoded: str) -> bool:
    """Checks a PIN against its hash; hashes made before PinHasher (Django's own argon2)
    still verify."""
    if encoded.startswith(PinHasher.algorithm + "$"):
        return PIN_HASHER.verify(pin, encoded)
    return check_password(pin, encoded)


@transaction.atomic
def set_pins(actor: Any, person: Person, checkin_pin: str, duress_pin: str = "") -> TravellerPins:
    """The traveller sets both PINs; only their hashes are kept."""
    if not _valid_pin(checkin_pin):
        raise ValidationError({"checkin_pin": _("A PIN is 4 to 8 digits.")})
    if duress_pin and not _valid_pin(duress_pin):
        raise ValidationError({"duress_pin": _("A PIN is 4 to 8 digits.")})
    if duress_pin and duress_pin == checkin_pin:
        raise ValidationError({"duress_pin": _("The duress PIN must differ from the other.")})
    pins, _created = TravellerPins.objects.get_or_create(
        person=person,
        defaults={"organisation_id": person.organisation_id, "checkin_pin": ""},
    )
    pins.checkin_pin = hash_pin(checkin_pin)
    pins.duress_pin = hash_pin(duress_pin) if duress_pin else ""
    pins.save()
    audit.record(actor, "travel.pins_set", pins, details={"duress": bool(duress_pin)})
    return pins


# Reference-free rule of our own (threat model, "a seized phone"): a check-in PIN has at
# most 10,000 values, so guesses are limited. A correct PIN resets the count.
PIN_ATTEMPTS = 5
PIN_WINDOW_MINUTES = 15
PIN_LOCK_MINUTES = 15
PIN_WINDOW = timedelta(minutes=PIN_WINDOW_MINUTES)
PIN_LOCK = timedelta(minutes=PIN_LOCK_MINUTES)


class PinsLocked(ValidationError):
    """Too many wrong PINs lately: PIN check-ins are refused for a while."""


def _wrong_pin() -> WrongPin:
    return WrongPin({"pin": _("That PIN is not right.")})


def _pins_locked() -> PinsLocked:
    return PinsLocked({"pin": _("Too many wrong PINs; try again later or call your coordinator.")})


def _take_attempt(person: Person, now: datetime) -> TravellerPins | None:
    """Count this PIN as wrong before its hashes are checked (``_verify_pin`` resets the
    count when it is right), so guesses sent in parallel cannot pass the limit. Its own
    short transaction: a WrongPin later rolls back the check-in, never the count. A
    locked traveller's row is returned unchanged."""
    with transaction.atomic():
        pins = TravellerPins.objects.select_for_update().filter(person=person).first()
        if pins is None or (pins.locked_until is not None and pins.locked_until > now):
            return pins
        if pins.failed_since is None or pins.failed_since <= now - PIN_WINDOW:
            pins.failed_attempts, pins.failed_since = 0, now
        pins.failed_attempts += 1
        pins.locked_until = None
        TravellerPins.objects.filter(pk=pins.pk).update(
            failed_attempts=pins.failed_attempts,
            failed_since=pins.failed_since,
            locked_until=None,
        )
    return pins


def _verify_pin(actor: Any, deployment: Deployment, pin: str, via: str) -> bool:
    """False for the check-in PIN, True for the duress PIN; WrongPin otherwise, and
    PinsLocked after PIN_ATTEMPTS wrong ones within PIN_WINDOW, for PIN_LOCK. The hashes
    are checked outside any write transaction (on SQLite it would hold the write lock).

    While locked even the right check-in PIN is refused: otherwise the guesser learns
    which guess was right. The duress PIN is refused the same way but still raises its
    silent alert, so a traveller forced to check in is never left without one."""
    now = timezone.now()
    pins = _take_attempt(deployment.traveller, now) if _valid_pin(pin) else None
    if pins is None:
        raise _wrong_pin()
    if pins.locked_until is not None and pins.locked_until > now:
        if pins.duress_pin and pin_matches(pin, pins.duress_pin):
            with transaction.atomic():
                _raise_duress(actor, deployment, via)
        raise _pins_locked()
    # Both hashes are always checked, so the duress PIN takes no longer to answer.
    normal = pin_matches(pin, pins.checkin_pin)
    duress = bool(pins.duress_pin) and pin_matches(pin, pins.duress_pin)
    if normal or duress:
        return duress
    if pins.failed_attempts >= PIN_ATTEMPTS:
        _lock(actor, deployment, pins, now, via)
    raise _wrong_pin()


def _lock(actor: Any, deployment: Deployment, pins: TravellerPins, now: datetime, via: str) -> None:
    """Lock once (a conditional update: of wrong PINs sent together, one locks), audit
    it and tell the organisation: someone may be guessing on the traveller's phone. A
    medium alert of kind "manual" (a kind of its own needs an alerts migration)."""
    with transaction.atomic():
        took = (
            TravellerPins.objects.filter(pk=pins.pk, failed_attempts__gte=PIN_ATTEMPTS)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
            .update(locked_until=now + PIN_LOCK)
        )
        if not took:
            return
        audit.record(
            actor,
            "travel.pins_locked",
            pins,
            organisation_id=pins.organisation_id,
            details={"via": via, "attempts": pins.failed_attempts, "minutes": PIN_LOCK_MINUTES},
        )
        alert_actions.raise_alert(
            SWEEPER,
            deployment.organisation,
            kind=AlertKind.MANUAL,
            severity=Severity.MEDIUM,
            message=_(
                "%(count)s wrong check-in PINs for this traveller within %(window)s minutes: "
                "PIN check-ins are refused for %(lock)s minutes. If the traveller did not "
                "type them, someone else may have their phone. Call them."
            )
            % {
                "count": pins.failed_attempts,
                "window": PIN_WINDOW_MINUTES,
                "lock": PIN_LOCK_MINUTES,
            },
            person=deployment.traveller,
            subject=deployment,
            source="checkin",
        )


def _raise_duress(actor: Any, deployment: Deployment, via: str) -> None:
    alert_actions.raise_alert(
        actor,
        deployment.organisation,
        kind=AlertKind.DURESS,
        severity=Severity.HIGH,
        person=deployment.traveller,
        subject=deployment,
        source=via,
    )


# Check-ins


def active_deployment_of(person: Person) -> Deployment | None:
    return (
        Deployment.objects.filter(traveller=person, status=DeploymentStatus.ACTIVE)
        .order_by("-starts_on")
        .first()
    )


def check_in(
    actor: Any,
    deployment: Deployment,
    *,
    via: str,
    pin: str | None = None,
    location: dict[str, float] | None = None,
    note: str = "",
) -> CheckIn:
    """Record a check-in and mark the expected one it answers. With the duress PIN it
    looks exactly the same (reply, rows, audit entry) and silently raises a high duress
    alert about the traveller (DESIGN.md sections 5 and 7). ``pin`` None: the traveller
    is signed in (web or API) and gave none. The PIN is checked before the check-in's
    transaction: a wrong one is counted (``_verify_pin``) even though nothing is
    recorded; so a caller must not wrap this in a transaction it rolls back on WrongPin."""
    if via not in CheckInVia.values:
        raise ValidationError({"via": _("Unknown channel.")})
    if deployment.status != DeploymentStatus.ACTIVE:
        raise ValidationError({"deployment": _("This trip is not active.")})
    duress = pin is not None and _verify_pin(actor, deployment, pin, via)
    return _record_check_in(
        actor,
        deployment,
        via=via,
        pinned=pin is not None,
        duress=duress,
        location=location,
        note=note,
    )


def _record_check_in(
    actor: Any,
    deployment: Deployment,
    *,
    via: str,
    pinned: bool,
    duress: bool,
    location: dict[str, float] | None,
    note: str,
) -> CheckIn:
    """The check-in row, the expected check-in it answers marked, the audit entry.

    Read and compiled before the transaction (amparo/core/db/prepared.py): on SQLite a
    check-in's transaction holds the only write lock, and with the rows built inside it a
    check-in held it 2.5 ms, most of it Python, while every other check-in waited."""
    now = timezone.now()
    expected = current_expected(deployment, now)
    checkin = CheckIn(
        organisation_id=deployment.organisation_id,
        deployment=deployment,
        at=now,
        via=via,
        note=note,
        expected=expected,
    )
    checkin.location = location  # sealed JSON (the stubs read the column as text)
    writes = prepared.insert([checkin])
    mark = None
    if expected is not None:
        mark = prepared.update(
            ExpectedCheckIn.objects.filter(pk=expected.pk, state=ExpectedState.PENDING),
            state=ExpectedState.CHECKED_IN,
            checked_in_at=now,
        )
    reset = None
    if pinned:
        # The right PIN (or the duress one): the wrong ones before it no longer count.
        reset = prepared.update(
            TravellerPins.objects.filter(person_id=deployment.traveller_id),
            failed_attempts=0,
            failed_since=None,
        )
    # On PostgreSQL the statements run together go in one round trip
    # (amparo/core/db/prepared.py): the reset with the mark, the row with the audit
    # chain's head.
    with transaction.atomic():
        if mark is not None:
            taken = prepared.run(*([reset] if reset is not None else []), mark) == 0
        else:
            taken = False
            if reset is not None:
                prepared.run(reset)
        if taken:
            # Taken meanwhile (the sweep found it missed a moment ago): this check-in
            # answers the one waited for now, if any, read again under the lock.
            expected = current_expected(deployment, now)
            checkin.expected = expected
            if expected is not None:
                ExpectedCheckIn.objects.filter(pk=expected.pk, state=ExpectedState.PENDING).update(
                    state=ExpectedState.CHECKED_IN, checked_in_at=now
                )
            writes = prepared.insert([checkin])
        if duress:
            prepared.run(writes)
            writes = prepared.Statements(writes.using, ())
            _raise_duress(actor, deployment, via)
        audit.record(actor, "deployment.checked_in", checkin, details={"via": via}, after=[writes])
    return checkin


# Missed check-ins


def _overdue(now: datetime) -> Any:
    return ExpectedCheckIn.objects.filter(state=ExpectedState.PENDING, deadline__lt=now)


# Missed check-ins claimed per transaction: the first alerts of a burst commit (and go
# out) while the rest are still being raised; the worker sweeps again at once.
SWEEP_BATCH = 20


def sweep_missed(now: datetime, limit: int = SWEEP_BATCH) -> int:
    """Claim expected check-ins past their deadline exactly once, mark them missed and
    raise a high "missed check-in" alert for each. Claimed as the escalation clock claims
    steps (DESIGN.md section 6): SKIP LOCKED on PostgreSQL; on SQLite inside the
    IMMEDIATE transaction, with a conditional update besides. Returns how many."""
    if not _overdue(now).exists():
        return 0  # look before locking: an idle second costs one indexed query
    with transaction.atomic():
        due = _overdue(now).order_by("deadline")
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due[:limit])
        if not rows:
            return 0
        # The claim, conditional besides: on PostgreSQL the rows are locked by this
        # transaction, on SQLite it holds the write lock, so all of them are still pending.
        # Were one not, the whole batch rolls back (and is swept again) rather than risk
        # an alert twice.
        claimed = ExpectedCheckIn.objects.filter(
            pk__in=[e.pk for e in rows], state=ExpectedState.PENDING
        ).update(state=ExpectedState.MISSED)
        if claimed != len(rows):
            raise transaction.TransactionManagementError(
                f"{len(rows) - claimed} missed check-ins were taken by another sweep"
            )
        deployments = Deployment.objects.select_related("organisation", "traveller").in_bulk(
            {e.deployment_id for e in rows}
        )
        # The policy of a missed check-in, chosen once per organisation of the batch.
        policies: dict[Any, tuple[Any, dict[str, Any]]] = {}
        prepared = []
        for expected in rows:
            deployment = deployments[expected.deployment_id]
            if deployment.organisation_id not in policies:
                policy = alert_actions.choose_policy(
                    deployment.organisation, AlertKind.MISSED_CHECKIN, Severity.HIGH
                )
                policies[deployment.organisation_id] = (policy, policy.snapshot())
            policy, snapshot = policies[deployment.organisation_id]
            prepared.append(
                alert_actions.prepare_alert(
                    SWEEPER,
                    deployment.organisation,
                    kind=AlertKind.MISSED_CHECKIN,
                    severity=Severity.HIGH,
                    message=_("The check-in due at %(due)s UTC did not arrive.")
                    % {"due": expected.due_at.strftime("%Y-%m-%d %H:%M")},
                    person=deployment.traveller,
                    subject=deployment,
                    source="checkin",
                    policy=policy,
                    snapshot=snapshot,
                )
            )
        # All the batch's alerts and their steps in one statement per table, and the
        # audit entries appended together at the end (one lock of the chain's head).
        entries: list[audit.Pending] = []
        alerts = alert_actions.raise_alerts(SWEEPER, prepared, audit_batch=entries)
        for expected, alert in zip(rows, alerts, strict=True):
            expected.alert = alert
        ExpectedCheckIn.objects.bulk_update(rows, ["alert"])
        audit.record_many(entries)
    return len(rows)


# If the check-ins stop: the lost-communications plan and proof of life (issue 5, 5 and 6)

# DESIGN.md section 1: the security coordinator runs crises.
CRISIS_ROLES = frozenset({Role.COORDINATOR})


@transaction.atomic
def save_lost_comms_plan(
    actor: Any, deployment: Deployment, *, traveller_will: str, organisation_should: str
) -> LostCommsPlan:
    if not traveller_will.strip() or not organisation_should.strip():
        raise ValidationError(_("Say what you will do and what the organisation should do."))
    plan, _created = LostCommsPlan.objects.update_or_create(
        deployment=deployment,
        defaults={
            "organisation_id": deployment.organisation_id,
            "traveller_will": traveller_will.strip(),
            "organisation_should": organisation_should.strip(),
        },
    )
    audit.record(actor, "deployment.lost_comms_plan_saved", deployment)
    return plan


@transaction.atomic
def set_proof_of_life(
    actor: Any, deployment: Deployment, questions: list[dict[str, str]]
) -> ProofOfLife:
    """The traveller's questions and answers, set before departure."""
    kept = [
        {"question": str(q.get("question", "")).strip(), "answer": str(q.get("answer", "")).strip()}
        for q in questions
        if isinstance(q, dict)
    ]
    kept = [q for q in kept if q["question"] and q["answer"]]
    if not kept:
        raise ValidationError(_("Give at least one question with its answer."))
    proof, _created = ProofOfLife.objects.update_or_create(
        deployment=deployment,
        defaults={"organisation_id": deployment.organisation_id, "questions": kept},
    )
    audit.record(actor, "deployment.proof_of_life_set", deployment, details={"count": len(kept)})
    return proof


@transaction.atomic
def read_proof_of_life(
    ctx: OrgContext, deployment: Deployment, justification: str
) -> list[dict[str, str]]:
    """The answers, for a crisis role of the deployment's organisation who writes why;
    the reading and its reason are audited. Anyone else: the same 404 as a missing one."""
    if deployment.organisation_id != ctx.organisation.pk:
        not_found()
    if not ctx.has_any(CRISIS_ROLES):
        not_found()
    proof = ProofOfLife.objects.filter(deployment=deployment).first()
    if proof is None:
        not_found()
    if len(justification.strip()) < 10:
        raise ValidationError({"justification": _("Write why you need to read the answers.")})
    audit.record(
        ctx.user,
        "deployment.proof_of_life_read",
        deployment,
        details={"justification": justification.strip()[:2000]},
    )
    return list(proof.questions)
