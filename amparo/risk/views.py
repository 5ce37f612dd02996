"""Risk pages (issue 7, point 1): the subjects with overdue ones first, the overdue
list, a new subject, a subject's history and trend, a new assessment, an assessment with
its score breakdown, matrix, flag and mitigation plan. Thin: reads through risk.access,
writes through risk.actions. Plain form posts, so the pages work without JavaScript."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amparo.incidents.models import ThreatReport
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.models import Person
from amparo.people.views import _form_errors_from, org_view
from amparo.risk import access, actions, method, trend
from amparo.risk.forms import (
    ActionForm,
    ActionFormSet,
    AssessmentForm,
    CapacityFormSet,
    ReassessForm,
    SubjectForm,
    ThreatFormSet,
    VulnerabilityFormSet,
)
from amparo.risk.models import (
    LEVEL_OF,
    Endangers,
    RiskSubject,
)

MAX_INCIDENT_CHOICES = 200


def _people_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    people = people_access.people_visible_to(ctx)
    return sorted(((str(p.pk), p.display_name) for p in people), key=lambda c: c[1].lower())


def _incident_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    reports = ThreatReport.objects.filter(organisation=ctx.organisation).order_by("-created_at")
    return [
        (str(r.pk), f"{r.receipt} · {r.created_at:%Y-%m-%d} · {r.get_level_display()}")
        for r in reports[:MAX_INCIDENT_CHOICES]
    ]


def _rows(subjects: QuerySet[RiskSubject]) -> list[dict[str, Any]]:
    today = actions.today()
    return [
        {"subject": s, "overdue": s.next_due_on < today, "due_today": s.next_due_on == today}
        for s in access.with_latest(subjects).select_related("person", "organisation")
    ]


@org_view
def risk_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    """Every subject one may see; overdue re-assessments first (the list is ordered by
    due date, so the most overdue leads)."""
    rows = _rows(access.subjects_visible_to(ctx).order_by("next_due_on", "created_at"))
    return render(
        request,
        "risk/list.html",
        {"ctx": ctx, "rows": rows, "manager": access.can_manage_risk(ctx)},
    )


@org_view
def overdue_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_manager(ctx)
    subjects = access.subjects_visible_to(ctx).filter(next_due_on__lt=actions.today())
    rows = _rows(subjects.order_by("next_due_on", "created_at"))
    return render(request, "risk/overdue.html", {"ctx": ctx, "rows": rows})


@org_view
def subject_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_manager(ctx)
    form = SubjectForm(request.POST or None, people=_people_choices(ctx))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        person = None
        if d["person"]:
            person = people_access.people_visible_to(ctx).filter(pk=d["person"]).first()
        try:
            subject = actions.create_subject(
                request.user,
                ctx.organisation,
                kind=d["kind"],
                person=person,
                community_name=d["community_name"],
                region=d["region"],
                reassess_every=d["reassess_every"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("risk-subject", ctx.organisation.slug, subject.pk)
    return render(request, "risk/subject_new.html", {"ctx": ctx, "form": form})


@org_view
def subject_detail(request: HttpRequest, ctx: OrgContext, subject_id: str) -> HttpResponse:
    """The subject's history, newest first, and its trend (an SVG drawn here)."""
    subject = access.access_subject_by_id(ctx, subject_id)
    history = list(subject.assessments.order_by("-assessed_on", "-created_at"))
    return render(
        request,
        "risk/subject.html",
        {
            "ctx": ctx,
            "subject": subject,
            "history": history,
            "sparkline": trend.sparkline(list(reversed(history))),
            "overdue": subject.next_due_on < actions.today(),
            "manager": access.can_manage_risk(ctx),
            "schedule_form": ReassessForm(initial={"reassess_every": subject.reassess_every}),
        },
    )


@require_POST
@org_view
def subject_schedule(request: HttpRequest, ctx: OrgContext, subject_id: str) -> HttpResponse:
    subject = access.access_subject_to_manage(ctx, subject_id)
    form = ReassessForm(request.POST)
    if form.is_valid():
        actions.set_reassessment(request.user, subject, form.cleaned_data["reassess_every"])
        messages.success(request, _("The re-assessment schedule was saved."))
    else:
        messages.error(request, _("Choose every quarter or every six months."))
    return redirect("risk-subject", ctx.organisation.slug, subject.pk)


def _formsets(request: HttpRequest, ctx: OrgContext) -> dict[str, Any]:
    data = request.POST if request.method == "POST" else None
    people = _people_choices(ctx)
    return {
        "threats": ThreatFormSet(
            data, prefix="threats", form_kwargs={"incidents": _incident_choices(ctx)}
        ),
        "vulnerabilities": VulnerabilityFormSet(data, prefix="vulnerabilities"),
        "capacities": CapacityFormSet(data, prefix="capacities"),
        "actions": ActionFormSet(data, prefix="actions", form_kwargs={"people": people}),
    }


def _used(formset: Any) -> list[dict[str, Any]]:
    return [f.cleaned_data for f in formset.forms if f.has_changed() and f.cleaned_data]


@org_view
def assessment_new(request: HttpRequest, ctx: OrgContext, subject_id: str) -> HttpResponse:
    subject = access.access_subject_to_manage(ctx, subject_id)
    form = AssessmentForm(request.POST or None, initial={"assessed_on": actions.today()})
    sets = _formsets(request, ctx)
    if request.method == "POST" and form.is_valid() and all(s.is_valid() for s in sets.values()):
        incidents = {
            str(r.pk): r for r in ThreatReport.objects.filter(organisation=ctx.organisation)
        }
        people = {str(p.pk): p for p in people_access.people_visible_to(ctx)}
        d = form.cleaned_data
        try:
            assessment = actions.record_assessment(
                request.user,
                subject,
                assessed_on=d["assessed_on"],
                likelihood=d["likelihood"],
                impact=d["impact"],
                scenarios=d["scenarios"],
                threats=[
                    actions.ThreatInput(
                        actor_type=t["actor_type"],
                        description=t["description"],
                        rating=t["rating"],
                        recurring=t["recurring"],
                        endangers=list(t["endangers"]),
                        incident=incidents.get(t["incident"]),
                    )
                    for t in _used(sets["threats"])
                ],
                vulnerabilities=[
                    actions.FactorInput(v["description"], v["rating"])
                    for v in _used(sets["vulnerabilities"])
                ],
                capacities=[
                    actions.FactorInput(c["description"], c["rating"])
                    for c in _used(sets["capacities"])
                ],
                mitigation=[
                    actions.ActionInput(a["description"], people[a["owner"]], a["due_on"])
                    for a in _used(sets["actions"])
                    if a["owner"] in people
                ],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("risk-assessment", ctx.organisation.slug, assessment.pk)
    return render(
        request,
        "risk/assessment_new.html",
        {"ctx": ctx, "subject": subject, "form": form, **sets},
    )


@org_view
def assessment_detail(request: HttpRequest, ctx: OrgContext, assessment_id: str) -> HttpResponse:
    assessment = access.access_assessment_by_id(ctx, assessment_id)
    manager = access.can_manage_risk(ctx)
    endangers = dict(Endangers.choices)
    threats = [
        {"threat": t, "endangers": [endangers.get(e, e) for e in t.endangers]}
        for t in assessment.threats.select_related("incident")
    ]
    return render(
        request,
        "risk/assessment.html",
        {
            "ctx": ctx,
            "assessment": assessment,
            "subject": assessment.subject,
            "threats": threats,
            "vulnerabilities": list(assessment.vulnerabilities.all()),
            "capacities": list(assessment.capacities.all()),
            "mitigation": list(assessment.mitigation_actions.select_related("owner")),
            "matrix": trend.matrix_cells(assessment.likelihood, assessment.impact),
            "thresholds": _thresholds(),
            "imminence": [_reason_label(r) for r in assessment.imminence_reasons],
            "floors": [_floor_label(f) for f in assessment.level_floors],
            "manager": manager,
            "action_form": ActionForm(prefix="new", people=_people_choices(ctx))
            if manager
            else None,
            "today": actions.today(),
        },
    )


def _thresholds() -> dict[str, Any]:
    return {
        "formula": [
            (LEVEL_OF[level].label, f"{float(value):.2f}")
            for level, value in method.FORMULA_THRESHOLDS.items()
        ],
        "matrix": [
            (LEVEL_OF[level].label, value) for level, value in method.MATRIX_THRESHOLDS.items()
        ],
    }


def _reason_label(code: str) -> str:
    labels = {
        "recurring": _("a threat has happened more than once or is ongoing"),
        "likely": _("an attack is likely or almost certain"),
        **{value: str(label) for value, label in Endangers.choices},
    }
    return labels.get(code, code)


def _floor_label(code: str) -> str:
    labels = {
        "step1_high_threat": _(
            "A threat is rated 5 (physical violence, attempted assault or credible signs "
            "of imminent harm): the reference's Step 1 calls that high risk."
        ),
        "serious_and_imminent": _("A serious and imminent risk is at least high."),
    }
    return labels.get(code, code)


@require_POST
@org_view
def action_add(request: HttpRequest, ctx: OrgContext, assessment_id: str) -> HttpResponse:
    assessment = access.access_assessment_to_manage(ctx, assessment_id)
    form = ActionForm(request.POST, prefix="new", people=_people_choices(ctx))
    owner: Person | None = None
    if form.is_valid() and form.cleaned_data["owner"]:
        owner = people_access.people_visible_to(ctx).filter(pk=form.cleaned_data["owner"]).first()
    if owner is None:
        messages.error(request, _("Describe the action and choose its owner."))
    else:
        try:
            actions.add_mitigation_action(
                request.user,
                assessment,
                actions.ActionInput(
                    form.cleaned_data["description"], owner, form.cleaned_data["due_on"]
                ),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The action was added to the plan."))
    return redirect("risk-assessment", ctx.organisation.slug, assessment.pk)


@require_POST
@org_view
def action_done(request: HttpRequest, ctx: OrgContext, action_id: str) -> HttpResponse:
    action = access.access_action_to_manage(ctx, action_id)
    actions.complete_mitigation_action(request.user, action)
    return redirect("risk-assessment", ctx.organisation.slug, action.assessment_id)
