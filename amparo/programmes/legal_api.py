"""Legal accompaniment over the API (issue 8, point 6; ``/api/v1/legal-cases``): cases,
their complaints, the lawyer and closing. A lawyer sees the cases assigned to them only;
anything one may not see or do is the same 404. The sealed summary and notes go in and
never come out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status as WithStatus

from amparo.core.access import not_found
from amparo.incidents import access as incidents_access
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.programmes import access, legal
from amparo.programmes.models import (
    ComplaintBody,
    ComplaintOutcome,
    ComplaintStatus,
    LegalCase,
    LegalMatter,
)

router = Router(tags=["legal"])


class Error(Schema):
    detail: Any


class CaseIn(Schema):
    organisation: str
    matter: str = Field(..., description=", ".join(LegalMatter.values))
    summary: str = Field(..., max_length=8000, description="sealed; never returned")
    person: UUID | None = None
    threat_report: UUID | None = None
    lawyer: UUID | None = None
    strategic_litigation: bool = False


class ComplaintIn(Schema):
    body: str = Field(..., description=", ".join(ComplaintBody.values))
    filed_on: date
    file_number: str = Field("", max_length=60)
    notes: str = Field("", max_length=8000, description="sealed; never returned")


class ComplaintUpdateIn(Schema):
    status: str = Field(..., description=", ".join(ComplaintStatus.values))
    status_on: date
    outcome: str = Field(..., description=", ".join(ComplaintOutcome.values))
    sanctions: int = Field(0, ge=0, le=1000)


class LawyerIn(Schema):
    lawyer: UUID | None = None


class CloseIn(Schema):
    resolved: bool


class ComplaintOut(Schema):
    id: UUID
    body: str
    filed_on: date
    file_number: str
    status: str
    status_on: date
    outcome: str
    sanctions: int


class CaseOut(Schema):
    id: UUID
    matter: str
    status: str
    person: UUID | None
    threat_report: UUID | None
    lawyer: UUID | None
    strategic_litigation: bool
    opened_at: datetime
    closed_at: datetime | None
    complaints: list[ComplaintOut]


def _find(request: HttpRequest, case_id: UUID) -> tuple[OrgContext, LegalCase]:
    for organisation in people_access.organisations_of(request.user):
        ctx = people_access.access_organisation_by_slug(request.user, organisation.slug)
        if access.legal_cases_visible_to(ctx).filter(pk=case_id).exists():
            return ctx, access.access_legal_case_by_id(ctx, case_id)
    not_found()


def _complaint(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "body": c.body,
        "filed_on": c.filed_on,
        "file_number": c.file_number,
        "status": c.status,
        "status_on": c.status_on,
        "outcome": c.outcome,
        "sanctions": c.sanctions,
    }


def _out(case: LegalCase) -> dict[str, Any]:
    case = LegalCase.objects.get(pk=case.pk)
    return {
        "id": case.pk,
        "matter": case.matter,
        "status": case.status,
        "person": case.person_id,
        "threat_report": case.threat_report_id,
        "lawyer": case.lawyer_id,
        "strategic_litigation": case.strategic_litigation,
        "opened_at": case.opened_at,
        "closed_at": case.closed_at,
        "complaints": [_complaint(c) for c in case.complaints.all()],
    }


def _lawyer(ctx: OrgContext, user_id: UUID | None) -> Any:
    if user_id is None:
        return None
    lawyer = next((u for u in access.lawyers_of(ctx) if u.pk == user_id), None)
    if lawyer is None:
        raise ValidationError(
            {"lawyer": _("Choose a lawyer who is a member of this organisation.")}
        )
    return lawyer


@router.get("", response={200: list[CaseOut], 404: Error})
def list_cases(request: HttpRequest, organisation: str) -> list[dict[str, Any]]:
    """Every case for coordinators and administrators; a lawyer's assigned cases."""
    ctx = people_access.access_organisation_by_slug(request.user, organisation)
    people_access.require(ctx, access.can_manage_programmes(ctx) or access.is_lawyer(ctx))
    return [_out(c) for c in access.legal_cases_visible_to(ctx)[:200]]


@router.post("", response={201: CaseOut, 404: Error, 422: Error})
def open_case(request: HttpRequest, payload: CaseIn) -> WithStatus[dict[str, Any]]:
    ctx = people_access.access_organisation_by_slug(request.user, payload.organisation)
    people_access.require(ctx, access.can_manage_programmes(ctx))
    person = None
    if payload.person is not None:
        person = people_access.access_person_by_id(ctx, payload.person)
    report = None
    if payload.threat_report is not None:
        report = incidents_access.access_report_by_id(ctx, payload.threat_report)
    case = legal.open_legal_case(
        request.user,
        ctx.organisation,
        matter=payload.matter,
        summary=payload.summary,
        person=person,
        threat_report=report,
        lawyer=_lawyer(ctx, payload.lawyer),
        strategic_litigation=payload.strategic_litigation,
    )
    return WithStatus(201, _out(case))


@router.get("/{case_id}", response={200: CaseOut, 404: Error})
def get_case(request: HttpRequest, case_id: UUID) -> dict[str, Any]:
    return _out(_find(request, case_id)[1])


@router.post("/{case_id}/complaints", response={201: ComplaintOut, 404: Error, 422: Error})
def file_complaint(
    request: HttpRequest, case_id: UUID, payload: ComplaintIn
) -> WithStatus[dict[str, Any]]:
    _ctx, case = _find(request, case_id)
    complaint = legal.file_complaint(
        request.user,
        case,
        body=payload.body,
        filed_on=payload.filed_on,
        file_number=payload.file_number,
        notes=payload.notes,
    )
    return WithStatus(201, _complaint(complaint))


@router.post(
    "/{case_id}/complaints/{complaint_id}",
    response={200: ComplaintOut, 404: Error, 422: Error},
)
def update_complaint(
    request: HttpRequest, case_id: UUID, complaint_id: UUID, payload: ComplaintUpdateIn
) -> dict[str, Any]:
    ctx, case = _find(request, case_id)
    complaint = access.access_complaint_by_id(ctx, case, complaint_id)
    complaint = legal.update_complaint(
        request.user,
        complaint,
        status=payload.status,
        status_on=payload.status_on,
        outcome=payload.outcome,
        sanctions=payload.sanctions,
    )
    return _complaint(complaint)


@router.post("/{case_id}/lawyer", response={200: CaseOut, 404: Error, 422: Error})
def assign_lawyer(request: HttpRequest, case_id: UUID, payload: LawyerIn) -> dict[str, Any]:
    ctx, case = _find(request, case_id)
    case = access.access_legal_case_to_manage(ctx, case.pk)
    return _out(legal.assign_lawyer(request.user, case, _lawyer(ctx, payload.lawyer)))


@router.post("/{case_id}/close", response={200: CaseOut, 404: Error, 422: Error})
def close_case(request: HttpRequest, case_id: UUID, payload: CloseIn) -> dict[str, Any]:
    ctx, case = _find(request, case_id)
    case = access.access_legal_case_to_manage(ctx, case.pk)
    return _out(legal.close_legal_case(request.user, case, resolved=payload.resolved))
