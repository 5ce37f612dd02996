"""Alerts over the API: raise, list, get, acknowledge, resolve (``/api/v1/alerts``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema

from amparo.alerts import access, actions
from amparo.alerts.models import Alert, AlertState
from amparo.core.access import not_found
from amparo.people import access as people_access
from amparo.people.access import OrgContext

router = Router(tags=["alerts"])


class Location(Schema):
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)


class AlertIn(Schema):
    organisation: str = Field(..., description="the organisation's short name (slug)")
    kind: str = Field(..., description="panic, duress, threat, missed_checkin, community, manual")
    severity: str = Field(..., description="low, medium or high")
    message: str = Field("", max_length=2000)
    person_id: UUID | None = None
    location: Location | None = None


class AlertOut(Schema):
    id: UUID
    organisation: str
    kind: str
    severity: str
    state: str
    code: str
    message: str
    unverified: bool
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str
    acknowledged_via: str
    response_seconds: float | None
    resolved_at: datetime | None

    @staticmethod
    def resolve_organisation(alert: Alert) -> str:
        return alert.organisation.slug

    @staticmethod
    def resolve_acknowledged_by(alert: Alert) -> str:
        return alert.acknowledged_by_label


class ResolveIn(Schema):
    note: str = Field("", max_length=4000)


class Error(Schema):
    detail: Any


def _ctx(request: HttpRequest, slug: str) -> OrgContext:
    return people_access.access_organisation_by_slug(request.user, slug)


def _find(request: HttpRequest, alert_id: UUID) -> tuple[OrgContext, Alert]:
    """An alert by id, seen through whichever of the user's organisations may see it."""
    for organisation in people_access.organisations_of(request.user):
        ctx = _ctx(request, organisation.slug)
        if access.alerts_visible_to(ctx).filter(pk=alert_id).exists():
            return ctx, access.access_alert_by_id(ctx, alert_id)
    not_found()


@router.post("", response={201: AlertOut, 404: Error, 422: Error})
def raise_alert(request: HttpRequest, payload: AlertIn) -> tuple[int, Alert]:
    ctx = _ctx(request, payload.organisation)
    person = None
    if payload.person_id is not None:
        person = people_access.access_person_by_id(ctx, payload.person_id)
    elif not access.can_respond(ctx):
        person = people_access.own_profile(ctx)
    alert = actions.raise_alert(
        request.user,
        ctx.organisation,
        kind=payload.kind,
        severity=payload.severity,
        message=payload.message,
        person=person,
        location=payload.location.dict() if payload.location else None,
        source="api",
    )
    return 201, alert


@router.get("", response={200: list[AlertOut], 404: Error})
def list_alerts(
    request: HttpRequest, organisation: str, state: str = "", limit: int = 100
) -> list[Alert]:
    ctx = _ctx(request, organisation)
    alerts = access.alerts_visible_to(ctx).select_related("organisation")
    if state in AlertState.values:
        alerts = alerts.filter(state=state)
    return list(alerts[: max(1, min(limit, 500))])


@router.get("/{alert_id}", response={200: AlertOut, 404: Error})
def get_alert(request: HttpRequest, alert_id: UUID) -> Alert:
    return _find(request, alert_id)[1]


@router.post("/{alert_id}/acknowledge", response={200: AlertOut, 404: Error, 409: Error})
def acknowledge(request: HttpRequest, alert_id: UUID) -> Any:
    ctx, alert = _find(request, alert_id)
    people_access.require(ctx, access.can_respond(ctx))
    if not actions.acknowledge_alert(
        request.user, alert, via="api", role=",".join(sorted(ctx.roles))
    ):
        return 409, {"detail": "already acknowledged"}
    alert.refresh_from_db()
    return alert


@router.post("/{alert_id}/resolve", response={200: AlertOut, 404: Error, 422: Error})
def resolve(request: HttpRequest, alert_id: UUID, payload: ResolveIn) -> Alert:
    ctx, alert = _find(request, alert_id)
    people_access.require(ctx, access.can_respond(ctx) and access.is_own_alert(ctx, alert))
    actions.resolve_alert(request.user, alert, payload.note)
    alert.refresh_from_db()
    return alert
