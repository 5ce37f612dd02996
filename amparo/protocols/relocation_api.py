"""Relocations over the API (``/api/v1/relocations``; issue 6, point 3): list, request,
detail, decision, move, return, closure, costs and the monthly cost totals.

Only the organisation's security coordinators reach any of it (protocols.access); anyone
else, and any other organisation, gets the same 404 as a missing relocation. Sealed
values go in and never come out: no reason, destination, country, location or note is
returned, and a safe house is named only by its id. The pages show them to the
coordinator; an integration's token should not carry them away."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as WithStatus

from amparo.core.access import not_found
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.protocols import access, relocation
from amparo.protocols.models import (
    CostCategory,
    RelocationCost,
    RelocationRequest,
    RelocationStatus,
    RiskLevel,
)

router = Router(tags=["relocations"])

MAX_PAGE = 100


def _choices(values: list[str]) -> str:
    return ", ".join(values)


# What comes in


class RequestIn(Schema):
    organisation: str = Field(..., description="the organisation's short name (slug)")
    person: UUID = Field(..., description="the id of the person to relocate")
    risk_level: str = Field(..., description=_choices(RiskLevel.values))
    reason: str = Field(..., max_length=4000, description="sealed: stored, never returned")
    cross_border: bool = False
    destination_country: str = Field(
        "", max_length=2, description="ISO 3166 alpha-2, when abroad (sealed)"
    )
    expected_end_on: date | None = None
    crisis_case_id: UUID | None = None


class DecisionIn(Schema):
    approve: bool
    note: str = Field(..., max_length=4000, description="sealed: stored, never returned")


class Location(Schema):
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)


class RelocateIn(Schema):
    starts_on: date
    safe_house: UUID | None = Field(None, description="one of the organisation's safe houses")
    destination_address: str = Field(
        "", max_length=4000, description="where the person stays (sealed)"
    )
    destination_location: Location | None = Field(None, description="sealed")
    expected_end_on: date | None = None


class ReturnIn(Schema):
    ends_on: date
    note: str = Field("", max_length=4000, description="sealed")


class RelocationCloseIn(Schema):
    note: str = Field(..., max_length=4000, description="sealed")


class CostIn(Schema):
    category: str = Field(..., description=_choices(CostCategory.values))
    amount: Decimal = Field(..., gt=0, max_digits=12, decimal_places=2)
    currency: str = Field(..., min_length=3, max_length=3, description="ISO 4217: PEN, USD")
    incurred_on: date
    emergency_fund: bool = True
    fund_reference: str = Field("", max_length=60)
    note: str = Field("", max_length=4000, description="sealed")


# What goes out


class Error(Schema):
    detail: Any


class PersonRef(Schema):
    id: UUID
    name: str


class Total(Schema):
    currency: str
    total: Decimal


class RelocationOut(Schema):
    id: UUID
    organisation: str
    person: PersonRef
    status: str
    risk_level: str
    cross_border: bool
    requested_at: datetime
    approved: bool | None
    decided_at: datetime | None
    self_approved: bool
    safe_house: UUID | None = Field(..., description="the safe house's id; see the pages")
    starts_on: date | None
    expected_end_on: date | None
    ends_on: date | None
    crisis_case_id: UUID | None
    cost_totals: list[Total]


class RelocationPageOut(Schema):
    items: list[RelocationOut]
    count: int
    limit: int
    offset: int


class CostOut(Schema):
    id: UUID
    category: str
    amount: Decimal
    currency: str
    incurred_on: date
    emergency_fund: bool
    fund_reference: str


class MonthTotal(Schema):
    month: date
    currency: str
    emergency_fund: bool
    total: Decimal
    count: int


# Finding a relocation


def _ctx(request: HttpRequest, slug: str) -> OrgContext:
    ctx = people_access.access_organisation_by_slug(request.user, slug)
    access.require_manager(ctx)
    return ctx


def _find(request: HttpRequest, relocation_id: UUID) -> tuple[OrgContext, RelocationRequest]:
    """A relocation by id, seen through whichever of the user's organisations holds it."""
    for organisation in people_access.organisations_of(request.user):
        ctx = people_access.access_organisation_by_slug(request.user, organisation.slug)
        if access.relocations_visible_to(ctx).filter(pk=relocation_id).exists():
            return ctx, access.access_relocation_by_id(ctx, relocation_id)
    not_found()


def _totals(item: RelocationRequest) -> list[dict[str, Any]]:
    return list(
        RelocationCost.objects.filter(relocation=item)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    )


def _out(item: RelocationRequest) -> dict[str, Any]:
    return {
        "id": item.pk,
        "organisation": item.organisation.slug,
        "person": {"id": item.person.pk, "name": item.person.display_name},
        "status": item.status,
        "risk_level": item.risk_level,
        "cross_border": item.cross_border,
        "requested_at": item.requested_at,
        "approved": item.approved,
        "decided_at": item.decided_at,
        "self_approved": item.self_approved,
        "safe_house": item.safe_house_id,
        "starts_on": item.starts_on,
        "expected_end_on": item.expected_end_on,
        "ends_on": item.ends_on,
        "crisis_case_id": item.crisis_case_id,
        "cost_totals": _totals(item),
    }


def _fresh(item: RelocationRequest) -> dict[str, Any]:
    return _out(RelocationRequest.objects.select_related("organisation", "person").get(pk=item.pk))


def _cost(cost: RelocationCost) -> dict[str, Any]:
    # The note is sealed and stays out.
    return {
        "id": cost.pk,
        "category": cost.category,
        "amount": cost.amount,
        "currency": cost.currency,
        "incurred_on": cost.incurred_on,
        "emergency_fund": cost.emergency_fund,
        "fund_reference": cost.fund_reference,
    }


# Relocations


@router.get("", response={200: RelocationPageOut, 404: Error})
def list_relocations(
    request: HttpRequest,
    organisation: str,
    status: str = Query("", description=_choices(RelocationStatus.values)),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    ctx = _ctx(request, organisation)
    relocations = access.relocations_visible_to(ctx)
    if status:
        relocations = relocations.filter(status=status)
    page = relocations.select_related("organisation", "person").order_by("-requested_at", "-pk")
    return {
        "items": [_out(r) for r in page[offset : offset + limit]],
        "count": relocations.count(),
        "limit": limit,
        "offset": offset,
    }


@router.post("", response={201: RelocationOut, 404: Error, 422: Error})
def request_relocation(request: HttpRequest, payload: RequestIn) -> WithStatus[dict[str, Any]]:
    """A security coordinator asks to relocate a person of the organisation."""
    ctx = _ctx(request, payload.organisation)
    person = access.people_to_relocate(ctx).filter(pk=payload.person).first()
    if person is None:
        raise ValidationError({"person": _("Choose a person of this organisation.")})
    item = relocation.request_relocation(
        request.user,
        person,
        reason=payload.reason,
        risk_level=payload.risk_level,
        cross_border=payload.cross_border,
        destination_country=payload.destination_country,
        expected_end_on=payload.expected_end_on,
        crisis_case_id=payload.crisis_case_id,
    )
    return WithStatus(201, _fresh(item))


# Declared before "/{relocation_id}", which would otherwise take the word "costs".
@router.get("/costs", response={200: list[MonthTotal], 404: Error})
def monthly_costs(request: HttpRequest, organisation: str) -> list[dict[str, Any]]:
    """Costs per month, currency and source, latest month first: what the emergency fund
    paid for relocations."""
    ctx = _ctx(request, organisation)
    return list(
        access.costs_visible_to(ctx)
        .annotate(month=TruncMonth("incurred_on"))
        .values("month", "currency", "emergency_fund")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by("-month", "currency", "emergency_fund")
    )


@router.get("/{relocation_id}", response={200: RelocationOut, 404: Error})
def get_relocation(request: HttpRequest, relocation_id: UUID) -> dict[str, Any]:
    return _fresh(_find(request, relocation_id)[1])


@router.post("/{relocation_id}/decision", response={200: RelocationOut, 404: Error, 422: Error})
def decide(request: HttpRequest, relocation_id: UUID, payload: DecisionIn) -> dict[str, Any]:
    item = _find(request, relocation_id)[1]
    relocation.decide_relocation(request.user, item, approve=payload.approve, note=payload.note)
    return _fresh(item)


@router.post("/{relocation_id}/relocation", response={200: RelocationOut, 404: Error, 422: Error})
def relocate(request: HttpRequest, relocation_id: UUID, payload: RelocateIn) -> dict[str, Any]:
    ctx, item = _find(request, relocation_id)
    safe_house = None
    if payload.safe_house is not None:
        safe_house = people_access.access_safe_house_by_id(ctx, payload.safe_house)
    relocation.relocate(
        request.user,
        item,
        starts_on=payload.starts_on,
        safe_house=safe_house,
        destination_address=payload.destination_address,
        destination_location=(
            payload.destination_location.dict() if payload.destination_location else None
        ),
        expected_end_on=payload.expected_end_on,
    )
    return _fresh(item)


@router.post("/{relocation_id}/return", response={200: RelocationOut, 404: Error, 422: Error})
def mark_returned(request: HttpRequest, relocation_id: UUID, payload: ReturnIn) -> dict[str, Any]:
    item = _find(request, relocation_id)[1]
    relocation.mark_returned(request.user, item, ends_on=payload.ends_on, note=payload.note)
    return _fresh(item)


@router.post("/{relocation_id}/close", response={200: RelocationOut, 404: Error, 422: Error})
def close(request: HttpRequest, relocation_id: UUID, payload: RelocationCloseIn) -> dict[str, Any]:
    item = _find(request, relocation_id)[1]
    relocation.close_relocation(request.user, item, note=payload.note)
    return _fresh(item)


@router.get("/{relocation_id}/costs", response={200: list[CostOut], 404: Error})
def list_costs(request: HttpRequest, relocation_id: UUID) -> list[dict[str, Any]]:
    item = _find(request, relocation_id)[1]
    return [_cost(c) for c in RelocationCost.objects.filter(relocation=item)]


@router.post("/{relocation_id}/costs", response={201: CostOut, 404: Error, 422: Error})
def record_cost(
    request: HttpRequest, relocation_id: UUID, payload: CostIn
) -> WithStatus[dict[str, Any]]:
    item = _find(request, relocation_id)[1]
    cost = relocation.record_cost(request.user, item, **payload.dict())
    return WithStatus(201, _cost(cost))
