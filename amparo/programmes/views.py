"""Psychosocial referral pages (issue 6, point 4): the list, a new referral with the
directory's professionals filtered by specialty, and a referral's page with its sessions,
the next session, and the forms to record a session or close it. The clinical notes are
on a page of their own, opened by the assigned psychologist only, and audited. Thin:
reads go through programmes.access, writes through programmes.actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amparo.incidents import access as incidents_access
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.models import DirectoryEntry, MentalHealthSpecialty, Person
from amparo.people.views import _form_errors_from, org_view
from amparo.programmes import access, actions
from amparo.programmes.forms import (
    HealingPracticesForm,
    NextSessionForm,
    PsychologistForm,
    ReferralForm,
    SessionForm,
    SpecialtyFilterForm,
    uuid_or_none,
)
from amparo.programmes.models import PsychosocialReferral, ReferralStatus

SPECIALTY_LABELS = dict(MentalHealthSpecialty.choices)


def professional_label(entry: DirectoryEntry) -> str:
    specialties = ", ".join(str(SPECIALTY_LABELS.get(s, s)) for s in entry.specialties or [])
    label = f"{entry.name} · {entry.region}"
    if specialties:
        label += f" ({specialties})"
    if entry.available_24h:
        label += " · 24 h"
    return label


def _people_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    people = Person.objects.filter(organisation=ctx.organisation, archived_at__isnull=True)
    return sorted(((str(p.pk), p.display_name) for p in people), key=lambda c: c[1].lower())


def _psychologist_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    return [(str(u.pk), u.email) for u in access.psychologists_of(ctx)]


def _psychologist(ctx: OrgContext, user_id: str) -> Any:
    if not user_id:
        return None
    return next((u for u in access.psychologists_of(ctx) if str(u.pk) == user_id), None)


@org_view
def referral_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    referrals = (
        access.referrals_visible_to(ctx)
        .select_related("person", "professional", "psychologist")
        .annotate(sessions_held=Count("sessions", filter=Q(sessions__attended=True)))
    )
    show_closed = request.GET.get("all") == "1"
    if not show_closed:
        referrals = referrals.exclude(status=ReferralStatus.CLOSED)
    return render(
        request,
        "programmes/referral_list.html",
        {
            "ctx": ctx,
            "referrals": referrals,
            "show_closed": show_closed,
            "manager": access.can_manage_referrals(ctx),
        },
    )


@org_view
def referral_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people_access.require(ctx, access.can_manage_referrals(ctx))
    specialty_form = SpecialtyFilterForm(request.GET or None)
    specialty = ""
    if specialty_form.is_valid():
        specialty = specialty_form.cleaned_data["specialty"]
    professionals = access.professionals_for(ctx, specialty)
    initial = {
        # Opened from a threat report or a crisis case, the referral keeps the link.
        "threat_report": uuid_or_none(request.GET.get("threat_report")),
        "crisis_case": uuid_or_none(request.GET.get("crisis_case")),
    }
    form = ReferralForm(
        request.POST or None,
        initial=initial,
        people=_people_choices(ctx),
        professionals=[(str(e.pk), professional_label(e)) for e in professionals],
        psychologists=_psychologist_choices(ctx),
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        person = people_access.people_visible_to(ctx).filter(pk=d["person"]).first()
        professional = access.access_professional_by_id(ctx, d["professional"])
        report = None
        if d["threat_report"]:
            report = incidents_access.access_report_by_id(ctx, d["threat_report"])
        if person is None:
            form.add_error("person", _("Choose a person of this organisation."))
        else:
            try:
                referral = actions.refer_person(
                    request.user,
                    ctx.organisation,
                    person=person,
                    professional=professional,
                    reason=d["reason"],
                    consent=d["consent"],
                    urgency=d["urgency"],
                    community_healing_practices=d["community_healing_practices"],
                    psychologist=_psychologist(ctx, d["psychologist"]),
                    crisis_case_id=d["crisis_case"],
                    threat_report=report,
                )
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                messages.success(request, _("The referral is made."))
                return redirect("referral-detail", ctx.organisation.slug, referral.pk)
    return render(
        request,
        "programmes/referral_new.html",
        {
            "ctx": ctx,
            "form": form,
            "specialty_form": specialty_form,
            "no_professionals": not professionals,
        },
        status=400 if request.method == "POST" else 200,
    )


def _render_detail(
    request: HttpRequest,
    ctx: OrgContext,
    referral: PsychosocialReferral,
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    manager = access.can_manage_referrals(ctx)
    psychologist = access.is_assigned_psychologist(ctx, referral)
    staff = manager or psychologist
    open_ = referral.status != ReferralStatus.CLOSED
    sessions = list(referral.sessions.all())
    tz = ctx.organisation.time_zone
    context: dict[str, Any] = {
        "ctx": ctx,
        "referral": referral,
        "professional": referral.professional,
        "manager": manager,
        "psychologist": psychologist,
        # The person referred sees how many sessions were held, not the session list.
        "sessions": sessions if staff else [],
        "sessions_held": sum(1 for s in sessions if s.attended),
        "may_read_reason": access.may_read_reason(ctx, referral),
        "may_close": access.may_close(ctx, referral),
        "time_zone": tz,
    }
    if access.may_record_sessions(ctx, referral):
        context["session_form"] = forms.get("session_form") or SessionForm(with_notes=psychologist)
    if staff and open_:
        context["next_form"] = forms.get("next_form") or NextSessionForm(time_zone=tz)
        context["healing_form"] = forms.get("healing_form") or HealingPracticesForm(
            initial={"community_healing_practices": referral.community_healing_practices}
        )
    if manager and open_:
        context["psychologist_form"] = forms.get("psychologist_form") or PsychologistForm(
            initial={"psychologist": str(referral.psychologist_id or "")},
            psychologists=_psychologist_choices(ctx),
        )
    return render(request, "programmes/referral_detail.html", context, status=status)


@org_view
def referral_detail(request: HttpRequest, ctx: OrgContext, referral_id: str) -> HttpResponse:
    referral = access.access_referral_by_id(ctx, referral_id)
    return _render_detail(request, ctx, referral)


@require_POST
@org_view
def referral_session(request: HttpRequest, ctx: OrgContext, referral_id: str) -> HttpResponse:
    referral = access.access_referral_for_sessions(ctx, referral_id)
    form = SessionForm(request.POST, with_notes=access.is_assigned_psychologist(ctx, referral))
    if form.is_valid():
        d = form.cleaned_data
        try:
            actions.record_session(
                request.user,
                referral,
                held_on=d["held_on"],
                duration_minutes=d["duration_minutes"],
                attended=d["attended"],
                clinical_notes=d.get("clinical_notes", ""),
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The session is recorded."))
            return redirect("referral-detail", ctx.organisation.slug, referral.pk)
    return _render_detail(request, ctx, referral, status=400, session_form=form)


def _staff_referral(ctx: OrgContext, referral_id: str) -> PsychosocialReferral:
    """A referral the coordinator or its assigned psychologist may change."""
    referral = access.access_referral_by_id(ctx, referral_id)
    people_access.require(
        ctx,
        access.can_manage_referrals(ctx) or access.is_assigned_psychologist(ctx, referral),
    )
    return referral


@require_POST
@org_view
def referral_next_session(request: HttpRequest, ctx: OrgContext, referral_id: str) -> HttpResponse:
    referral = _staff_referral(ctx, referral_id)
    form = NextSessionForm(request.POST, time_zone=ctx.organisation.time_zone)
    if form.is_valid():
        try:
            actions.schedule_next_session(request.user, referral, form.cleaned_data["next_session"])
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("referral-detail", ctx.organisation.slug, referral.pk)
    return _render_detail(request, ctx, referral, status=400, next_form=form)


@require_POST
@org_view
def referral_healing(request: HttpRequest, ctx: OrgContext, referral_id: str) -> HttpResponse:
    referral = _staff_referral(ctx, referral_id)
    form = HealingPracticesForm(request.POST)
    if form.is_valid():
        try:
            actions.record_healing_practices(
                request.user, referral, form.cleaned_data["community_healing_practices"]
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("referral-detail", ctx.organisation.slug, referral.pk)
    return _render_detail(request, ctx, referral, status=400, healing_form=form)


@require_POST
@org_view
def referral_psychologist(request: HttpRequest, ctx: OrgContext, referral_id: str) -> HttpResponse:
    referral = access.access_referral_to_manage(ctx, referral_id)
    form = PsychologistForm(request.POST, psychologists=_psychologist_choices(ctx))
    if form.is_valid():
        try:
            actions.assign_psychologist(
                request.user, referral, _psychologist(ctx, form.cleaned_data["psychologist"])
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("referral-detail", ctx.organisation.slug, referral.pk)
    return _render_detail(request, ctx, referral, status=400, psychologist_form=form)


@require_POST
@org_view
def referral_close(request: HttpRequest, ctx: OrgContext, referral_id: str) -> HttpResponse:
    referral = access.access_referral_to_close(ctx, referral_id)
    actions.close_referral(request.user, referral)
    messages.success(request, _("The referral is closed."))
    return redirect("referral-detail", ctx.organisation.slug, referral.pk)


@org_view
def referral_notes(request: HttpRequest, ctx: OrgContext, referral_id: str) -> HttpResponse:
    """The clinical notes, for the assigned psychologist; each opening is audited."""
    referral = access.access_clinical_notes(ctx, referral_id)
    sessions = actions.read_clinical_notes(request.user, referral)
    response = render(
        request,
        "programmes/referral_notes.html",
        {"ctx": ctx, "referral": referral, "sessions": sessions},
    )
    response["Cache-Control"] = "no-store"
    return response
