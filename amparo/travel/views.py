"""Deployment pages (issue 5, point 8; DESIGN.md section 5, "Deployment"): the managers'
board, the traveller's "what is left before I can go" list with each record's form, the
signatories' approval queue, and the travel settings. Thin: reads go through
travel.access, writes through travel.actions and travel.settings_actions. Plain form
posts, each record to its own URL, so the pages work without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, Subquery, UUIDField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from amparo.alerts.models import AlertState
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.models import Membership, Person, User
from amparo.people.views import _form_errors_from, org_view
from amparo.travel import access, actions, settings_actions
from amparo.travel.forms import (
    ChainOfCommandForm,
    CodeOfConductForm,
    DeclarationForm,
    DeploymentForm,
    ExceptionForm,
    HealthForm,
    InsuranceForm,
    NecessityForm,
    NextOfKinForm,
    RegistrationsForm,
    StatusForm,
    TrainingForm,
    TravelSettingsForm,
)
from amparo.travel.models import (
    Deployment,
    DeploymentStatus,
    ExpectedCheckIn,
    ExpectedState,
    Insurance,
    NextOfKinDeclaration,
    Preparation,
    TravelDeclaration,
)

# The status buttons, in the order a trip goes through them.
STATUS_BUTTONS = (
    (DeploymentStatus.AWAITING_APPROVAL, gettext_lazy("Submit for approval")),
    (DeploymentStatus.READY, gettext_lazy("Mark ready")),
    (DeploymentStatus.ACTIVE, gettext_lazy("Activate")),
    (DeploymentStatus.RETURNED, gettext_lazy("Returned")),
    (DeploymentStatus.CANCELLED, gettext_lazy("Cancel")),
)
# The approval queue: deployments awaiting approval or whose declaration is unsigned.
QUEUE_STATUSES = (DeploymentStatus.DRAFT, DeploymentStatus.AWAITING_APPROVAL)


def _people_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    people = Person.objects.filter(organisation=ctx.organisation, archived_at__isnull=True)
    return sorted(((str(p.pk), p.display_name) for p in people), key=lambda c: c[1].lower())


def _person(ctx: OrgContext, person_id: str) -> Person | None:
    if not person_id:
        return None
    return people_access.people_visible_to(ctx).filter(pk=person_id).first()


def _gate_summary(deployment: Deployment) -> list[Any]:
    return actions.blocking(deployment)


# The board, the queue, a new deployment


# Gates are computed (about ten reads per deployment) only for trips still being
# prepared or about to leave; a trip under way shows its check-ins instead.
GATED_STATUSES = (
    DeploymentStatus.DRAFT,
    DeploymentStatus.AWAITING_APPROVAL,
    DeploymentStatus.READY,
)
CURRENT_STATUSES = (*GATED_STATUSES, DeploymentStatus.ACTIVE)


@org_view
def deployment_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    """The coordinator's board (issue 5, point 8): each trip with its gate status and,
    once under way, the next expected check-in and any missed one still open. Returned
    and cancelled trips only with ``?all=1``."""
    show_all = request.GET.get("all") == "1"
    pending = ExpectedCheckIn.objects.filter(
        deployment=OuterRef("pk"), state=ExpectedState.PENDING
    ).order_by("due_at")
    missed = ExpectedCheckIn.objects.filter(
        deployment=OuterRef("pk"), state=ExpectedState.MISSED, alert__isnull=False
    ).exclude(alert__state=AlertState.RESOLVED)
    deployments = (
        access.deployments_visible_to(ctx)
        .select_related("traveller")
        .prefetch_related("destinations")
        .annotate(
            next_due=Subquery(pending.values("due_at")[:1]),
            next_deadline=Subquery(pending.values("deadline")[:1]),
            missed_count=Count(
                "expected_checkins",
                filter=Q(
                    expected_checkins__state=ExpectedState.MISSED,
                    expected_checkins__alert__isnull=False,
                )
                & ~Q(expected_checkins__alert__state=AlertState.RESOLVED),
            ),
            missed_alert=Subquery(
                missed.order_by("-deadline").values("alert_id")[:1], output_field=UUIDField()
            ),
        )
        .order_by("-starts_on")
    )
    if not show_all:
        deployments = deployments.filter(status__in=CURRENT_STATUSES)
    rows = [
        {
            "deployment": d,
            "gated": d.status in GATED_STATUSES,
            "blocking": _gate_summary(d) if d.status in GATED_STATUSES else [],
        }
        for d in deployments
    ]
    return render(
        request,
        "travel/deployment_list.html",
        {
            "ctx": ctx,
            "rows": rows,
            "show_all": show_all,
            "manager": access.can_manage_deployments(ctx),
            "signatory": access.is_signatory(ctx),
        },
    )


@org_view
def approval_queue(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_manager_or_signatory(ctx)
    deployments = (
        access.deployments_visible_to(ctx)
        .filter(status__in=QUEUE_STATUSES)
        .select_related("traveller")
        .prefetch_related("destinations")
        .order_by("starts_on")
    )
    rows = []
    for d in deployments:
        declaration = TravelDeclaration.objects.filter(deployment=d).first()
        signed = declaration is not None and declaration.signed_at is not None
        if d.status == DeploymentStatus.AWAITING_APPROVAL or not signed:
            rows.append({"deployment": d, "signed": signed, "blocking": _gate_summary(d)})
    return render(request, "travel/approval_queue.html", {"ctx": ctx, "rows": rows})


@org_view
def deployment_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_manager(ctx)
    people = _people_choices(ctx)
    form = DeploymentForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        traveller = _person(ctx, d["traveller"])
        if traveller is None:
            form.add_error("traveller", _("Choose a person of this organisation."))
        else:
            try:
                deployment = actions.create_deployment(
                    request.user,
                    ctx.organisation,
                    traveller=traveller,
                    trip_type=d["trip_type"],
                    starts_on=d["starts_on"],
                    returns_on=d["returns_on"],
                    purpose=d["purpose"],
                    lead=_person(ctx, d["lead"]),
                    traveller_danish=d["traveller_danish"],
                    destinations=form.destinations(),
                )
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                return redirect("deployment-detail", ctx.organisation.slug, deployment.pk)
    return render(request, "travel/deployment_new.html", {"ctx": ctx, "form": form})


# The deployment page and its record forms


def _record_forms(deployment: Deployment) -> dict[str, forms.Form]:
    declaration = TravelDeclaration.objects.filter(deployment=deployment).first()
    kin = NextOfKinDeclaration.objects.filter(deployment=deployment).first()
    policy = Insurance.objects.filter(deployment=deployment).first()
    prep = Preparation.objects.filter(deployment=deployment).first()

    def initial(row: Any, fields: list[str]) -> dict[str, Any]:
        return {f: getattr(row, f) for f in fields} if row is not None else {}

    insurance = initial(
        policy,
        [f for f in InsuranceForm.base_fields if f != "countries"],
    )
    if policy is not None:
        insurance["countries"] = ", ".join(policy.countries or [])
    health = initial(prep, ["health_check_on", "first_aid_on"])
    if prep is not None:
        health["vaccinations_required"] = ", ".join(prep.vaccinations_required or [])
        health["vaccinations_done"] = ", ".join(prep.vaccinations_done or [])
    necessity = initial(prep, ["necessity_reason"])
    if prep is not None and prep.strictly_necessary is not None:
        necessity["strictly_necessary"] = "yes" if prep.strictly_necessary else "no"
    return {
        "declaration": DeclarationForm(
            initial=initial(declaration, list(DeclarationForm.base_fields))
        ),
        "next-of-kin": NextOfKinForm(
            initial=NextOfKinForm.initial_from(list(kin.relatives or []) if kin else [])
        ),
        "insurance": InsuranceForm(initial=insurance),
        "health": HealthForm(initial=health),
        "training": TrainingForm(initial=initial(prep, list(TrainingForm.base_fields))),
        "chain-of-command": ChainOfCommandForm(
            initial=ChainOfCommandForm.initial_from(
                list(prep.chain_of_command or []) if prep else []
            )
        ),
        "necessity": NecessityForm(initial=necessity),
        "registrations": RegistrationsForm(
            initial=initial(prep, list(RegistrationsForm.base_fields))
        ),
    }


RECORD_TITLES = {
    "declaration": gettext_lazy("Travel declaration"),
    "next-of-kin": gettext_lazy("Next of kin"),
    "insurance": gettext_lazy("Insurance"),
    "health": gettext_lazy("Health"),
    "training": gettext_lazy("Training and briefings"),
    "chain-of-command": gettext_lazy("Chain of command"),
    "necessity": gettext_lazy("Necessity assessment"),
    "registrations": gettext_lazy("Registrations and emergency contacts"),
}


def _render_detail(
    request: HttpRequest,
    ctx: OrgContext,
    deployment: Deployment,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    report = actions.gate_report(deployment)
    failing = [gate for gate, exception in report if not gate.passed and exception is None]
    record_forms = _record_forms(deployment)
    record_forms.update({k: v for k, v in (bound or {}).items() if k in record_forms})
    manager = access.can_manage_deployments(ctx)
    roles = access.signatory_roles(ctx)
    traveller = (
        deployment.traveller.user_id is not None and deployment.traveller.user_id == ctx.user.pk
    )
    declaration = TravelDeclaration.objects.filter(deployment=deployment).first()
    code = actions.current_code(deployment.organisation)
    accepted = deployment.code_acceptances.filter(code=code).exists() if code else False
    wanted = actions.settings_of(deployment.organisation).signatories().get(deployment.trip_type)
    return render(
        request,
        "travel/deployment_detail.html",
        {
            "ctx": ctx,
            "deployment": deployment,
            "destinations": deployment.destinations.all(),
            "report": report,
            "failing": failing,
            "records": [
                {
                    "name": name,
                    "title": RECORD_TITLES[name],
                    "form": form,
                    "url": reverse(
                        f"deployment-{name}", args=[ctx.organisation.slug, deployment.pk]
                    ),
                }
                for name, form in record_forms.items()
            ],
            "can_fill": manager or traveller,
            "manager": manager,
            "traveller": traveller,
            "signatory": bool(roles),
            "may_sign": wanted in roles,
            "declaration": declaration,
            "code": code,
            "code_accepted": accepted,
            "status_buttons": STATUS_BUTTONS if manager else (),
            "status_form": (bound or {}).get("status"),
            "sign_errors": (bound or {}).get("sign"),
            "accept_errors": (bound or {}).get("accept"),
            "exception_form": (bound or {}).get("exception") or ExceptionForm(failing=failing),
        },
        status=status,
    )


@org_view
def deployment_detail(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    deployment = access.access_deployment_by_id(ctx, deployment_id)
    return _render_detail(request, ctx, deployment)


def _save_declaration(user: Any, d: Deployment, form: Any) -> None:
    actions.save_declaration(user, d, **form.values())


def _save_kin(user: Any, d: Deployment, form: Any) -> None:
    actions.save_next_of_kin(user, d, form.relatives())


def _save_insurance(user: Any, d: Deployment, form: Any) -> None:
    actions.save_insurance(user, d, **form.values())


def _save_preparation(user: Any, d: Deployment, form: Any) -> None:
    actions.save_preparation(user, d, **form.values())


RECORDS: dict[str, tuple[type[forms.Form], Callable[[Any, Deployment, Any], None]]] = {
    "declaration": (DeclarationForm, _save_declaration),
    "next-of-kin": (NextOfKinForm, _save_kin),
    "insurance": (InsuranceForm, _save_insurance),
    "health": (HealthForm, _save_preparation),
    "training": (TrainingForm, _save_preparation),
    "chain-of-command": (ChainOfCommandForm, _save_preparation),
    "necessity": (NecessityForm, _save_preparation),
    "registrations": (RegistrationsForm, _save_preparation),
}


@org_view
@require_POST
def save_record(
    request: HttpRequest, ctx: OrgContext, deployment_id: str, record: str
) -> HttpResponse:
    deployment = access.access_deployment_to_fill(ctx, deployment_id)
    form_class, save = RECORDS[record]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            save(request.user, deployment, form)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("deployment-detail", ctx.organisation.slug, deployment.pk)
    return _render_detail(request, ctx, deployment, {record: form}, status=400)


@org_view
@require_POST
def change_status(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    deployment = access.access_deployment_to_manage(ctx, deployment_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            actions.set_status(request.user, deployment, form.cleaned_data["status"])
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The status changed."))
            return redirect("deployment-detail", ctx.organisation.slug, deployment.pk)
    return _render_detail(request, ctx, deployment, {"status": form}, status=400)


@org_view
@require_POST
def sign_declaration(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    deployment = access.access_deployment_to_sign(ctx, deployment_id)
    try:
        actions.sign_declaration(request.user, deployment)  # type: ignore[arg-type]
    except ValidationError as exc:
        return _render_detail(request, ctx, deployment, {"sign": exc.messages}, status=400)  # type: ignore[dict-item]
    messages.success(request, _("The travel declaration is signed."))
    return redirect("deployment-detail", ctx.organisation.slug, deployment.pk)


@org_view
@require_POST
def grant_exception(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    deployment = access.access_deployment_to_sign(ctx, deployment_id)
    form = ExceptionForm(request.POST)
    if form.is_valid():
        try:
            actions.grant_exception(
                request.user,  # type: ignore[arg-type]
                deployment,
                form.cleaned_data["gate"],
                form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("The gate is let through."))
            return redirect("deployment-detail", ctx.organisation.slug, deployment.pk)
    return _render_detail(request, ctx, deployment, {"exception": form}, status=400)


@org_view
@require_POST
def accept_code(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    deployment = access.access_deployment_by_id(ctx, deployment_id)
    try:
        actions.accept_code(request.user, deployment)  # type: ignore[arg-type]
    except ValidationError as exc:
        return _render_detail(request, ctx, deployment, {"accept": exc.messages}, status=400)  # type: ignore[dict-item]
    messages.success(request, _("You accepted the code of conduct."))
    return redirect("deployment-detail", ctx.organisation.slug, deployment.pk)


# Settings


def _member_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    users = User.objects.filter(
        pk__in=Membership.objects.filter(organisation=ctx.organisation).values("user")
    ).order_by("email")
    return [(str(u.pk), u.email) for u in users]


@org_view
def travel_settings(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_manager(ctx)
    settings = actions.settings_of(ctx.organisation)
    members = _member_choices(ctx)
    code = actions.current_code(ctx.organisation)
    initial = {
        "executive_director": str(settings.executive_director_id or ""),
        "head_of_finance": str(settings.head_of_finance_id or ""),
        "other_trips_signed_by": settings.other_trips_signed_by,
    }
    signatories_form = TravelSettingsForm(initial=initial, members=members)
    code_form = CodeOfConductForm(initial={"text": code.text if code else ""})
    if request.method == "POST" and request.POST.get("form") == "signatories":
        signatories_form = TravelSettingsForm(request.POST, members=members)
        if signatories_form.is_valid():
            d = signatories_form.cleaned_data
            try:
                settings_actions.set_signatories(
                    request.user,
                    ctx.organisation,
                    executive_director=User.objects.filter(pk=d["executive_director"]).first()
                    if d["executive_director"]
                    else None,
                    head_of_finance=User.objects.filter(pk=d["head_of_finance"]).first()
                    if d["head_of_finance"]
                    else None,
                    other_trips_signed_by=d["other_trips_signed_by"],
                )
            except ValidationError as exc:
                _form_errors_from(signatories_form, exc)
            else:
                messages.success(request, _("The signatories are saved."))
                return redirect("travel-settings", ctx.organisation.slug)
    elif request.method == "POST" and request.POST.get("form") == "code":
        code_form = CodeOfConductForm(request.POST)
        if code_form.is_valid():
            try:
                settings_actions.write_code_of_conduct(
                    request.user, ctx.organisation, code_form.cleaned_data["text"]
                )
            except ValidationError as exc:
                _form_errors_from(code_form, exc)
            else:
                messages.success(request, _("A new version of the code of conduct is saved."))
                return redirect("travel-settings", ctx.organisation.slug)
    return render(
        request,
        "travel/settings.html",
        {
            "ctx": ctx,
            "signatories_form": signatories_form,
            "code_form": code_form,
            "code": code,
        },
    )
