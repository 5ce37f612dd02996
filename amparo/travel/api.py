"""Check-ins over the API (``/api/v1/deployments/{id}/checkins``): the traveller checks
in; the traveller and the deployment managers list them. Anyone else gets 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status as WithStatus

from amparo.core.access import not_found
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.travel import access, checkins
from amparo.travel.models import CheckIn, Deployment

router = Router(tags=["check-ins"])


class Location(Schema):
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)


class CheckInIn(Schema):
    pin: str | None = Field(None, max_length=8, description="the check-in PIN (optional)")
    note: str = Field("", max_length=2000)
    location: Location | None = None


class CheckInOut(Schema):
    id: UUID
    at: datetime
    via: str


class Error(Schema):
    detail: Any


def _find(request: HttpRequest, deployment_id: UUID) -> tuple[OrgContext, Deployment]:
    """A deployment by id, seen through whichever of the user's organisations holds it."""
    for organisation in people_access.organisations_of(request.user):
        ctx = people_access.access_organisation_by_slug(request.user, organisation.slug)
        if access.deployments_visible_to(ctx).filter(pk=deployment_id).exists():
            return ctx, access.access_deployment_by_id(ctx, deployment_id)
    not_found()


def _is_traveller(ctx: OrgContext, deployment: Deployment) -> bool:
    return deployment.traveller.user_id is not None and deployment.traveller.user_id == ctx.user.pk


@router.post("/{deployment_id}/checkins", response={201: CheckInOut, 404: Error, 422: Error})
def check_in(request: HttpRequest, deployment_id: UUID, payload: CheckInIn) -> WithStatus[CheckIn]:
    ctx, deployment = _find(request, deployment_id)
    if not _is_traveller(ctx, deployment):
        not_found()
    checkin = checkins.check_in(
        request.user,
        deployment,
        via="api",
        pin=payload.pin,
        note=payload.note,
        location=payload.location.dict() if payload.location else None,
    )
    return WithStatus(201, checkin)


@router.get("/{deployment_id}/checkins", response={200: list[CheckInOut], 404: Error})
def list_checkins(request: HttpRequest, deployment_id: UUID, limit: int = 100) -> list[CheckIn]:
    ctx, deployment = _find(request, deployment_id)
    if not (_is_traveller(ctx, deployment) or access.can_manage_deployments(ctx)):
        not_found()
    return list(CheckIn.objects.filter(deployment=deployment)[: max(1, min(limit, 500))])
