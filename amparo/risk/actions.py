"""Writes of risk assessments; every one validated, saved and audited in one
transaction (CONVENTIONS.md point 2). The arithmetic is risk.method's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.incidents.models import ThreatReport
from amparo.people.models import Organisation, Person
from amparo.risk import method
from amparo.risk.models import (
    LEVEL_OF,
    REASSESS_MONTHS,
    ActorType,
    Capacity,
    Endangers,
    MitigationAction,
    ReassessEvery,
    RiskAssessment,
    RiskSubject,
    SubjectKind,
    Threat,
    Vulnerability,
)

MAX_TEXT = 4000
# Coordinators are reminded this long before a re-assessment falls due.
REMIND_BEFORE = timedelta(days=7)
# A subject made today is due now; it is not worth a reminder before tomorrow.
FIRST_REMINDER_AFTER = timedelta(days=1)


@dataclass
class ThreatInput:
    actor_type: str
    description: str
    rating: int
    recurring: bool = False
    endangers: list[str] = field(default_factory=list)
    incident: ThreatReport | None = None


@dataclass
class FactorInput:
    description: str
    rating: int


@dataclass
class ActionInput:
    description: str
    owner: Person
    due_on: date | None = None


def today() -> date:
    return timezone.now().date()


def next_due(assessed_on: date, reassess_every: str) -> date:
    y, m, d = method.add_months(
        assessed_on.year, assessed_on.month, assessed_on.day, REASSESS_MONTHS[reassess_every]
    )
    return date(y, m, d)


def reminder_at(due_on: date) -> datetime:
    return datetime.combine(due_on - REMIND_BEFORE, time(12, 0), tzinfo=UTC)


def _decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.001"), rounding=ROUND_HALF_UP
    )


def _text(value: str, name: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({name: _("Write a description.")})
    if len(value) > MAX_TEXT:
        raise ValidationError({name: _("At most %(n)s characters, please.") % {"n": MAX_TEXT}})
    return value


def _rating(value: Any, name: str) -> int:
    try:
        return method.check_rating(int(value), name)
    except (TypeError, ValueError):
        raise ValidationError({name: _("Rate it from 1 to 5.")}) from None


# Subjects


@transaction.atomic
def create_subject(
    actor: Any,
    organisation: Organisation,
    *,
    kind: str,
    person: Person | None = None,
    community_name: str = "",
    region: str = "",
    reassess_every: str = ReassessEvery.QUARTER,
) -> RiskSubject:
    """A subject to assess. A person and the organisation have one subject each: asking
    again returns the one there is."""
    if kind not in SubjectKind.values:
        raise ValidationError({"kind": _("Choose a person, a community or the organisation.")})
    if reassess_every not in ReassessEvery.values:
        raise ValidationError({"reassess_every": _("Choose every quarter or every six months.")})
    existing = None
    if kind == SubjectKind.PERSON:
        if person is None or person.organisation_id != organisation.pk:
            raise ValidationError({"person": _("Choose a person of this organisation.")})
        existing = RiskSubject.objects.filter(organisation=organisation, person=person).first()
        community_name, region = "", region.strip()
    elif kind == SubjectKind.COMMUNITY:
        person = None
        community_name = _text(community_name, "community_name")[:200]
    else:
        person, community_name = None, ""
        existing = RiskSubject.objects.filter(
            organisation=organisation, kind=SubjectKind.ORGANISATION
        ).first()
    if existing is not None:
        return existing
    subject = RiskSubject.objects.create(
        organisation=organisation,
        kind=kind,
        person=person,
        community_name=community_name,
        region=region.strip()[:120],
        reassess_every=reassess_every,
        next_due_on=today(),
        next_reminder_at=timezone.now() + FIRST_REMINDER_AFTER,
    )
    audit.record(actor, "risk.subject_created", subject, details={"kind": kind})
    return subject


@transaction.atomic
def set_reassessment(actor: Any, subject: RiskSubject, reassess_every: str) -> RiskSubject:
    """Quarterly (the default) or every six months; the next due date is counted again
    from the latest assessment."""
    if reassess_every not in ReassessEvery.values:
        raise ValidationError({"reassess_every": _("Choose every quarter or every six months.")})
    before = subject.reassess_every
    subject.reassess_every = reassess_every
    latest = subject.assessments.order_by("-assessed_on", "-created_at").first()
    if latest is not None:
        subject.next_due_on = next_due(latest.assessed_on, reassess_every)
        subject.next_reminder_at = reminder_at(subject.next_due_on)
        RiskAssessment.objects.filter(pk=latest.pk).update(next_due_on=subject.next_due_on)
    subject.save(update_fields=["reassess_every", "next_due_on", "next_reminder_at", "updated_at"])
    audit.record(
        actor, "risk.reassessment_set", subject, details={"from": before, "to": reassess_every}
    )
    return subject


# Assessments


def _check_threat(subject: RiskSubject, index: int, threat: ThreatInput) -> ThreatInput:
    name = f"threats-{index}"
    if threat.actor_type not in ActorType.values:
        raise ValidationError({name: _("Choose who is behind the threat.")})
    unknown = set(threat.endangers) - set(Endangers.values)
    if unknown:
        raise ValidationError({name: _("Choose what the threat endangers from the list.")})
    if threat.incident is not None and threat.incident.organisation_id != subject.organisation_id:
        # A threat report of another organisation: the same words as a missing one.
        raise ValidationError({name: _("Choose a threat report of this organisation.")})
    return ThreatInput(
        actor_type=threat.actor_type,
        description=_text(threat.description, name),
        rating=_rating(threat.rating, name),
        recurring=bool(threat.recurring),
        endangers=sorted(set(threat.endangers)),
        incident=threat.incident,
    )


def _check_owner(subject: RiskSubject, index: int, action: ActionInput) -> ActionInput:
    name = f"actions-{index}"
    owner = action.owner
    if owner is None or owner.organisation_id != subject.organisation_id:
        raise ValidationError({name: _("Choose an owner of this organisation.")})
    if owner.archived_at is not None:
        raise ValidationError({name: _("Choose an owner of this organisation.")})
    return ActionInput(_text(action.description, name), owner, action.due_on)


@transaction.atomic
def record_assessment(
    actor: Any,
    subject: RiskSubject,
    *,
    assessed_on: date | None,
    likelihood: int,
    impact: int,
    threats: list[ThreatInput],
    vulnerabilities: list[FactorInput],
    capacities: list[FactorInput],
    scenarios: str = "",
    mitigation: list[ActionInput] | None = None,
) -> RiskAssessment:
    """Rate, combine (risk.method.assess), save, move the subject's due date on, audit.
    It takes at least one threat and one vulnerability; capacities may be none (the
    method then counts 1)."""
    assessed_on = assessed_on or today()
    if assessed_on > today():
        raise ValidationError({"assessed_on": _("An assessment cannot be dated in the future.")})
    if not threats:
        raise ValidationError({"__all__": _("Record at least one threat or attack.")})
    if not vulnerabilities:
        raise ValidationError({"__all__": _("Record at least one vulnerability.")})
    likelihood = _rating(likelihood, "likelihood")
    impact = _rating(impact, "impact")
    threats = [_check_threat(subject, i, t) for i, t in enumerate(threats)]
    vulnerabilities = [
        FactorInput(
            _text(v.description, f"vulnerabilities-{i}"), _rating(v.rating, "vulnerability")
        )
        for i, v in enumerate(vulnerabilities)
    ]
    capacities = [
        FactorInput(_text(c.description, f"capacities-{i}"), _rating(c.rating, "capacity"))
        for i, c in enumerate(capacities)
    ]
    mitigation = [_check_owner(subject, i, a) for i, a in enumerate(mitigation or [])]
    scenarios = _text(scenarios, "scenarios", required=False)

    result = method.assess(
        [method.ThreatFacts(t.rating, t.recurring, frozenset(t.endangers)) for t in threats],
        [v.rating for v in vulnerabilities],
        [c.rating for c in capacities],
        likelihood,
        impact,
    )
    due = next_due(assessed_on, subject.reassess_every)
    assessment = RiskAssessment.objects.create(
        organisation_id=subject.organisation_id,
        subject=subject,
        assessed_on=assessed_on,
        assessed_by=actor if getattr(actor, "is_authenticated", False) else None,
        likelihood=likelihood,
        impact=impact,
        scenarios=scenarios,
        threat_factor=_decimal(result.threat),
        vulnerability_factor=_decimal(result.vulnerability),
        capacity_factor=_decimal(result.capacity),
        formula_score=_decimal(result.score),
        formula_level=LEVEL_OF[result.formula_level],
        matrix_score=result.matrix_score,
        matrix_level=LEVEL_OF[result.matrix_level],
        level=LEVEL_OF[result.level],
        level_floors=list(result.floors),
        serious_and_imminent=result.imminence.flagged,
        imminence_reasons=list(result.imminence.reasons),
        next_due_on=due,
    )
    org_id = subject.organisation_id
    for i, t in enumerate(threats):
        Threat.objects.create(
            organisation_id=org_id,
            assessment=assessment,
            position=i,
            actor_type=t.actor_type,
            description=t.description,
            rating=t.rating,
            recurring=t.recurring,
            endangers=t.endangers,
            incident=t.incident,
        )
    for i, v in enumerate(vulnerabilities):
        Vulnerability.objects.create(
            organisation_id=org_id,
            assessment=assessment,
            position=i,
            description=v.description,
            rating=v.rating,
        )
    for i, c in enumerate(capacities):
        Capacity.objects.create(
            organisation_id=org_id,
            assessment=assessment,
            position=i,
            description=c.description,
            rating=c.rating,
        )
    for a in mitigation:
        MitigationAction.objects.create(
            organisation_id=org_id,
            assessment=assessment,
            description=a.description,
            owner=a.owner,
            due_on=a.due_on,
        )
    # A back-dated assessment joins the history without moving the schedule back.
    latest = subject.assessments.order_by("-assessed_on", "-created_at").first()
    if latest is not None and latest.pk == assessment.pk:
        subject.next_due_on = due
        subject.next_reminder_at = reminder_at(due)
        subject.save(update_fields=["next_due_on", "next_reminder_at", "updated_at"])
    audit.record(
        actor,
        "risk.assessed",
        assessment,
        details={
            "subject": str(subject.pk),
            "level": assessment.level,
            "serious_and_imminent": assessment.serious_and_imminent,
            "next_due_on": due.isoformat(),
        },
    )
    return assessment


# The mitigation plan


@transaction.atomic
def add_mitigation_action(
    actor: Any, assessment: RiskAssessment, action: ActionInput
) -> MitigationAction:
    checked = _check_owner(assessment.subject, 0, action)
    row = MitigationAction.objects.create(
        organisation_id=assessment.organisation_id,
        assessment=assessment,
        description=checked.description,
        owner=checked.owner,
        due_on=checked.due_on,
    )
    audit.record(actor, "risk.action_added", row, details={"assessment": str(assessment.pk)})
    return row


@transaction.atomic
def complete_mitigation_action(actor: Any, action: MitigationAction) -> MitigationAction:
    """Mark done (once: a second click changes nothing and writes no entry)."""
    locked = MitigationAction.objects.select_for_update().get(pk=action.pk)
    if locked.done_at is not None:
        return locked
    locked.done_at = timezone.now()
    locked.done_by = actor if getattr(actor, "is_authenticated", False) else None
    locked.save(update_fields=["done_at", "done_by"])
    audit.record(actor, "risk.action_done", locked)
    return locked
