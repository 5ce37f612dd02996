"""Writes of psychosocial referrals and sessions (CONVENTIONS.md point 2): each action
validates, saves and audits in one transaction. Audit details carry ids, choices and
counts, never the sealed reason, healing practices or clinical notes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.people.models import (
    DirectoryCategory,
    DirectoryEntry,
    Membership,
    Organisation,
    Person,
    Role,
)
from amparo.programmes.models import (
    PsychosocialReferral,
    PsychosocialSession,
    ReferralStatus,
    ReferralUrgency,
)

MAX_TEXT = 8000
MAX_SESSION_MINUTES = 600


def _user_id(actor: Any) -> Any:
    return actor.pk if getattr(actor, "is_authenticated", False) else None


def _text(value: str | None) -> str:
    return (value or "").strip()


def _check_psychologist(organisation: Organisation, psychologist: Any) -> None:
    if psychologist is None:
        return
    if not Membership.objects.filter(
        organisation=organisation, user=psychologist, role=Role.PSYCHOLOGIST
    ).exists():
        raise ValidationError(
            {"psychologist": _("Choose a psychologist who is a member of this organisation.")}
        )


@transaction.atomic
def refer_person(
    actor: Any,
    organisation: Organisation,
    *,
    person: Person,
    professional: DirectoryEntry,
    reason: str,
    consent: bool,
    urgency: str = ReferralUrgency.URGENT,
    community_healing_practices: str = "",
    psychologist: Any = None,
    crisis_case_id: UUID | None = None,
    threat_report: Any = None,
) -> PsychosocialReferral:
    """Refer a person to a mental-health professional of the directory (reference,
    Strategy 6, line 4: "Referral pathways")."""
    errors: dict[str, str] = {}
    if person.organisation_id != organisation.pk or person.archived_at is not None:
        errors["person"] = _("Choose a person of this organisation.")
    if (
        professional.organisation_id != organisation.pk
        or professional.category != DirectoryCategory.MENTAL_HEALTH
        or professional.archived_at is not None
    ):
        errors["professional"] = _("Choose a mental-health professional from the directory.")
    reason = _text(reason)
    if not reason:
        errors["reason"] = _("Say why the person is referred.")
    elif len(reason) > MAX_TEXT:
        errors["reason"] = _("This text is too long.")
    practices = _text(community_healing_practices)
    if len(practices) > MAX_TEXT:
        errors["community_healing_practices"] = _("This text is too long.")
    if urgency not in ReferralUrgency.values:
        errors["urgency"] = _("Choose an urgency.")
    # Nobody is referred without agreeing to it.
    if not consent:
        errors["consent"] = _("The person must agree to the referral before it is made.")
    if threat_report is not None and threat_report.organisation_id != organisation.pk:
        errors["threat_report"] = _("Choose a threat report of this organisation.")
    if errors:
        raise ValidationError(errors)
    _check_psychologist(organisation, psychologist)
    now = timezone.now()
    referral = PsychosocialReferral(
        organisation=organisation,
        person=person,
        professional=professional,
        psychologist=psychologist,
        referred_by_id=_user_id(actor),
        referred_at=now,
        reason=reason,
        urgency=urgency,
        community_healing_practices=practices,
        includes_healing_practices=bool(practices),
        consent_recorded_at=now,
        consent_recorded_by_id=_user_id(actor),
        crisis_case_id=crisis_case_id,
        threat_report=threat_report,
    )
    referral.save()
    audit.record(
        actor,
        "psychosocial_referral.created",
        referral,
        details={
            "person": str(person.pk),
            "professional": str(professional.pk),
            "psychologist": str(psychologist.pk) if psychologist is not None else None,
            "urgency": urgency,
            "consent": True,
            "crisis_case": str(crisis_case_id) if crisis_case_id else None,
            "threat_report": str(threat_report.pk) if threat_report is not None else None,
        },
    )
    return referral


def _refuse_if_closed(referral: PsychosocialReferral) -> None:
    if referral.status == ReferralStatus.CLOSED:
        raise ValidationError(_("This referral is closed."))


@transaction.atomic
def assign_psychologist(actor: Any, referral: PsychosocialReferral, psychologist: Any) -> None:
    _refuse_if_closed(referral)
    _check_psychologist(referral.organisation, psychologist)
    referral.psychologist = psychologist
    referral.save(update_fields=["psychologist", "updated_at"])
    audit.record(
        actor,
        "psychosocial_referral.psychologist_assigned",
        referral,
        details={"psychologist": str(psychologist.pk) if psychologist is not None else None},
    )


@transaction.atomic
def record_healing_practices(actor: Any, referral: PsychosocialReferral, practices: str) -> None:
    _refuse_if_closed(referral)
    practices = _text(practices)
    if len(practices) > MAX_TEXT:
        raise ValidationError({"community_healing_practices": _("This text is too long.")})
    referral.community_healing_practices = practices
    referral.includes_healing_practices = bool(practices)
    referral.save(
        update_fields=["community_healing_practices", "includes_healing_practices", "updated_at"]
    )
    audit.record(
        actor,
        "psychosocial_referral.healing_practices_recorded",
        referral,
        details={"present": bool(practices)},
    )


def _is_assigned_psychologist(actor: Any, referral: PsychosocialReferral) -> bool:
    return (
        referral.psychologist_id is not None
        and _user_id(actor) == referral.psychologist_id
        and Membership.objects.filter(
            organisation_id=referral.organisation_id,
            user_id=referral.psychologist_id,
            role=Role.PSYCHOLOGIST,
        ).exists()
    )


@transaction.atomic
def record_session(
    actor: Any,
    referral: PsychosocialReferral,
    *,
    held_on: date,
    duration_minutes: int,
    attended: bool,
    clinical_notes: str = "",
) -> PsychosocialSession:
    """Count a session. Clinical notes come only from the assigned psychologist: whoever
    else records a session (the coordinator, for an outside professional) records the
    date, the duration and the attendance."""
    referral = PsychosocialReferral.objects.select_for_update().get(pk=referral.pk)
    _refuse_if_closed(referral)
    errors: dict[str, str] = {}
    if held_on > timezone.localdate():
        errors["held_on"] = _("A session is recorded once it has taken place.")
    if not 1 <= duration_minutes <= MAX_SESSION_MINUTES:
        errors["duration_minutes"] = _("Give the duration in minutes, from 1 to 600.")
    notes = _text(clinical_notes)
    if notes and not _is_assigned_psychologist(actor, referral):
        errors["clinical_notes"] = _("Only the assigned psychologist writes clinical notes.")
    elif len(notes) > MAX_TEXT:
        errors["clinical_notes"] = _("This text is too long.")
    if errors:
        raise ValidationError(errors)
    session = PsychosocialSession(
        organisation_id=referral.organisation_id,
        referral=referral,
        held_on=held_on,
        duration_minutes=duration_minutes,
        attended=attended,
        clinical_notes=notes,
        recorded_by_id=_user_id(actor),
    )
    session.save()
    if attended and referral.status == ReferralStatus.OPEN:
        referral.status = ReferralStatus.ACTIVE
        referral.save(update_fields=["status", "updated_at"])
    audit.record(
        actor,
        "psychosocial_session.recorded",
        session,
        details={
            "referral": str(referral.pk),
            "held_on": held_on.isoformat(),
            "duration_minutes": duration_minutes,
            "attended": attended,
            "with_notes": bool(notes),
        },
    )
    return session


@transaction.atomic
def schedule_next_session(actor: Any, referral: PsychosocialReferral, at: datetime | None) -> None:
    _refuse_if_closed(referral)
    referral.next_session_at = at
    referral.save(update_fields=["next_session_at", "updated_at"])
    audit.record(
        actor,
        "psychosocial_referral.next_session",
        referral,
        details={"at": at.isoformat() if at is not None else None},
    )


@transaction.atomic
def close_referral(actor: Any, referral: PsychosocialReferral) -> None:
    _refuse_if_closed(referral)
    referral.status = ReferralStatus.CLOSED
    referral.closed_at = timezone.now()
    referral.closed_by_id = _user_id(actor)
    referral.next_session_at = None
    referral.save(
        update_fields=["status", "closed_at", "closed_by", "next_session_at", "updated_at"]
    )
    audit.record(
        actor,
        "psychosocial_referral.closed",
        referral,
        details={"sessions": referral.sessions.count()},
    )


@transaction.atomic
def read_clinical_notes(actor: Any, referral: PsychosocialReferral) -> list[PsychosocialSession]:
    """The sessions with their notes opened, for the assigned psychologist (checked by
    programmes.access.access_clinical_notes). Every reading is audited."""
    if not _is_assigned_psychologist(actor, referral):
        raise ValidationError(_("Only the assigned psychologist reads the clinical notes."))
    sessions = list(referral.sessions.all())
    audit.record(
        actor,
        "psychosocial_referral.notes_read",
        referral,
        details={"sessions": len(sessions)},
    )
    return sessions
