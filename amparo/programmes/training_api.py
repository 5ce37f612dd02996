"""Trainings over the API (issue 8, point 4; ``/api/v1/workshops``): workshops, their
participants (counted, never named in what goes out) and SMS follow-ups. Coordinators
and administrators only; anything else is the same 404 as a missing workshop."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status as WithStatus

from amparo.core.access import not_found
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.programmes import access, trainings
from amparo.programmes.models import (
    AgeBand,
    Gender,
    IndigenousIdentity,
    ParticipantRole,
    TrainingLine,
    Workshop,
)

router = Router(tags=["trainings"])


class Error(Schema):
    detail: Any


class WorkshopIn(Schema):
    organisation: str
    line: str = Field(..., description=", ".join(TrainingLine.values))
    topic: str = Field(..., max_length=200)
    held_on: date
    duration_hours: Decimal = Field(..., gt=0, lt=100)
    language: str = Field(..., max_length=60)
    community: str = Field(..., max_length=120)
    facilitator: str = Field(..., max_length=200, description="sealed; never returned")


class ParticipantIn(Schema):
    gender: str = Field(..., description=", ".join(Gender.values))
    age_band: str = Field(..., description=", ".join(AgeBand.values))
    indigenous: str = Field(..., description=", ".join(IndigenousIdentity.values))
    role: str = Field(..., description=", ".join(ParticipantRole.values))
    pre_score: int | None = Field(None, ge=0, le=100)
    post_score: int | None = Field(None, ge=0, le=100)
    name: str = Field("", max_length=200, description="optional, sealed; never returned")
    phone: str = Field("", max_length=40, description="sealed; never returned")
    follow_up_consent: bool = False


class FollowUpIn(Schema):
    message: str = Field(..., max_length=300)
    request_key: UUID = Field(..., description="the same key again queues nothing more")


class ParticipantOut(Schema):
    id: UUID
    gender: str
    age_band: str
    indigenous: str
    role: str
    pre_score: int | None
    post_score: int | None
    follow_up_consent: bool


class FollowUpOut(Schema):
    id: UUID
    request_key: UUID
    queued_at: datetime
    recipients: int


class WorkshopOut(Schema):
    id: UUID
    line: str
    topic: str
    held_on: date
    duration_hours: Decimal
    language: str
    community: str
    participants: list[ParticipantOut]
    follow_ups: list[FollowUpOut]


def _find(request: HttpRequest, workshop_id: UUID) -> tuple[OrgContext, Workshop]:
    for organisation in people_access.organisations_of(request.user):
        ctx = people_access.access_organisation_by_slug(request.user, organisation.slug)
        if access.workshops_visible_to(ctx).filter(pk=workshop_id).exists():
            return ctx, access.access_workshop_by_id(ctx, workshop_id)
    not_found()


def _participant(p: Any) -> dict[str, Any]:
    return {
        "id": p.pk,
        "gender": p.gender,
        "age_band": p.age_band,
        "indigenous": p.indigenous,
        "role": p.role,
        "pre_score": p.pre_score,
        "post_score": p.post_score,
        "follow_up_consent": p.follow_up_consent,
    }


def _follow_up(f: Any) -> dict[str, Any]:
    return {
        "id": f.pk,
        "request_key": f.request_key,
        "queued_at": f.queued_at,
        "recipients": f.recipients,
    }


def _out(workshop: Workshop) -> dict[str, Any]:
    return {
        "id": workshop.pk,
        "line": workshop.line,
        "topic": workshop.topic,
        "held_on": workshop.held_on,
        "duration_hours": workshop.duration_hours,
        "language": workshop.language,
        "community": workshop.community,
        "participants": [_participant(p) for p in workshop.participants.all()],
        "follow_ups": [_follow_up(f) for f in workshop.follow_ups.all()],
    }


@router.get("", response={200: list[WorkshopOut], 404: Error})
def list_workshops(request: HttpRequest, organisation: str) -> list[dict[str, Any]]:
    ctx = people_access.access_organisation_by_slug(request.user, organisation)
    people_access.require(ctx, access.can_manage_programmes(ctx))
    return [_out(w) for w in access.workshops_visible_to(ctx)[:200]]


@router.post("", response={201: WorkshopOut, 404: Error, 422: Error})
def create_workshop(request: HttpRequest, payload: WorkshopIn) -> WithStatus[dict[str, Any]]:
    ctx = people_access.access_organisation_by_slug(request.user, payload.organisation)
    people_access.require(ctx, access.can_manage_programmes(ctx))
    data = payload.dict()
    data.pop("organisation")
    return WithStatus(201, _out(trainings.record_workshop(request.user, ctx.organisation, **data)))


@router.get("/{workshop_id}", response={200: WorkshopOut, 404: Error})
def get_workshop(request: HttpRequest, workshop_id: UUID) -> dict[str, Any]:
    return _out(_find(request, workshop_id)[1])


@router.post("/{workshop_id}/participants", response={201: ParticipantOut, 404: Error, 422: Error})
def add_participant(
    request: HttpRequest, workshop_id: UUID, payload: ParticipantIn
) -> WithStatus[dict[str, Any]]:
    _ctx, workshop = _find(request, workshop_id)
    participant = trainings.add_participant(request.user, workshop, **payload.dict())
    return WithStatus(201, _participant(participant))


@router.post("/{workshop_id}/follow-ups", response={201: FollowUpOut, 404: Error, 422: Error})
def send_follow_up(
    request: HttpRequest, workshop_id: UUID, payload: FollowUpIn
) -> WithStatus[dict[str, Any]]:
    _ctx, workshop = _find(request, workshop_id)
    follow_up = trainings.send_follow_up(
        request.user, workshop, message=payload.message, request_key=payload.request_key
    )
    return WithStatus(201, _follow_up(follow_up))
