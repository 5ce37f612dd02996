"""Deployments over the API (issue 5, point 9; ``/api/v1/deployments``): the list with
each trip's gate counts and next expected check-in, create, detail, the readiness gates,
the status, a signatory's gate exception and signature, and the traveller's check-ins.

Reads go through ``travel.access`` and writes through ``travel.actions`` (audited there).
Anything one may not see or do is the same 404 as a missing deployment. Sealed records
never leave through these endpoints: no purpose, places, flights, accommodation, partner
contacts, next of kin, policy numbers, chain of command or proof of life; only dates,
countries, regions, advisory levels, trip type, status and the gates' verdicts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as WithStatus

from amparo.core.access import not_found
from amparo.core.db.loader import Loader
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.models import Person
from amparo.travel import access, actions, checkins, gates
from amparo.travel.models import (
    CheckIn,
    Deployment,
    DeploymentStatus,
    ExpectedCheckIn,
    ExpectedState,
    GateException,
    TravelDeclaration,
    TripType,
)

router = Router(tags=["deployments"])

MAX_PAGE = 100
MAX_DESTINATIONS = 20
# A closed trip's gates say nothing any more, and each costs about ten reads.
CLOSED = (DeploymentStatus.RETURNED, DeploymentStatus.CANCELLED)


def _choices(values: list[str]) -> str:
    return ", ".join(values)


# What comes in


class DestinationIn(Schema):
    country: str = Field(..., min_length=2, max_length=2, description="ISO 3166 alpha-2: PE, BO")
    region: str = Field("", max_length=80)
    places: str = Field(
        "", max_length=2000, description="where exactly (sealed: stored, never returned)"
    )
    advisory: str = Field(
        "",
        description="the Danish MFA's advisory level: " + _choices(list(gates.ADVISORIES)),
    )
    advisory_reviewed_on: date | None = Field(None, description="when the advisory was read")
    advisory_source: str = Field("", max_length=200)


class DeploymentIn(Schema):
    organisation: str = Field(..., description="the organisation's short name (slug)")
    traveller: UUID = Field(..., description="the id of the person who travels")
    lead: UUID | None = Field(None, description="the id of the designated lead")
    trip_type: str = Field(..., description=_choices(TripType.values))
    starts_on: date
    returns_on: date
    purpose: str = Field("", max_length=4000, description="sealed: stored, never returned")
    traveller_danish: bool = Field(
        False, description="Danish citizens also register on the Danskerliste"
    )
    destinations: list[DestinationIn] = Field(default_factory=list, max_length=MAX_DESTINATIONS)


class DeploymentStatusIn(Schema):
    status: str = Field(..., description=_choices(DeploymentStatus.values))


class GateExceptionIn(Schema):
    gate: str = Field(..., description=_choices(list(gates.GATES)))
    reason: str = Field(..., max_length=4000, description="why the trip may go without it")


class Location(Schema):
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)


class CheckInIn(Schema):
    pin: str | None = Field(None, max_length=8, description="the check-in PIN (optional)")
    note: str = Field("", max_length=2000)
    location: Location | None = None


# What goes out


class Error(Schema):
    detail: Any


class DeploymentStatusError(Schema):
    detail: Any
    failing_gates: list[str] = Field(
        default_factory=list, description="the keys of the gates that block the change"
    )


class DeploymentPersonOut(Schema):
    id: UUID
    name: str


class DestinationOut(Schema):
    country: str
    region: str
    advisory: str
    advisory_reviewed_on: date | None
    advisory_source: str


class GateCounts(Schema):
    passing: int
    failing: int = Field(..., description="failing with no exception: these block the trip")
    excepted: int = Field(..., description="failing, let through by a signatory")


class DeploymentSummaryOut(Schema):
    id: UUID
    organisation: str
    traveller: DeploymentPersonOut
    trip_type: str
    status: str
    starts_on: date
    returns_on: date
    destinations: list[DestinationOut]
    gates: GateCounts | None = Field(..., description="null for a returned or cancelled trip")
    next_checkin_due: datetime | None = Field(
        ..., description="the earliest expected check-in still pending (active trips)"
    )


class DeploymentPageOut(Schema):
    items: list[DeploymentSummaryOut]
    count: int
    limit: int
    offset: int


class DeclarationSignatureOut(Schema):
    signed: bool
    signed_by: str
    signed_as: str
    signed_at: datetime | None


class DeploymentOut(DeploymentSummaryOut):
    lead: DeploymentPersonOut | None
    traveller_danish: bool
    declaration: DeclarationSignatureOut | None = Field(
        ..., description="null until it is filled in"
    )
    created_at: datetime
    updated_at: datetime


class GateExceptionOut(Schema):
    reason: str
    granted_by: str
    granted_as: str
    granted_at: datetime


class GateOut(Schema):
    key: str
    label: str
    passes: bool
    reasons: list[str] = Field(..., description="what is missing or wrong, in plain words")
    advice: list[str] = Field(..., description="advised, not blocking")
    exception: GateExceptionOut | None


class CheckInOut(Schema):
    id: UUID
    at: datetime
    via: str


# Finding a deployment


def _ctx(request: HttpRequest, slug: str) -> OrgContext:
    return people_access.access_organisation_by_slug(request.user, slug)


# Every check-in finds its deployment: with SQL written once (amparo/core/db/loader.py).
_DEPLOYMENTS = Loader(Deployment, ["organisation", "traveller", "lead"])


def _find(request: HttpRequest, deployment_id: UUID) -> tuple[OrgContext, Deployment]:
    """A deployment by id, seen through the organisation that holds it; the same 404 when
    it is missing, in another organisation or not the user's to see. Found by id first
    (bench/checkins.py: walking the user's organisations cost a check-in 9 queries)."""
    holder = _DEPLOYMENTS.first("t0.id = %s", [_DEPLOYMENTS.param("id", deployment_id)])
    if holder is None:
        not_found()
    ctx = people_access.access_organisation(request.user, holder.organisation)
    # travel.access: a traveller sees their own deployments, whatever their roles.
    if holder.traveller.user_id is not None and holder.traveller.user_id == ctx.user.pk:
        return ctx, holder
    return ctx, access.access_deployment_by_id(ctx, deployment_id)


def _is_traveller(ctx: OrgContext, deployment: Deployment) -> bool:
    return deployment.traveller.user_id is not None and deployment.traveller.user_id == ctx.user.pk


def _with_next_due(deployments: QuerySet[Deployment]) -> QuerySet[Deployment]:
    pending = ExpectedCheckIn.objects.filter(
        deployment=OuterRef("pk"), state=ExpectedState.PENDING
    ).order_by("due_at")
    return deployments.annotate(next_due=Subquery(pending.values("due_at")[:1]))


# Rendering


def _person(person: Person | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {"id": person.pk, "name": person.display_name}


def _destinations(deployment: Deployment) -> list[dict[str, Any]]:
    # Places are sealed (they locate the traveller) and stay out.
    return [
        {
            "country": d.country,
            "region": d.region,
            "advisory": d.advisory,
            "advisory_reviewed_on": d.advisory_reviewed_on,
            "advisory_source": d.advisory_source,
        }
        for d in deployment.destinations.all()
    ]


def _counts(report: list[tuple[gates.Gate, GateException | None]]) -> dict[str, int]:
    return {
        "passing": sum(1 for gate, _e in report if gate.passed),
        "failing": sum(1 for gate, e in report if not gate.passed and e is None),
        "excepted": sum(1 for gate, e in report if not gate.passed and e is not None),
    }


def _summary(
    deployment: Deployment, report: list[tuple[gates.Gate, GateException | None]] | None
) -> dict[str, Any]:
    return {
        "id": deployment.pk,
        "organisation": deployment.organisation.slug,
        "traveller": _person(deployment.traveller),
        "trip_type": deployment.trip_type,
        "status": deployment.status,
        "starts_on": deployment.starts_on,
        "returns_on": deployment.returns_on,
        "destinations": _destinations(deployment),
        "gates": _counts(report) if report is not None else None,
        "next_checkin_due": getattr(deployment, "next_due", None),
    }


def _report_of(deployment: Deployment) -> list[tuple[gates.Gate, GateException | None]] | None:
    return None if deployment.status in CLOSED else actions.gate_report(deployment)


def _signature(deployment: Deployment) -> dict[str, Any] | None:
    # Only whether and by whom it is signed: the flights, accommodation and partner
    # contacts it holds are sealed.
    declaration = (
        TravelDeclaration.objects.filter(deployment=deployment).select_related("signed_by").first()
    )
    if declaration is None:
        return None
    return {
        "signed": declaration.signed_at is not None,
        "signed_by": declaration.signed_by.email if declaration.signed_by else "",
        "signed_as": declaration.signed_as,
        "signed_at": declaration.signed_at,
    }


def _detail(deployment: Deployment) -> dict[str, Any]:
    """One deployment that passed ``travel.access``, as stored now."""
    deployment.refresh_from_db()
    deployment.next_due = (  # type: ignore[attr-defined]
        ExpectedCheckIn.objects.filter(deployment=deployment, state=ExpectedState.PENDING)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    return {
        **_summary(deployment, _report_of(deployment)),
        "lead": _person(deployment.lead),
        "traveller_danish": deployment.traveller_danish,
        "declaration": _signature(deployment),
        "created_at": deployment.created_at,
        "updated_at": deployment.updated_at,
    }


def _gate(gate: gates.Gate, exception: GateException | None) -> dict[str, Any]:
    return {
        "key": gate.code,
        "label": gate.title,
        "passes": gate.passed,
        "reasons": list(gate.reasons),
        "advice": list(gate.advice),
        "exception": {
            "reason": exception.reason,
            "granted_by": exception.granted_by.email,
            "granted_as": exception.granted_as,
            "granted_at": exception.granted_at,
        }
        if exception is not None
        else None,
    }


# Deployments


@router.get("", response={200: DeploymentPageOut, 404: Error, 422: Error})
def list_deployments(
    request: HttpRequest,
    organisation: str,
    status: str = Query("", description=_choices(DeploymentStatus.values)),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """The deployments one may see, latest departure first: every one of the
    organisation for its managers and signatories, a traveller's own for anyone else."""
    ctx = _ctx(request, organisation)
    if status and status not in DeploymentStatus.values:
        raise ValidationError(
            {
                "status": _("Choose from: %(choices)s.")
                % {"choices": _choices(DeploymentStatus.values)}
            }
        )
    deployments = access.deployments_visible_to(ctx)
    if status:
        deployments = deployments.filter(status=status)
    page = (
        _with_next_due(deployments)
        .select_related("organisation", "traveller")
        .prefetch_related("destinations")
        .order_by("-starts_on", "-pk")[offset : offset + limit]
    )
    return {
        "items": [_summary(d, _report_of(d)) for d in page],
        "count": deployments.count(),
        "limit": limit,
        "offset": offset,
    }


@router.post("", response={201: DeploymentOut, 404: Error, 422: Error})
def create_deployment(request: HttpRequest, payload: DeploymentIn) -> WithStatus[dict[str, Any]]:
    """A deployment manager (coordinator, administrator) plans a trip for a person of the
    organisation; it starts as a draft."""
    ctx = _ctx(request, payload.organisation)
    access.require_manager(ctx)
    people = people_access.people_visible_to(ctx)
    traveller = people.filter(pk=payload.traveller).first()
    if traveller is None:
        raise ValidationError({"traveller": _("Choose a person of this organisation.")})
    lead = None
    if payload.lead is not None:
        lead = people.filter(pk=payload.lead).first()
        if lead is None:
            raise ValidationError({"lead": _("Choose a person of this organisation.")})
    deployment = actions.create_deployment(
        request.user,
        ctx.organisation,
        traveller=traveller,
        lead=lead,
        trip_type=payload.trip_type,
        starts_on=payload.starts_on,
        returns_on=payload.returns_on,
        purpose=payload.purpose,
        traveller_danish=payload.traveller_danish,
        destinations=[d.dict() for d in payload.destinations],
    )
    return WithStatus(201, _detail(deployment))


@router.get("/{deployment_id}", response={200: DeploymentOut, 404: Error})
def get_deployment(request: HttpRequest, deployment_id: UUID) -> dict[str, Any]:
    return _detail(_find(request, deployment_id)[1])


@router.get("/{deployment_id}/gates", response={200: list[GateOut], 404: Error})
def get_gates(request: HttpRequest, deployment_id: UUID) -> list[dict[str, Any]]:
    """Every readiness gate of the organisation's template, computed from the records,
    in the reader's language."""
    deployment = _find(request, deployment_id)[1]
    return [_gate(gate, exception) for gate, exception in actions.gate_report(deployment)]


@router.post(
    "/{deployment_id}/status", response={200: DeploymentOut, 404: Error, 422: DeploymentStatusError}
)
def set_status(request: HttpRequest, deployment_id: UUID, payload: DeploymentStatusIn) -> Any:
    """A deployment manager moves the trip on. Ready and active need every gate to pass
    or to be let through: otherwise 422, naming the failing gates."""
    ctx, deployment = _find(request, deployment_id)
    deployment = access.access_deployment_to_manage(ctx, deployment.pk)
    try:
        actions.set_status(request.user, deployment, payload.status)
    except ValidationError as exc:
        failing = []
        if payload.status in actions.NEEDS_GATES:
            failing = [gate.code for gate in actions.blocking(deployment)]
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return WithStatus(422, {"detail": detail, "failing_gates": failing})
    return _detail(deployment)


@router.post("/{deployment_id}/exceptions", response={200: GateOut, 404: Error, 422: Error})
def grant_exception(request: HttpRequest, deployment_id: UUID, payload: GateExceptionIn) -> Any:
    """A signatory lets a failing gate through, with a written reason (audited)."""
    ctx, deployment = _find(request, deployment_id)
    deployment = access.access_deployment_to_sign(ctx, deployment.pk)
    actions.grant_exception(request.user, deployment, payload.gate, payload.reason)  # type: ignore[arg-type]
    for gate, exception in actions.gate_report(deployment):
        if gate.code == payload.gate:
            return _gate(gate, exception)
    # A gate the organisation's template leaves out: the rule's verdict, as recorded.
    gate = gates.RULES[payload.gate](actions.facts_of(deployment))
    return _gate(gate, GateException.objects.get(deployment=deployment, gate=payload.gate))


@router.post(
    "/{deployment_id}/sign", response={200: DeclarationSignatureOut, 404: Error, 422: Error}
)
def sign_declaration(request: HttpRequest, deployment_id: UUID) -> Any:
    """The signatory for the kind of trip signs the travel declaration (the Executive
    Director for PRI-related trips, the Head of Finance & Programmes for M&E and
    supervision). Another signatory: 422; anyone else: 404."""
    ctx, deployment = _find(request, deployment_id)
    deployment = access.access_deployment_to_sign(ctx, deployment.pk)
    actions.sign_declaration(request.user, deployment)  # type: ignore[arg-type]
    return _signature(deployment)


# Check-ins


@router.post(
    "/{deployment_id}/checkins",
    response={201: CheckInOut, 404: Error, 422: Error},
    tags=["check-ins"],
)
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


@router.get(
    "/{deployment_id}/checkins",
    response={200: list[CheckInOut], 404: Error},
    tags=["check-ins"],
)
def list_checkins(request: HttpRequest, deployment_id: UUID, limit: int = 100) -> list[CheckIn]:
    ctx, deployment = _find(request, deployment_id)
    if not (_is_traveller(ctx, deployment) or access.can_manage_deployments(ctx)):
        not_found()
    return list(CheckIn.objects.filter(deployment=deployment)[: max(1, min(limit, 500))])
