"""Trainings (issue 8, point 4; reference, Strategy 1, lines of action 1 to 9).

A workshop records its line of action, topic, date, duration, language, community and
facilitator; its participants are counted by gender, age band, Indigenous identity and
role, with pre- and post-workshop scores (reference, Strategy 1, line 1: "Pre- and
post-workshop surveys or evaluation activities should be applied to measure knowledge
acquired"). A name is not needed; when given, it is sealed, as is the phone kept for
the follow-ups (line 1: "Post-training follow-up ... using phone calls or SMS (in areas
with limited internet coverage)"). Follow-ups are queued in the alerts outbox with one
idempotency key per follow-up and participant, so a follow-up is sent once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.alerts.models import Channel, OutboxMessage
from amparo.core import audit
from amparo.people.models import Organisation
from amparo.programmes.models import (
    AgeBand,
    Gender,
    IndigenousIdentity,
    ParticipantRole,
    TrainingLine,
    Workshop,
    WorkshopFollowUp,
    WorkshopParticipant,
)

MAX_FOLLOW_UP = 300  # two SMS segments at most
MAX_NAME = 200


def _user_id(actor: Any) -> Any:
    return actor.pk if getattr(actor, "is_authenticated", False) else None


def _text(value: str | None) -> str:
    return (value or "").strip()


def _score(value: Any, field: str, errors: dict[str, str]) -> int | None:
    if value is None or value == "":
        return None
    if not isinstance(value, int) or not 0 <= value <= 100:
        errors[field] = _("Give a score from 0 to 100.")
        return None
    return value


@transaction.atomic
def record_workshop(
    actor: Any,
    organisation: Organisation,
    *,
    line: str,
    topic: str,
    held_on: date,
    duration_hours: Any,
    language: str,
    community: str,
    facilitator: str,
) -> Workshop:
    errors: dict[str, str] = {}
    if line not in TrainingLine.values:
        errors["line"] = _("Choose the line of action.")
    topic, language, community, facilitator = (
        _text(topic),
        _text(language),
        _text(community),
        _text(facilitator),
    )
    for field, value, limit in (
        ("topic", topic, 200),
        ("language", language, 60),
        ("community", community, 120),
        ("facilitator", facilitator, MAX_NAME),
    ):
        if not value:
            errors[field] = _("This field is required.")
        elif len(value) > limit:
            errors[field] = _("This text is too long.")
    try:
        hours = Decimal(str(duration_hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        hours = Decimal(0)
    if not Decimal(0) < hours < Decimal(100):
        errors["duration_hours"] = _("Give the duration in hours.")
    if held_on > timezone.localdate():
        errors["held_on"] = _("A workshop is recorded once it has taken place.")
    if errors:
        raise ValidationError(errors)
    workshop = Workshop(
        organisation=organisation,
        line=line,
        topic=topic,
        held_on=held_on,
        duration_hours=hours,
        language=language,
        community=community,
        facilitator=facilitator,
        created_by_id=_user_id(actor),
    )
    workshop.save()
    audit.record(
        actor,
        "workshop.recorded",
        workshop,
        details={"line": line, "held_on": held_on.isoformat(), "hours": str(hours)},
    )
    return workshop


@transaction.atomic
def add_participant(
    actor: Any,
    workshop: Workshop,
    *,
    gender: str,
    age_band: str,
    indigenous: str,
    role: str,
    pre_score: int | None = None,
    post_score: int | None = None,
    name: str = "",
    phone: str = "",
    follow_up_consent: bool = False,
) -> WorkshopParticipant:
    errors: dict[str, str] = {}
    for field, value, choices in (
        ("gender", gender, Gender.values),
        ("age_band", age_band, AgeBand.values),
        ("indigenous", indigenous, IndigenousIdentity.values),
        ("role", role, ParticipantRole.values),
    ):
        if value not in choices:
            errors[field] = _("Choose one.")
    pre = _score(pre_score, "pre_score", errors)
    post = _score(post_score, "post_score", errors)
    name, phone = _text(name), _text(phone)
    if len(name) > MAX_NAME:
        errors["name"] = _("This text is too long.")
    if phone and not (7 <= sum(ch.isdigit() for ch in phone) <= 15):
        errors["phone"] = _("Give a phone number, e.g. +51 982 111 222.")
    if follow_up_consent and not phone:
        errors["phone"] = _("Give a phone to send the follow-ups to.")
    if errors:
        raise ValidationError(errors)
    participant = WorkshopParticipant(
        organisation_id=workshop.organisation_id,
        workshop=workshop,
        gender=gender,
        age_band=age_band,
        indigenous=indigenous,
        role=role,
        pre_score=pre,
        post_score=post,
        name=name,
        # Least data: no consent, no phone kept.
        phone=phone if follow_up_consent else "",
        follow_up_consent=bool(follow_up_consent),
    )
    participant.save()
    audit.record(
        actor,
        "workshop.participant_added",
        participant,
        details={
            "workshop": str(workshop.pk),
            "gender": gender,
            "age_band": age_band,
            "indigenous": indigenous,
            "role": role,
            "named": bool(name),
            "follow_up_consent": participant.follow_up_consent,
        },
    )
    return participant


@transaction.atomic
def record_scores(
    actor: Any,
    participant: WorkshopParticipant,
    *,
    pre_score: int | None,
    post_score: int | None,
) -> WorkshopParticipant:
    errors: dict[str, str] = {}
    participant.pre_score = _score(pre_score, "pre_score", errors)
    participant.post_score = _score(post_score, "post_score", errors)
    if errors:
        raise ValidationError(errors)
    participant.save(update_fields=["pre_score", "post_score"])
    audit.record(
        actor,
        "workshop.scores_recorded",
        participant,
        details={"pre": participant.pre_score, "post": participant.post_score},
    )
    return participant


def follow_up_key(follow_up: WorkshopFollowUp, participant: WorkshopParticipant) -> str:
    return f"workshop-follow-up:{follow_up.pk}:participant:{participant.pk}:sms"


@transaction.atomic
def send_follow_up(
    actor: Any, workshop: Workshop, *, message: str, request_key: UUID
) -> WorkshopFollowUp:
    """Queue one SMS per participant who agreed and gave a phone. ``request_key`` names
    this follow-up: sending it again (a form posted twice, a retried API call) returns
    the follow-up already queued and queues nothing more."""
    message = _text(message)
    if not message:
        raise ValidationError({"message": _("Write the message.")})
    if len(message) > MAX_FOLLOW_UP:
        raise ValidationError({"message": _("Keep the message under 300 characters.")})
    existing = WorkshopFollowUp.objects.filter(request_key=request_key).first()
    if existing is not None:
        if existing.workshop_id != workshop.pk:
            raise ValidationError(_("This follow-up belongs to another workshop."))
        return existing
    follow_up = WorkshopFollowUp(
        organisation_id=workshop.organisation_id,
        workshop=workshop,
        request_key=request_key,
        message=message,
        queued_by_id=_user_id(actor),
        queued_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            follow_up.save(force_insert=True)
    except IntegrityError:
        # A concurrent post of the same form won the race: it queued the messages.
        return WorkshopFollowUp.objects.get(request_key=request_key)
    queued = queue_follow_up(follow_up)
    audit.record(
        actor,
        "workshop.follow_up_queued",
        follow_up,
        details={"workshop": str(workshop.pk), "recipients": queued},
    )
    return follow_up


def queue_follow_up(follow_up: WorkshopFollowUp) -> int:
    """Write the follow-up's outbox rows that are not written yet; the number written.
    Safe to call again: each key is written once."""
    participants = WorkshopParticipant.objects.filter(
        workshop_id=follow_up.workshop_id, follow_up_consent=True
    )
    language = "es"
    written = 0
    now = timezone.now()
    for participant in participants:
        if not participant.phone:
            continue
        key = follow_up_key(follow_up, participant)
        if OutboxMessage.objects.filter(idempotency_key=key).exists():
            continue
        OutboxMessage.objects.create(
            organisation_id=follow_up.organisation_id,
            idempotency_key=key,
            channel=Channel.SMS,
            recipient_label=_("Workshop participant")[:80],
            address=participant.phone,
            body=follow_up.message,
            language=language,
            next_attempt_at=now,
        )
        written += 1
    total = WorkshopParticipant.objects.filter(
        workshop_id=follow_up.workshop_id, follow_up_consent=True
    ).count()
    if follow_up.recipients != total:
        follow_up.recipients = total
        follow_up.save(update_fields=["recipients"])
    return written
