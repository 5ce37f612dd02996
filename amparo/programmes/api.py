"""Psychosocial referrals over the API (issue 6, point 4; ``/api/v1/referrals``): the
list, a new referral, a referral, its sessions, recording a session and closing.

Reads go through ``programmes.access`` and writes through ``programmes.actions``
(audited there). Anything one may not see or do is the same 404 as a missing referral.
The sealed texts go in and never come out: no reason, no healing practices and no
clinical notes are returned here. The assigned psychologist reads the notes on their
audited page; an integration has no business holding them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as WithStatus

from amparo.core.access import not_found
from amparo.incidents import access as incidents_access
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.programmes import access, actions
from amparo.programmes.models import PsychosocialReferral, ReferralStatus, ReferralUrgency

router = Router(tags=["referrals"])

MAX_PAGE = 100


# What comes in


class ReferralIn(Schema):
    organisation: str = Field(..., description="the organisation's short name (slug)")
    person: UUID = Field(..., description="the id of the person referred")
    professional: UUID = Field(
        ..., description="the id of a mental-health professional of the directory"
    )
    psychologist: UUID | None = Field(
        None, description="the id of the organisation's psychologist who follows the case"
    )
    urgency: str = Field(ReferralUrgency.URGENT, description=", ".join(ReferralUrgency.values))
    reason: str = Field(..., max_length=8000, description="sealed: stored, never returned")
    community_healing_practices: str = Field(
        "",
        max_length=8000,
        description="culturally relevant, community-based healing practices (sealed)",
    )
    consent: bool = Field(..., description="the person agreed to the referral (required)")
    crisis_case_id: UUID | None = None
    threat_report: UUID | None = None


class SessionIn(Schema):
    held_on: date
    duration_minutes: int = Field(60, ge=1, le=600)
    attended: bool = True
    clinical_notes: str = Field(
        "",
        max_length=8000,
        description="sealed; only the assigned psychologist may send them; never returned",
    )


# What goes out


class Error(Schema):
    detail: Any


class Ref(Schema):
    id: UUID
    name: str


class ProfessionalOut(Schema):
    id: UUID
    name: str
    region: str
    phone: str
    email: str
    specialties: list[str]
    available_24h: bool


class ReferralOut(Schema):
    id: UUID
    organisation: str
    person: Ref
    professional: ProfessionalOut
    psychologist: UUID | None
    urgency: str
    status: str
    referred_at: datetime
    sessions_held: int = Field(..., description="sessions the person attended")
    next_session_at: datetime | None
    includes_healing_practices: bool
    crisis_case_id: UUID | None
    threat_report: UUID | None
    closed_at: datetime | None


class ReferralPageOut(Schema):
    items: list[ReferralOut]
    count: int
    limit: int
    offset: int


class SessionOut(Schema):
    id: UUID
    held_on: date
    duration_minutes: int
    attended: bool


# Finding a referral


def _find(request: HttpRequest, referral_id: UUID) -> tuple[OrgContext, PsychosocialReferral]:
    """A referral by id, seen through whichever of the user's organisations holds it."""
    for organisation in people_access.organisations_of(request.user):
        ctx = people_access.access_organisation_by_slug(request.user, organisation.slug)
        if access.referrals_visible_to(ctx).filter(pk=referral_id).exists():
            return ctx, access.access_referral_by_id(ctx, referral_id)
    not_found()


def _with_counts(referrals: QuerySet[PsychosocialReferral]) -> QuerySet[PsychosocialReferral]:
    return referrals.select_related("organisation", "person", "professional").annotate(
        sessions_held=Count("sessions", filter=Q(sessions__attended=True))
    )


def _out(referral: PsychosocialReferral) -> dict[str, Any]:
    p = referral.professional
    return {
        "id": referral.pk,
        "organisation": referral.organisation.slug,
        "person": {"id": referral.person.pk, "name": referral.person.display_name},
        "professional": {
            "id": p.pk,
            "name": p.name,
            "region": p.region,
            "phone": p.phone,
            "email": p.email,
            "specialties": list(p.specialties or []),
            "available_24h": p.available_24h,
        },
        "psychologist": referral.psychologist_id,
        "urgency": referral.urgency,
        "status": referral.status,
        "referred_at": referral.referred_at,
        "sessions_held": getattr(referral, "sessions_held", 0),
        "next_session_at": referral.next_session_at,
        "includes_healing_practices": referral.includes_healing_practices,
        "crisis_case_id": referral.crisis_case_id,
        "threat_report": referral.threat_report_id,
        "closed_at": referral.closed_at,
    }


def _detail(referral_id: Any) -> dict[str, Any]:
    """The referral as stored now (``referral_id`` already passed programmes.access)."""
    return _out(_with_counts(PsychosocialReferral.objects.filter(pk=referral_id)).get())


# Referrals


@router.get("", response={200: ReferralPageOut, 404: Error, 422: Error})
def list_referrals(
    request: HttpRequest,
    organisation: str,
    status: str = Query("", description=", ".join(ReferralStatus.values)),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """Every referral of the organisation for its security coordinator; the referrals
    assigned to a psychologist; a person's own referrals for anyone else."""
    ctx = people_access.access_organisation_by_slug(request.user, organisation)
    if status and status not in ReferralStatus.values:
        raise ValidationError({"status": _("Choose a status.")})
    referrals = access.referrals_visible_to(ctx)
    if status:
        referrals = referrals.filter(status=status)
    page = _with_counts(referrals).order_by("-referred_at", "-pk")[offset : offset + limit]
    return {
        "items": [_out(r) for r in page],
        "count": referrals.count(),
        "limit": limit,
        "offset": offset,
    }


@router.post("", response={201: ReferralOut, 404: Error, 422: Error})
def create_referral(request: HttpRequest, payload: ReferralIn) -> WithStatus[dict[str, Any]]:
    """The security coordinator refers a person to a professional of the directory, with
    the person's consent."""
    ctx = people_access.access_organisation_by_slug(request.user, payload.organisation)
    people_access.require(ctx, access.can_manage_referrals(ctx))
    person = people_access.people_visible_to(ctx).filter(pk=payload.person).first()
    if person is None:
        raise ValidationError({"person": _("Choose a person of this organisation.")})
    professional = access.access_professional_by_id(ctx, payload.professional)
    psychologist = None
    if payload.psychologist is not None:
        psychologist = next(
            (u for u in access.psychologists_of(ctx) if u.pk == payload.psychologist), None
        )
        if psychologist is None:
            raise ValidationError(
                {"psychologist": _("Choose a psychologist who is a member of this organisation.")}
            )
    report = None
    if payload.threat_report is not None:
        report = incidents_access.access_report_by_id(ctx, payload.threat_report)
    referral = actions.refer_person(
        request.user,
        ctx.organisation,
        person=person,
        professional=professional,
        reason=payload.reason,
        consent=payload.consent,
        urgency=payload.urgency,
        community_healing_practices=payload.community_healing_practices,
        psychologist=psychologist,
        crisis_case_id=payload.crisis_case_id,
        threat_report=report,
    )
    return WithStatus(201, _detail(referral.pk))


@router.get("/{referral_id}", response={200: ReferralOut, 404: Error})
def get_referral(request: HttpRequest, referral_id: UUID) -> dict[str, Any]:
    return _detail(_find(request, referral_id)[1].pk)


@router.get("/{referral_id}/sessions", response={200: list[SessionOut], 404: Error})
def list_sessions(request: HttpRequest, referral_id: UUID) -> list[dict[str, Any]]:
    """Dates, durations and attendance, for the coordinator and the assigned
    psychologist. Never the clinical notes."""
    ctx, referral = _find(request, referral_id)
    people_access.require(
        ctx,
        access.can_manage_referrals(ctx) or access.is_assigned_psychologist(ctx, referral),
    )
    return [
        {
            "id": s.pk,
            "held_on": s.held_on,
            "duration_minutes": s.duration_minutes,
            "attended": s.attended,
        }
        for s in referral.sessions.all()
    ]


@router.post("/{referral_id}/sessions", response={201: SessionOut, 404: Error, 422: Error})
def record_session(
    request: HttpRequest, referral_id: UUID, payload: SessionIn
) -> WithStatus[dict[str, Any]]:
    ctx, referral = _find(request, referral_id)
    referral = access.access_referral_for_sessions(ctx, referral.pk)
    session = actions.record_session(
        request.user,
        referral,
        held_on=payload.held_on,
        duration_minutes=payload.duration_minutes,
        attended=payload.attended,
        clinical_notes=payload.clinical_notes,
    )
    return WithStatus(
        201,
        {
            "id": session.pk,
            "held_on": session.held_on,
            "duration_minutes": session.duration_minutes,
            "attended": session.attended,
        },
    )


@router.post("/{referral_id}/close", response={200: ReferralOut, 404: Error, 422: Error})
def close_referral(request: HttpRequest, referral_id: UUID) -> dict[str, Any]:
    ctx, referral = _find(request, referral_id)
    referral = access.access_referral_to_close(ctx, referral.pk)
    actions.close_referral(request.user, referral)
    return _detail(referral.pk)
