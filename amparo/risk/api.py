"""Risk assessments over the API (``/api/v1/risk``): the subjects with their latest
level and due date, the overdue list, a new subject, a subject's history, a new
assessment, an assessment in full, and marking a mitigation action done.

Reads go through ``risk.access`` and writes through ``risk.actions`` (audited there).
Anything one may not see or do is the same 404 as a missing record. The sealed texts
(descriptions, scenarios) go only to those who may read the assessment: the
organisation's risk managers and the person assessed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as WithStatus

from amparo.core.access import not_found
from amparo.incidents.models import ThreatReport
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.risk import access, actions
from amparo.risk.models import (
    ActorType,
    Endangers,
    MitigationAction,
    ReassessEvery,
    RiskAssessment,
    RiskSubject,
    SubjectKind,
)

router = Router(tags=["risk"])

MAX_PAGE = 100
MAX_ITEMS = 20


def _choices(values: list[str]) -> str:
    return ", ".join(values)


# What comes in


class RiskSubjectIn(Schema):
    organisation: str = Field(..., description="the organisation's short name (slug)")
    kind: str = Field(..., description=_choices(SubjectKind.values))
    person: UUID | None = Field(None, description="the person's id (kind person)")
    community_name: str = Field("", max_length=200, description="sealed (kind community)")
    region: str = Field("", max_length=120)
    reassess_every: str = Field(ReassessEvery.QUARTER, description=_choices(ReassessEvery.values))


class RiskThreatIn(Schema):
    actor_type: str = Field(..., description=_choices(ActorType.values))
    description: str = Field(..., max_length=actions.MAX_TEXT, description="sealed")
    rating: int = Field(..., ge=1, le=5)
    recurring: bool = Field(False, description="has happened more than once, or is ongoing")
    endangers: list[str] = Field(default_factory=list, description=_choices(Endangers.values))
    incident: UUID | None = Field(None, description="a threat report of the organisation")


class RiskFactorIn(Schema):
    description: str = Field(..., max_length=actions.MAX_TEXT, description="sealed")
    rating: int = Field(..., ge=1, le=5)


class RiskActionIn(Schema):
    description: str = Field(..., max_length=actions.MAX_TEXT, description="sealed")
    owner: UUID = Field(..., description="the id of the person who owns the action")
    due_on: date | None = None


class RiskAssessmentIn(Schema):
    assessed_on: date | None = Field(None, description="today when left out")
    likelihood: int = Field(..., ge=1, le=5)
    impact: int = Field(..., ge=1, le=5)
    scenarios: str = Field("", max_length=actions.MAX_TEXT, description="sealed")
    threats: list[RiskThreatIn] = Field(..., min_length=1, max_length=MAX_ITEMS)
    vulnerabilities: list[RiskFactorIn] = Field(..., min_length=1, max_length=MAX_ITEMS)
    capacities: list[RiskFactorIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    mitigation: list[RiskActionIn] = Field(default_factory=list, max_length=MAX_ITEMS)


# What goes out


class Error(Schema):
    detail: Any


class RiskSubjectOut(Schema):
    id: UUID
    organisation: str
    kind: str
    label: str
    region: str
    reassess_every: str
    next_due_on: date
    overdue: bool
    latest_level: str | None
    latest_serious_and_imminent: bool | None


class RiskAssessmentSummaryOut(Schema):
    id: UUID
    assessed_on: date
    level: str
    formula_score: float
    matrix_score: int
    serious_and_imminent: bool


class RiskSubjectDetailOut(RiskSubjectOut):
    history: list[RiskAssessmentSummaryOut] = Field(..., description="newest first")


class RiskThreatOut(Schema):
    actor_type: str
    description: str
    rating: int
    recurring: bool
    endangers: list[str]
    incident: UUID | None


class RiskFactorOut(Schema):
    description: str
    rating: int


class RiskActionOut(Schema):
    id: UUID
    description: str
    owner: UUID
    owner_name: str
    due_on: date | None
    done_at: datetime | None


class RiskAssessmentOut(RiskAssessmentSummaryOut):
    subject: UUID
    likelihood: int
    impact: int
    threat_factor: float
    vulnerability_factor: float
    capacity_factor: float
    formula_level: str
    matrix_level: str
    level_floors: list[str]
    imminence_reasons: list[str]
    scenarios: str
    next_due_on: date
    threats: list[RiskThreatOut]
    vulnerabilities: list[RiskFactorOut]
    capacities: list[RiskFactorOut]
    mitigation: list[RiskActionOut]


# Finding things


def _ctx(request: HttpRequest, slug: str) -> OrgContext:
    return people_access.access_organisation_by_slug(request.user, slug)


def _ctx_of(request: HttpRequest, organisation_id: Any) -> OrgContext:
    """The user's context in the organisation that holds a record (404 for non-members)."""
    for organisation in people_access.organisations_of(request.user):
        if organisation.pk == organisation_id:
            return _ctx(request, organisation.slug)
    not_found()


def _subject(request: HttpRequest, subject_id: UUID) -> tuple[OrgContext, RiskSubject]:
    subject = RiskSubject.objects.filter(pk=subject_id).first()
    if subject is None:
        not_found()
    ctx = _ctx_of(request, subject.organisation_id)
    return ctx, access.access_subject_by_id(ctx, subject_id)


def _assessment(request: HttpRequest, assessment_id: UUID) -> tuple[OrgContext, RiskAssessment]:
    assessment = RiskAssessment.objects.filter(pk=assessment_id).first()
    if assessment is None:
        not_found()
    ctx = _ctx_of(request, assessment.organisation_id)
    return ctx, access.access_assessment_by_id(ctx, assessment_id)


# Rendering


def _subject_out(subject: Any) -> dict[str, Any]:
    return {
        "id": subject.pk,
        "organisation": subject.organisation.slug,
        "kind": subject.kind,
        "label": subject.label,
        "region": subject.region,
        "reassess_every": subject.reassess_every,
        "next_due_on": subject.next_due_on,
        "overdue": subject.next_due_on < actions.today(),
        "latest_level": getattr(subject, "latest_level", None),
        "latest_serious_and_imminent": getattr(subject, "latest_flag", None),
    }


def _subjects(subjects: QuerySet[RiskSubject]) -> list[dict[str, Any]]:
    rows = access.with_latest(subjects).select_related("organisation", "person")
    return [_subject_out(s) for s in rows.order_by("next_due_on", "created_at")[:MAX_PAGE]]


def _summary(a: RiskAssessment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "assessed_on": a.assessed_on,
        "level": a.level,
        "formula_score": float(a.formula_score),
        "matrix_score": a.matrix_score,
        "serious_and_imminent": a.serious_and_imminent,
    }


def _action_out(m: MitigationAction) -> dict[str, Any]:
    return {
        "id": m.pk,
        "description": m.description,
        "owner": m.owner_id,
        "owner_name": m.owner.display_name,
        "due_on": m.due_on,
        "done_at": m.done_at,
    }


def _assessment_out(a: RiskAssessment) -> dict[str, Any]:
    return {
        **_summary(a),
        "subject": a.subject_id,
        "likelihood": a.likelihood,
        "impact": a.impact,
        "threat_factor": float(a.threat_factor),
        "vulnerability_factor": float(a.vulnerability_factor),
        "capacity_factor": float(a.capacity_factor),
        "formula_level": a.formula_level,
        "matrix_level": a.matrix_level,
        "level_floors": a.level_floors,
        "imminence_reasons": a.imminence_reasons,
        "scenarios": a.scenarios,
        "next_due_on": a.next_due_on,
        "threats": [
            {
                "actor_type": t.actor_type,
                "description": t.description,
                "rating": t.rating,
                "recurring": t.recurring,
                "endangers": t.endangers,
                "incident": t.incident_id,
            }
            for t in a.threats.all()
        ],
        "vulnerabilities": [
            {"description": v.description, "rating": v.rating} for v in a.vulnerabilities.all()
        ],
        "capacities": [
            {"description": c.description, "rating": c.rating} for c in a.capacities.all()
        ],
        "mitigation": [_action_out(m) for m in a.mitigation_actions.select_related("owner")],
    }


# Subjects


@router.get("", response={200: list[RiskSubjectOut], 404: Error})
def list_subjects(request: HttpRequest, organisation: str) -> list[dict[str, Any]]:
    """The subjects one may see (all of the organisation for its coordinators and
    administrators; one's own for the person assessed), overdue first."""
    ctx = _ctx(request, organisation)
    return _subjects(access.subjects_visible_to(ctx))


@router.get("/overdue", response={200: list[RiskSubjectOut], 404: Error})
def list_overdue(
    request: HttpRequest, organisation: str = Query(..., description="the slug")
) -> list[dict[str, Any]]:
    ctx = _ctx(request, organisation)
    access.require_manager(ctx)
    return _subjects(access.subjects_visible_to(ctx).filter(next_due_on__lt=actions.today()))


@router.post("/subjects", response={201: RiskSubjectOut, 404: Error, 422: Error})
def create_subject(request: HttpRequest, payload: RiskSubjectIn) -> WithStatus[dict[str, Any]]:
    ctx = _ctx(request, payload.organisation)
    access.require_manager(ctx)
    person = None
    if payload.person is not None:
        person = people_access.people_visible_to(ctx).filter(pk=payload.person).first()
        if person is None:
            raise ValidationError({"person": _("Choose a person of this organisation.")})
    subject = actions.create_subject(
        request.user,
        ctx.organisation,
        kind=payload.kind,
        person=person,
        community_name=payload.community_name,
        region=payload.region,
        reassess_every=payload.reassess_every,
    )
    return WithStatus(
        201, _subject_out(access.with_latest(RiskSubject.objects.filter(pk=subject.pk)).get())
    )


@router.get("/subjects/{subject_id}", response={200: RiskSubjectDetailOut, 404: Error})
def get_subject(request: HttpRequest, subject_id: UUID) -> dict[str, Any]:
    _ctx_, subject = _subject(request, subject_id)
    annotated = access.with_latest(RiskSubject.objects.filter(pk=subject.pk)).select_related(
        "organisation", "person"
    )
    history = subject.assessments.order_by("-assessed_on", "-created_at")
    return {**_subject_out(annotated.get()), "history": [_summary(a) for a in history]}


@router.post(
    "/subjects/{subject_id}/assessments", response={201: RiskAssessmentOut, 404: Error, 422: Error}
)
def create_assessment(
    request: HttpRequest, subject_id: UUID, payload: RiskAssessmentIn
) -> WithStatus[dict[str, Any]]:
    ctx, subject = _subject(request, subject_id)
    access.require_manager(ctx)
    incident_ids = {t.incident for t in payload.threats if t.incident is not None}
    incidents = {
        r.pk: r
        for r in ThreatReport.objects.filter(pk__in=incident_ids, organisation=ctx.organisation)
    }
    if incident_ids - set(incidents):
        raise ValidationError({"threats": _("Choose a threat report of this organisation.")})
    owner_ids = {a.owner for a in payload.mitigation}
    owners = {p.pk: p for p in people_access.people_visible_to(ctx).filter(pk__in=owner_ids)}
    if owner_ids - set(owners):
        raise ValidationError({"mitigation": _("Choose an owner of this organisation.")})
    assessment = actions.record_assessment(
        request.user,
        subject,
        assessed_on=payload.assessed_on,
        likelihood=payload.likelihood,
        impact=payload.impact,
        scenarios=payload.scenarios,
        threats=[
            actions.ThreatInput(
                actor_type=t.actor_type,
                description=t.description,
                rating=t.rating,
                recurring=t.recurring,
                endangers=list(t.endangers),
                incident=incidents.get(t.incident) if t.incident else None,
            )
            for t in payload.threats
        ],
        vulnerabilities=[
            actions.FactorInput(v.description, v.rating) for v in payload.vulnerabilities
        ],
        capacities=[actions.FactorInput(c.description, c.rating) for c in payload.capacities],
        mitigation=[
            actions.ActionInput(a.description, owners[a.owner], a.due_on)
            for a in payload.mitigation
        ],
    )
    return WithStatus(201, _assessment_out(RiskAssessment.objects.get(pk=assessment.pk)))


@router.get("/assessments/{assessment_id}", response={200: RiskAssessmentOut, 404: Error})
def get_assessment(request: HttpRequest, assessment_id: UUID) -> dict[str, Any]:
    return _assessment_out(_assessment(request, assessment_id)[1])


@router.post("/actions/{action_id}/done", response={200: RiskActionOut, 404: Error})
def complete_action(request: HttpRequest, action_id: UUID) -> dict[str, Any]:
    row = MitigationAction.objects.filter(pk=action_id).first()
    if row is None:
        not_found()
    ctx = _ctx_of(request, row.organisation_id)
    action = access.access_action_to_manage(ctx, action_id)
    done = actions.complete_mitigation_action(request.user, action)
    return _action_out(MitigationAction.objects.select_related("owner").get(pk=done.pk))
