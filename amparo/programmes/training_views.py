"""Training pages (issue 8, point 4): the workshops, a new workshop, a workshop's page
with its participants (counted, not named), their scores, and the SMS follow-up form.
Coordinators and administrators only. Thin: reads through programmes.access, writes
through programmes.trainings."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.views import _form_errors_from, org_view
from amparo.programmes import access, trainings
from amparo.programmes.forms import FollowUpForm, ParticipantForm, ScoresForm, WorkshopForm
from amparo.programmes.models import Workshop


@org_view
def workshop_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people_access.require(ctx, access.can_manage_programmes(ctx))
    workshops = access.workshops_visible_to(ctx).annotate(people=Count("participants"))
    return render(request, "programmes/workshop_list.html", {"ctx": ctx, "workshops": workshops})


@org_view
def workshop_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    people_access.require(ctx, access.can_manage_programmes(ctx))
    form = WorkshopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workshop = trainings.record_workshop(
                request.user, ctx.organisation, **form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The workshop is recorded. Add its participants."))
            return redirect("workshop-detail", ctx.organisation.slug, workshop.pk)
    return render(
        request,
        "programmes/workshop_new.html",
        {"ctx": ctx, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _render_detail(
    request: HttpRequest, ctx: OrgContext, workshop: Workshop, status: int = 200, **forms: Any
) -> HttpResponse:
    participants = list(workshop.participants.all())
    context = {
        "ctx": ctx,
        "workshop": workshop,
        "participants": [
            (
                p,
                ScoresForm(
                    initial={"pre_score": p.pre_score, "post_score": p.post_score}, prefix=str(p.pk)
                ),
            )
            for p in participants
        ],
        "follow_ups": list(workshop.follow_ups.all()),
        "reachable": sum(1 for p in participants if p.follow_up_consent),
        "participant_form": forms.get("participant_form") or ParticipantForm(),
        "follow_up_form": forms.get("follow_up_form")
        or FollowUpForm(initial={"request_key": uuid.uuid4()}),
        "scores_errors": forms.get("scores_form"),
    }
    return render(request, "programmes/workshop_detail.html", context, status=status)


@org_view
def workshop_detail(request: HttpRequest, ctx: OrgContext, workshop_id: str) -> HttpResponse:
    return _render_detail(request, ctx, access.access_workshop_by_id(ctx, workshop_id))


@require_POST
@org_view
def participant_new(request: HttpRequest, ctx: OrgContext, workshop_id: str) -> HttpResponse:
    workshop = access.access_workshop_by_id(ctx, workshop_id)
    form = ParticipantForm(request.POST)
    if form.is_valid():
        try:
            trainings.add_participant(request.user, workshop, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The participant is added."))
            return redirect("workshop-detail", ctx.organisation.slug, workshop.pk)
    return _render_detail(request, ctx, workshop, status=400, participant_form=form)


@require_POST
@org_view
def participant_scores(
    request: HttpRequest, ctx: OrgContext, workshop_id: str, participant_id: str
) -> HttpResponse:
    workshop = access.access_workshop_by_id(ctx, workshop_id)
    participant = access.access_participant_by_id(ctx, workshop, participant_id)
    form = ScoresForm(request.POST, prefix=str(participant.pk))
    if form.is_valid():
        try:
            trainings.record_scores(request.user, participant, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("workshop-detail", ctx.organisation.slug, workshop.pk)
    return _render_detail(request, ctx, workshop, status=400, scores_form=form)


@require_POST
@org_view
def follow_up_new(request: HttpRequest, ctx: OrgContext, workshop_id: str) -> HttpResponse:
    workshop = access.access_workshop_by_id(ctx, workshop_id)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            trainings.send_follow_up(
                request.user,
                workshop,
                message=form.cleaned_data["message"],
                request_key=form.cleaned_data["request_key"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The follow-up is queued."))
            return redirect("workshop-detail", ctx.organisation.slug, workshop.pk)
    return _render_detail(request, ctx, workshop, status=400, follow_up_form=form)
