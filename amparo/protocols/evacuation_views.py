"""Evacuation plan and drill pages (issue 8, point 3; reference, Strategy 2, line 3 and
Strategy 1, line 4). Coordinators, focal points and administrators read a plan's routes,
shelters, contacts and provisions; other members read its summary. The drill log shows
the figures and the trend to every reader, the observations to detail readers only.
Thin: reads through protocols.access, writes through protocols.evacuation."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.people.access import OrgContext
from amparo.people.views import _form_errors_from, org_view
from amparo.protocols import access, evacuation
from amparo.protocols.drill_trend import drill_trends, trend_svg
from amparo.protocols.forms import DrillForm, EvacuationPlanForm
from amparo.protocols.models import EvacuationPlan

# Pages that only read answer other methods with 405, after the access check, so that
# everyone without a part gets the same 404 whatever the method.
READS = ["GET", "HEAD"]


def _protocol_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    return [(str(p.pk), p.title) for p in access.community_protocols_visible_to(ctx)]


def _plan_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    return [(str(p.pk), p.name) for p in access.evacuation_plans_visible_to(ctx)]


def trend_context(drills: Any) -> list[dict[str, Any]]:
    labels = {
        "evacuation_minutes": _("Evacuation time (minutes)"),
        "share_following": _("Participants following the protocol (%)"),
        "critical_errors": _("Critical errors"),
    }
    return [
        {"trend": t, "svg": trend_svg(t)} for t in drill_trends(list(drills), labels) if t.points
    ]


def _plan_fields(ctx: OrgContext, form: EvacuationPlanForm) -> dict[str, Any]:
    fields = dict(form.cleaned_data)
    protocol_id = fields.pop("protocol")
    fields["protocol"] = access.access_protocol_by_id(ctx, protocol_id) if protocol_id else None
    return fields


def _plan_initial(plan: EvacuationPlan) -> dict[str, Any]:
    initial = {name: getattr(plan, name) for name in evacuation.PLAN_FIELDS if name != "protocol"}
    initial["protocol"] = str(plan.protocol_id) if plan.protocol_id else ""
    return initial


@org_view
def evacuation_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_protocol_writer(ctx)
    form = EvacuationPlanForm(request.POST or None, protocols=_protocol_choices(ctx))
    if request.method == "POST" and form.is_valid():
        try:
            plan = evacuation.create_evacuation_plan(
                request.user, ctx.organisation, **_plan_fields(ctx, form)
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("evacuation-detail", ctx.organisation.slug, plan.pk)
    return render(request, "protocols/evacuation_form.html", {"ctx": ctx, "form": form})


@org_view
def evacuation_detail(request: HttpRequest, ctx: OrgContext, plan_id: str) -> HttpResponse:
    plan = access.access_evacuation_plan_by_id(ctx, plan_id)
    if request.method not in READS:
        return HttpResponseNotAllowed(READS)
    drills = plan.drills.all()
    return render(
        request,
        "protocols/evacuation_detail.html",
        {
            "ctx": ctx,
            "plan": plan,
            "details": access.can_read_evacuation_details(ctx),
            "writer": access.can_write_protocols(ctx),
            "drills": drills,
            "trends": trend_context(drills),
        },
    )


@org_view
def evacuation_edit(request: HttpRequest, ctx: OrgContext, plan_id: str) -> HttpResponse:
    plan = access.access_evacuation_plan_by_id(ctx, plan_id)
    access.require_protocol_writer(ctx)
    form = EvacuationPlanForm(
        request.POST or None, protocols=_protocol_choices(ctx), initial=_plan_initial(plan)
    )
    if request.method == "POST" and form.is_valid():
        try:
            evacuation.update_evacuation_plan(request.user, plan, **_plan_fields(ctx, form))
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("evacuation-detail", ctx.organisation.slug, plan.pk)
    return render(
        request, "protocols/evacuation_form.html", {"ctx": ctx, "form": form, "plan": plan}
    )


@org_view
def drill_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_protocol_reader(ctx)
    if request.method not in READS:
        return HttpResponseNotAllowed(READS)
    drills = access.drills_visible_to(ctx).select_related("protocol", "evacuation_plan")
    return render(
        request,
        "protocols/drill_list.html",
        {
            "ctx": ctx,
            "drills": drills,
            "details": access.can_read_evacuation_details(ctx),
            "writer": access.can_write_protocols(ctx),
            "trends": trend_context(drills),
        },
    )


@org_view
def drill_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_protocol_writer(ctx)
    form = DrillForm(
        request.POST or None,
        protocols=_protocol_choices(ctx),
        plans=_plan_choices(ctx),
        initial={
            "held_on": timezone.localdate(),
            "protocol": request.GET.get("protocol", ""),
            "evacuation_plan": request.GET.get("plan", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        protocol = access.access_protocol_by_id(ctx, d["protocol"]) if d["protocol"] else None
        plan = (
            access.access_evacuation_plan_by_id(ctx, d["evacuation_plan"])
            if d["evacuation_plan"]
            else None
        )
        try:
            evacuation.record_drill(
                request.user,
                ctx.organisation,
                held_on=d["held_on"],
                scenario=d["scenario"],
                participants=d["participants"],
                followed_protocol=d["followed_protocol"],
                evacuation_seconds=form.evacuation_seconds(),
                critical_errors=d["critical_errors"],
                protocol=protocol,
                evacuation_plan=plan,
                notes=d["notes"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("drill-list", ctx.organisation.slug)
    return render(request, "protocols/drill_form.html", {"ctx": ctx, "form": form})
