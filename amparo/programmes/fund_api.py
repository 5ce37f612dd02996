"""The emergency fund over the API (issue 8, point 5; ``/api/v1/fund``): requests, the
approvals, refusal, disbursement, satisfaction, the ledger's totals and the anonymised
summary. Reads through programmes.access, writes through programmes.fund (audited
there); anything one may not see or do is the same 404 as a missing request. The sealed
beneficiary and justification go in and never come out."""

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
from amparo.programmes import access, fund
from amparo.programmes.models import FundCategory, FundRequest

router = Router(tags=["fund"])


class Error(Schema):
    detail: Any


class FundRequestIn(Schema):
    organisation: str = Field(..., description="the organisation's short name (slug)")
    category: str = Field(..., description=", ".join(FundCategory.values))
    amount: Decimal = Field(..., gt=0, max_digits=12, decimal_places=2)
    currency: str = Field(..., min_length=3, max_length=3)
    beneficiary: UUID | None = Field(None, description="a person of the organisation")
    beneficiary_name: str = Field("", max_length=200, description="sealed; never returned")
    justification: str = Field(..., max_length=8000, description="sealed; never returned")


class RefusalIn(Schema):
    note: str = Field(..., max_length=8000, description="sealed; never returned")


class DisbursementIn(Schema):
    reference: str = Field("", max_length=60, description="a payment code; no names")


class SatisfactionIn(Schema):
    satisfaction: int = Field(..., ge=1, le=5)


class FundRequestOut(Schema):
    id: UUID
    reference_code: str
    category: str
    amount: Decimal
    currency: str
    status: str
    requested_at: datetime
    approvals: int
    approved_at: datetime | None
    disbursed_at: datetime | None
    hours_to_disbursement: float | None
    satisfaction: int | None


class TotalOut(Schema):
    category: str
    currency: str
    requests: int
    amount: Decimal


class RelocationLineOut(Schema):
    currency: str
    costs: int
    amount: Decimal
    references: list[str]


class LedgerOut(Schema):
    disbursed: list[TotalOut]
    committed: list[TotalOut]
    relocations: list[RelocationLineOut]


class SummaryCellOut(Schema):
    month: date
    category: str
    currency: str
    requests: int | None = Field(..., description="null when fewer than 5 (suppressed)")
    amount: Decimal | None


def _find(request: HttpRequest, request_id: UUID) -> tuple[OrgContext, FundRequest]:
    for organisation in people_access.organisations_of(request.user):
        ctx = people_access.access_organisation_by_slug(request.user, organisation.slug)
        if access.fund_requests_visible_to(ctx).filter(pk=request_id).exists():
            return ctx, access.access_fund_request_by_id(ctx, request_id)
    not_found()


def _out(fund_request: FundRequest) -> dict[str, Any]:
    fund_request = FundRequest.objects.get(pk=fund_request.pk)
    return {
        "id": fund_request.pk,
        "reference_code": fund_request.reference_code,
        "category": fund_request.category,
        "amount": fund_request.amount,
        "currency": fund_request.currency,
        "status": fund_request.status,
        "requested_at": fund_request.requested_at,
        "approvals": fund_request.approvals.count(),
        "approved_at": fund_request.approved_at,
        "disbursed_at": fund_request.disbursed_at,
        "hours_to_disbursement": fund.hours_to_disbursement(fund_request),
        "satisfaction": fund_request.satisfaction,
    }


def _manager(request: HttpRequest, organisation: str) -> OrgContext:
    ctx = people_access.access_organisation_by_slug(request.user, organisation)
    people_access.require(ctx, access.can_manage_programmes(ctx))
    return ctx


@router.get("", response={200: list[FundRequestOut], 404: Error})
def list_requests(request: HttpRequest, organisation: str) -> list[dict[str, Any]]:
    ctx = _manager(request, organisation)
    return [_out(r) for r in access.fund_requests_visible_to(ctx)[:200]]


@router.post("", response={201: FundRequestOut, 404: Error, 422: Error})
def create_request(request: HttpRequest, payload: FundRequestIn) -> WithStatus[dict[str, Any]]:
    ctx = _manager(request, payload.organisation)
    beneficiary = None
    if payload.beneficiary is not None:
        beneficiary = people_access.access_person_by_id(ctx, payload.beneficiary)
    fund_request = fund.request_funds(
        request.user,
        ctx.organisation,
        category=payload.category,
        amount=payload.amount,
        currency=payload.currency,
        justification=payload.justification,
        beneficiary=beneficiary,
        beneficiary_name=payload.beneficiary_name,
    )
    return WithStatus(201, _out(fund_request))


@router.get("/ledger", response={200: LedgerOut, 404: Error})
def ledger(request: HttpRequest, organisation: str) -> dict[str, Any]:
    ctx = _manager(request, organisation)
    book = fund.fund_ledger(ctx.organisation)
    return {
        "disbursed": [t.__dict__ for t in book.disbursed],
        "committed": [t.__dict__ for t in book.committed],
        "relocations": [r.__dict__ for r in book.relocations],
    }


@router.get("/summary", response={200: list[SummaryCellOut], 404: Error})
def summary(
    request: HttpRequest,
    organisation: str,
    since: date | None = None,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """The anonymised summary: coordinators, administrators and partners."""
    ctx = people_access.access_organisation_by_slug(request.user, organisation)
    people_access.require(ctx, access.can_read_fund_summary(ctx))
    return [c.__dict__ for c in fund.public_summary(ctx.organisation, since, until)]


@router.get("/{request_id}", response={200: FundRequestOut, 404: Error})
def get_request(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    return _out(_find(request, request_id)[1])


@router.post("/{request_id}/approvals", response={200: FundRequestOut, 404: Error, 422: Error})
def approve(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    ctx, fund_request = _find(request, request_id)
    fund_request = access.access_fund_request_to_approve(ctx, fund_request.pk)
    return _out(fund.approve_fund_request(request.user, fund_request))


@router.post("/{request_id}/refusal", response={200: FundRequestOut, 404: Error, 422: Error})
def refuse(request: HttpRequest, request_id: UUID, payload: RefusalIn) -> dict[str, Any]:
    ctx, fund_request = _find(request, request_id)
    fund_request = access.access_fund_request_to_approve(ctx, fund_request.pk)
    return _out(fund.refuse_fund_request(request.user, fund_request, payload.note))


@router.post("/{request_id}/disbursement", response={200: FundRequestOut, 404: Error, 422: Error})
def disburse(request: HttpRequest, request_id: UUID, payload: DisbursementIn) -> dict[str, Any]:
    _ctx, fund_request = _find(request, request_id)
    return _out(fund.disburse_fund_request(request.user, fund_request, reference=payload.reference))


@router.post("/{request_id}/satisfaction", response={200: FundRequestOut, 404: Error, 422: Error})
def satisfaction(request: HttpRequest, request_id: UUID, payload: SatisfactionIn) -> dict[str, Any]:
    _ctx, fund_request = _find(request, request_id)
    return _out(fund.record_satisfaction(request.user, fund_request, payload.satisfaction))
