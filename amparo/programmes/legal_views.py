"""Legal accompaniment pages (issue 8, point 6): the cases (all of them for coordinators
and administrators, their own for a lawyer), a new case, a case's page with its
complaints and the forms to file one, update one, assign the lawyer and close. Thin:
reads through programmes.access, writes through programmes.legal."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amparo.incidents import access as incidents_access
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.views import _form_errors_from, org_view
from amparo.programmes import access, legal
from amparo.programmes.forms import (
    CloseCaseForm,
    ComplaintForm,
    ComplaintStatusForm,
    LawyerForm,
    LegalCaseForm,
    uuid_or_none,
)
from amparo.programmes.fund_views import people_choices
from amparo.programmes.models import LegalCase, LegalCaseStatus


def _lawyer_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    return [(str(u.pk), u.email) for u in access.lawyers_of(ctx)]


def _lawyer(ctx: OrgContext, user_id: str) -> Any:
    if not user_id:
        return None
    return next((u for u in access.lawyers_of(ctx) if str(u.pk) == user_id), None)


@org_view
def case_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people_access.require(ctx, access.can_manage_programmes(ctx) or access.is_lawyer(ctx))
    cases = access.legal_cases_visible_to(ctx).select_related("person", "lawyer")
    return render(
        request,
        "programmes/legal_case_list.html",
        {"ctx": ctx, "cases": cases, "manager": access.can_manage_programmes(ctx)},
    )


@org_view
def case_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people_access.require(ctx, access.can_manage_programmes(ctx))
    form = LegalCaseForm(
        request.POST or None,
        initial={"threat_report": uuid_or_none(request.GET.get("threat_report"))},
        people=people_choices(ctx),
        lawyers=_lawyer_choices(ctx),
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        person = None
        if d["person"]:
            person = people_access.people_visible_to(ctx).filter(pk=d["person"]).first()
        report = None
        if d["threat_report"]:
            report = incidents_access.access_report_by_id(ctx, d["threat_report"])
        try:
            case = legal.open_legal_case(
                request.user,
                ctx.organisation,
                matter=d["matter"],
                summary=d["summary"],
                person=person,
                threat_report=report,
                lawyer=_lawyer(ctx, d["lawyer"]),
                strategic_litigation=d["strategic_litigation"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The case is opened."))
            return redirect("legal-case-detail", ctx.organisation.slug, case.pk)
    return render(
        request,
        "programmes/legal_case_new.html",
        {"ctx": ctx, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _render_detail(
    request: HttpRequest, ctx: OrgContext, case: LegalCase, status: int = 200, **forms: Any
) -> HttpResponse:
    manager = access.can_manage_programmes(ctx)
    open_ = case.status == LegalCaseStatus.OPEN
    complaints = list(case.complaints.all())
    context: dict[str, Any] = {
        "ctx": ctx,
        "case": case,
        "manager": manager,
        "open": open_,
        "complaints": [
            (
                c,
                ComplaintStatusForm(
                    initial={
                        "status": c.status,
                        "status_on": c.status_on,
                        "outcome": c.outcome,
                        "sanctions": c.sanctions,
                    },
                    prefix=str(c.pk),
                ),
            )
            for c in complaints
        ],
    }
    if open_:
        context["complaint_form"] = forms.get("complaint_form") or ComplaintForm()
        context["status_errors"] = forms.get("status_form")
    if manager and open_:
        context["lawyer_form"] = forms.get("lawyer_form") or LawyerForm(
            initial={"lawyer": str(case.lawyer_id or "")}, lawyers=_lawyer_choices(ctx)
        )
        context["close_form"] = forms.get("close_form") or CloseCaseForm()
    return render(request, "programmes/legal_case_detail.html", context, status=status)


@org_view
def case_detail(request: HttpRequest, ctx: OrgContext, case_id: str) -> HttpResponse:
    return _render_detail(request, ctx, access.access_legal_case_by_id(ctx, case_id))


@require_POST
@org_view
def complaint_new(request: HttpRequest, ctx: OrgContext, case_id: str) -> HttpResponse:
    case = access.access_legal_case_by_id(ctx, case_id)
    form = ComplaintForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            legal.file_complaint(
                request.user,
                case,
                body=d["body"],
                filed_on=d["filed_on"],
                file_number=d["file_number"],
                notes=d["notes"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The complaint is recorded."))
            return redirect("legal-case-detail", ctx.organisation.slug, case.pk)
    return _render_detail(request, ctx, case, status=400, complaint_form=form)


@require_POST
@org_view
def complaint_status(
    request: HttpRequest, ctx: OrgContext, case_id: str, complaint_id: str
) -> HttpResponse:
    case = access.access_legal_case_by_id(ctx, case_id)
    complaint = access.access_complaint_by_id(ctx, case, complaint_id)
    form = ComplaintStatusForm(request.POST, prefix=str(complaint.pk))
    if form.is_valid():
        d = form.cleaned_data
        try:
            legal.update_complaint(
                request.user,
                complaint,
                status=d["status"],
                status_on=d["status_on"],
                outcome=d["outcome"],
                sanctions=d["sanctions"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("legal-case-detail", ctx.organisation.slug, case.pk)
    return _render_detail(request, ctx, case, status=400, status_form=form)


@require_POST
@org_view
def case_lawyer(request: HttpRequest, ctx: OrgContext, case_id: str) -> HttpResponse:
    case = access.access_legal_case_to_manage(ctx, case_id)
    form = LawyerForm(request.POST, lawyers=_lawyer_choices(ctx))
    if form.is_valid():
        try:
            legal.assign_lawyer(request.user, case, _lawyer(ctx, form.cleaned_data["lawyer"]))
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("legal-case-detail", ctx.organisation.slug, case.pk)
    return _render_detail(request, ctx, case, status=400, lawyer_form=form)


@require_POST
@org_view
def case_close(request: HttpRequest, ctx: OrgContext, case_id: str) -> HttpResponse:
    case = access.access_legal_case_to_manage(ctx, case_id)
    form = CloseCaseForm(request.POST)
    if form.is_valid():
        try:
            legal.close_legal_case(request.user, case, resolved=form.cleaned_data["resolved"])
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The case is closed."))
            return redirect("legal-case-detail", ctx.organisation.slug, case.pk)
    return _render_detail(request, ctx, case, status=400, close_form=form)
