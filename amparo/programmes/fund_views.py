"""Emergency fund pages (issue 8, point 5): the requests, a new request, a request's
page with the approvals, refusal, disbursement and satisfaction forms, the ledger and
the anonymised summary. Thin: reads through programmes.access, writes through
programmes.fund."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amparo.core.access import not_found
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.models import Organisation, Person
from amparo.people.views import _form_errors_from, org_view
from amparo.programmes import access, fund
from amparo.programmes.forms import (
    DisbursementForm,
    FundRefusalForm,
    FundRequestForm,
    SatisfactionForm,
)
from amparo.programmes.models import FundCategory, FundRequest, FundRequestStatus

CATEGORY_LABELS = dict(FundCategory.choices)


def people_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    people = Person.objects.filter(organisation=ctx.organisation, archived_at__isnull=True)
    return sorted(((str(p.pk), p.display_name) for p in people), key=lambda c: c[1].lower())


@org_view
def fund_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people_access.require(ctx, access.can_manage_programmes(ctx))
    requests = access.fund_requests_visible_to(ctx).prefetch_related("approvals")
    return render(request, "programmes/fund_list.html", {"ctx": ctx, "requests": requests})


@org_view
def fund_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people_access.require(ctx, access.can_manage_programmes(ctx))
    form = FundRequestForm(request.POST or None, people=people_choices(ctx))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        beneficiary = None
        if d["beneficiary"]:
            beneficiary = people_access.people_visible_to(ctx).filter(pk=d["beneficiary"]).first()
        try:
            fund_request = fund.request_funds(
                request.user,
                ctx.organisation,
                category=d["category"],
                amount=d["amount"],
                currency=d["currency"],
                justification=d["justification"],
                beneficiary=beneficiary,
                beneficiary_name=d["beneficiary_name"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The request is recorded. Two approvers must approve it."))
            return redirect("fund-detail", ctx.organisation.slug, fund_request.pk)
    return render(
        request,
        "programmes/fund_new.html",
        {"ctx": ctx, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _render_detail(
    request: HttpRequest,
    ctx: OrgContext,
    fund_request: FundRequest,
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    status_open = fund_request.status in (FundRequestStatus.REQUESTED, FundRequestStatus.APPROVED)
    context: dict[str, Any] = {
        "ctx": ctx,
        "fund_request": fund_request,
        "approvals": list(fund_request.approvals.select_related("approver")),
        "approval_refusal": fund.approval_refusal(fund_request, request.user),
        "hours": fund.hours_to_disbursement(fund_request),
        "can_approve": access.can_approve_fund(ctx),
    }
    if access.can_approve_fund(ctx) and status_open:
        context["refusal_form"] = forms.get("refusal_form") or FundRefusalForm()
    if fund_request.status == FundRequestStatus.APPROVED:
        context["disbursement_form"] = forms.get("disbursement_form") or DisbursementForm()
    if fund_request.status == FundRequestStatus.DISBURSED:
        context["satisfaction_form"] = forms.get("satisfaction_form") or SatisfactionForm(
            initial={"satisfaction": fund_request.satisfaction}
        )
    return render(request, "programmes/fund_detail.html", context, status=status)


@org_view
def fund_detail(request: HttpRequest, ctx: OrgContext, request_id: str) -> HttpResponse:
    return _render_detail(request, ctx, access.access_fund_request_by_id(ctx, request_id))


@require_POST
@org_view
def fund_approve(request: HttpRequest, ctx: OrgContext, request_id: str) -> HttpResponse:
    fund_request = access.access_fund_request_to_approve(ctx, request_id)
    try:
        fund.approve_fund_request(request.user, fund_request)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Your approval is recorded."))
    return redirect("fund-detail", ctx.organisation.slug, fund_request.pk)


@require_POST
@org_view
def fund_refuse(request: HttpRequest, ctx: OrgContext, request_id: str) -> HttpResponse:
    fund_request = access.access_fund_request_to_approve(ctx, request_id)
    form = FundRefusalForm(request.POST)
    if form.is_valid():
        try:
            fund.refuse_fund_request(request.user, fund_request, form.cleaned_data["note"])
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("fund-detail", ctx.organisation.slug, fund_request.pk)
    return _render_detail(request, ctx, fund_request, status=400, refusal_form=form)


@require_POST
@org_view
def fund_disburse(request: HttpRequest, ctx: OrgContext, request_id: str) -> HttpResponse:
    fund_request = access.access_fund_request_by_id(ctx, request_id)
    form = DisbursementForm(request.POST)
    if form.is_valid():
        try:
            fund.disburse_fund_request(
                request.user, fund_request, reference=form.cleaned_data["reference"]
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The disbursement is recorded."))
            return redirect("fund-detail", ctx.organisation.slug, fund_request.pk)
    return _render_detail(request, ctx, fund_request, status=400, disbursement_form=form)


@require_POST
@org_view
def fund_satisfaction(request: HttpRequest, ctx: OrgContext, request_id: str) -> HttpResponse:
    fund_request = access.access_fund_request_by_id(ctx, request_id)
    form = SatisfactionForm(request.POST)
    if form.is_valid():
        try:
            fund.record_satisfaction(request.user, fund_request, form.cleaned_data["satisfaction"])
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("fund-detail", ctx.organisation.slug, fund_request.pk)
    return _render_detail(request, ctx, fund_request, status=400, satisfaction_form=form)


@org_view
def fund_ledger(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people_access.require(ctx, access.can_manage_programmes(ctx))
    return render(
        request,
        "programmes/fund_ledger.html",
        {"ctx": ctx, "ledger": fund.fund_ledger(ctx.organisation), "labels": CATEGORY_LABELS},
    )


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def public_fund_summary(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The anonymised summary for anyone, without an account (reference Strategy 2,
    line 5: a transparent fund): counts and sums only, cells under k suppressed, no
    totals (``fund.public_summary``)."""
    organisation = Organisation.objects.filter(slug=org_slug).first()
    if organisation is None:
        not_found()
    since, until = _date(request.GET.get("since")), _date(request.GET.get("until"))
    return render(
        request,
        "programmes/fund_summary.html",
        {
            "public_organisation": organisation,
            "cells": fund.public_summary(organisation, since, until),
            "labels": CATEGORY_LABELS,
            "k": fund.PUBLIC_K,
            "since": since,
            "until": until,
        },
    )


@org_view
def fund_summary(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people_access.require(ctx, access.can_read_fund_summary(ctx))
    since, until = _date(request.GET.get("since")), _date(request.GET.get("until"))
    return render(
        request,
        "programmes/fund_summary.html",
        {
            "ctx": ctx,
            "cells": fund.public_summary(ctx.organisation, since, until),
            "labels": CATEGORY_LABELS,
            "k": fund.PUBLIC_K,
            "since": since,
            "until": until,
        },
    )
