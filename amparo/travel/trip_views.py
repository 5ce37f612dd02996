"""The traveller's pages around the trip itself (issue 5, points 4 to 6; DESIGN.md section
5, "Check-in"): the itinerary and the check-ins it makes the organisation wait for, the
traveller's PINs, the web check-in, the lost-communications plan, proof of life, and the
annexes in the evidence vault (the travel programme, external security assessments).

Thin, as travel.views: the deployment is read through travel.access, one condition per
line, and anything forbidden is the same 404 as anything missing; writes go through
travel.checkins and travel.documents. Plain form posts, so every page works on a phone
with JavaScript off.

Who does what:
- the itinerary, the lost-communications plan and the annexes: read by whoever can read
  the deployment, written by a manager or the traveller (``access_deployment_to_fill``);
- the PINs and the check-in: the traveller themself only;
- proof of life: set by the traveller only; the answers are read only by a crisis role,
  with a written reason, once, in the answer to that post (``checkins.read_proof_of_life``
  audits it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from amparo.core.access import not_found
from amparo.incidents import vault
from amparo.people.access import OrgContext, _uuid
from amparo.people.views import _form_errors_from, org_view
from amparo.travel import access, checkins, documents
from amparo.travel.forms import (
    CheckInForm,
    LegForm,
    LostCommsPlanForm,
    PinsForm,
    ProofOfLifeForm,
    ProofOfLifeReadForm,
    TravelDocumentForm,
)
from amparo.travel.models import (
    CheckIn,
    Deployment,
    DeploymentStatus,
    ExpectedCheckIn,
    ExpectedState,
    Leg,
    LostCommsPlan,
    ProofOfLife,
    TravelDocument,
    TravellerPins,
)

UPCOMING = 20  # expected check-ins listed on the itinerary page
RECENT = 5  # check-ins listed on the check-in page
# The one answer to every accepted check-in, duress or not (DESIGN.md section 7: a duress
# check-in "opens a harmless view"; nothing on the screen may tell the two apart).
CHECKED_IN = "checked-in"
# The form fields the leg's action names differently.
LEG_ERROR_FIELDS = {"starts_at": "starts_local", "ends_at": "ends_local"}


def _is_traveller(ctx: OrgContext, deployment: Deployment) -> bool:
    return deployment.traveller.user_id is not None and deployment.traveller.user_id == ctx.user.pk


def _access_as_traveller(ctx: OrgContext, deployment_id: Any) -> Deployment:
    """The traveller themself, no one else: not a manager, not a signatory."""
    deployment = access.access_deployment_by_id(ctx, deployment_id)
    if not _is_traveller(ctx, deployment):
        not_found()
    return deployment


def _can_fill(ctx: OrgContext, deployment: Deployment) -> bool:
    return access.can_manage_deployments(ctx) or _is_traveller(ctx, deployment)


def _leg_of(deployment: Deployment, leg_id: Any) -> Leg:
    """A leg of this (already accessed) deployment; a leg of any other is missing."""
    leg = Leg.objects.filter(pk=_uuid(leg_id)).first()
    if leg is None:
        not_found()
    if leg.deployment_id != deployment.pk:
        not_found()
    return leg


def _document_of(deployment: Deployment, document_id: Any) -> TravelDocument:
    document = TravelDocument.objects.filter(pk=_uuid(document_id)).first()
    if document is None:
        not_found()
    if document.deployment_id != deployment.pk:
        not_found()
    return document


# Local time at the edges (CONVENTIONS.md point 4): naive wall-clock values, so the
# template's date filter does not turn them back into the server's zone.


def _wall_clock(moment: datetime, zone_name: str) -> datetime:
    return timezone.localtime(moment, ZoneInfo(zone_name)).replace(tzinfo=None)


def _zone_at(legs: list[Leg], moment: datetime) -> str:
    for leg in legs:
        if leg.starts_at <= moment < leg.ends_at:
            return leg.time_zone
    return "UTC"


def _leg_rows(legs: list[Leg]) -> list[dict[str, Any]]:
    return [
        {
            "leg": leg,
            "starts_local": _wall_clock(leg.starts_at, leg.time_zone),
            "ends_local": _wall_clock(leg.ends_at, leg.time_zone),
        }
        for leg in legs
    ]


def _expected_rows(expected: list[ExpectedCheckIn], legs: list[Leg]) -> list[dict[str, Any]]:
    zones = {leg.pk: leg.time_zone for leg in legs}
    rows = []
    for e in expected:
        zone = (zones.get(e.leg_id) if e.leg_id else None) or _zone_at(legs, e.due_at)
        rows.append(
            {
                "expected": e,
                "zone": zone,
                "due_local": _wall_clock(e.due_at, zone),
                "deadline_local": _wall_clock(e.deadline, zone),
            }
        )
    return rows


def _checkin_rows(recent: list[CheckIn], legs: list[Leg]) -> list[dict[str, Any]]:
    rows = []
    for checkin in recent:
        zone = _zone_at(legs, checkin.at)
        rows.append({"checkin": checkin, "zone": zone, "at_local": _wall_clock(checkin.at, zone)})
    return rows


def _upcoming(deployment: Deployment, now: datetime) -> list[ExpectedCheckIn]:
    return list(
        ExpectedCheckIn.objects.filter(deployment=deployment, deadline__gte=now)
        .exclude(state=ExpectedState.CANCELLED)
        .order_by("due_at")[:UPCOMING]
    )


def _leg_errors(form: LegForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        exc = ValidationError(
            {LEG_ERROR_FIELDS.get(field, field): errors for field, errors in exc.error_dict.items()}
        )
    _form_errors_from(form, exc)


# The itinerary (reference, "Preparation of Danish personnel", "Travel programme
# tracking": the organisation knows where the traveller is throughout; the actions tell
# the designated lead of every change).


def _lead_told(deployment: Deployment) -> str:
    """The actions message the designated lead of every change (when they have an
    address); say so, or say there is no one to tell."""
    if deployment.lead_id is None:
        return _("This trip has no designated lead to tell.")
    return _("The designated lead is told.")


def _render_legs(
    request: HttpRequest,
    ctx: OrgContext,
    deployment: Deployment,
    form: LegForm | None = None,
    status: int = 200,
) -> HttpResponse:
    legs = list(Leg.objects.filter(deployment=deployment))
    can_fill = _can_fill(ctx, deployment)
    if form is None and can_fill:
        last = legs[-1] if legs else None
        first = deployment.destinations.first()
        form = LegForm(
            initial={
                "country": last.country if last else (first.country if first else ""),
                "region": last.region if last else (first.region if first else ""),
                "time_zone": last.time_zone if last else "",
            }
        )
    return render(
        request,
        "travel/legs.html",
        {
            "ctx": ctx,
            "deployment": deployment,
            "legs": _leg_rows(legs),
            "expected": _expected_rows(_upcoming(deployment, timezone.now()), legs),
            "active": deployment.status == DeploymentStatus.ACTIVE,
            "can_fill": can_fill,
            "form": form,
        },
        status=status,
    )


@org_view
def deployment_legs(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    if request.method != "POST":
        return _render_legs(request, ctx, access.access_deployment_by_id(ctx, deployment_id))
    deployment = access.access_deployment_to_fill(ctx, deployment_id)
    form = LegForm(request.POST)
    if form.is_valid():
        try:
            checkins.add_leg(request.user, deployment, **form.values())
        except ValidationError as exc:
            _leg_errors(form, exc)
        else:
            messages.success(request, f"{_('The leg is added.')} {_lead_told(deployment)}")
            return redirect("deployment-legs", ctx.organisation.slug, deployment.pk)
    return _render_legs(request, ctx, deployment, form, status=400)


@org_view
def leg_change(
    request: HttpRequest, ctx: OrgContext, deployment_id: str, leg_id: str
) -> HttpResponse:
    deployment = access.access_deployment_to_fill(ctx, deployment_id)
    leg = _leg_of(deployment, leg_id)
    if request.method != "POST":
        form = LegForm(initial=LegForm.initial_from(leg))
    else:
        form = LegForm(request.POST)
        if form.is_valid():
            try:
                checkins.change_leg(request.user, leg, **form.values())
            except ValidationError as exc:
                _leg_errors(form, exc)
            else:
                messages.success(request, f"{_('The leg is changed.')} {_lead_told(deployment)}")
                return redirect("deployment-legs", ctx.organisation.slug, deployment.pk)
    return render(
        request,
        "travel/leg_form.html",
        {"ctx": ctx, "deployment": deployment, "leg": leg, "form": form},
        status=400 if form.errors else 200,
    )


@org_view
@require_POST
def leg_remove(
    request: HttpRequest, ctx: OrgContext, deployment_id: str, leg_id: str
) -> HttpResponse:
    deployment = access.access_deployment_to_fill(ctx, deployment_id)
    leg = _leg_of(deployment, leg_id)
    checkins.remove_leg(request.user, leg)
    messages.success(request, f"{_('The leg is removed.')} {_lead_told(deployment)}")
    return redirect("deployment-legs", ctx.organisation.slug, deployment.pk)


# PINs (DESIGN.md section 7, "Duress"): hashed by the action, never shown back.


@org_view
def deployment_pins(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    deployment = _access_as_traveller(ctx, deployment_id)
    form = PinsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            checkins.set_pins(
                request.user, deployment.traveller, d["checkin_pin"], d["duress_pin"] or ""
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("Your PINs are saved."))
            return redirect("deployment-pins", ctx.organisation.slug, deployment.pk)
    # Only when they were changed: not whether a duress PIN exists (someone may be
    # looking over the traveller's shoulder).
    pins = TravellerPins.objects.filter(person=deployment.traveller).first()
    return render(
        request,
        "travel/pins.html",
        {
            "ctx": ctx,
            "deployment": deployment,
            "form": form,
            "pins_updated_at": pins.updated_at if pins else None,
            "pin_digits": checkins.PIN_DIGITS,
        },
        status=400 if form.errors else 200,
    )


# Check-in (DESIGN.md section 5, "Check-in").


def _render_checkin(
    request: HttpRequest,
    ctx: OrgContext,
    deployment: Deployment,
    form: CheckInForm,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    legs = list(Leg.objects.filter(deployment=deployment))
    upcoming = (
        ExpectedCheckIn.objects.filter(
            deployment=deployment, state=ExpectedState.PENDING, deadline__gte=now
        )
        .order_by("due_at")
        .first()
    )
    recent = list(CheckIn.objects.filter(deployment=deployment)[:RECENT])
    response = render(
        request,
        "travel/checkin.html",
        {
            "ctx": ctx,
            "deployment": deployment,
            "form": form,
            "active": deployment.status == DeploymentStatus.ACTIVE,
            "next": _expected_rows([upcoming], legs)[0] if upcoming else None,
            "recent": _checkin_rows(recent, legs),
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


@org_view
def deployment_checkin(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    deployment = _access_as_traveller(ctx, deployment_id)
    if request.method != "POST":
        return _render_checkin(request, ctx, deployment, CheckInForm())
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            # A duress PIN takes this same path: the action raises the alert silently.
            checkins.check_in(
                request.user,
                deployment,
                via="web",
                pin=form.pin_given(),
                location=form.location(),
                note=form.cleaned_data["note"].strip(),
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("Your check-in is recorded. Thank you."), CHECKED_IN)
            return redirect("deployment-checkin", ctx.organisation.slug, deployment.pk)
    # An empty PIN box after every refusal: it is never rendered back.
    return _render_checkin(request, ctx, deployment, form, status=400)


# The lost-communications plan (issue 5, point 5).


@org_view
def lost_comms_plan(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    deployment = access.access_deployment_by_id(ctx, deployment_id)
    plan = LostCommsPlan.objects.filter(deployment=deployment).first()
    form = None
    if request.method == "POST":
        deployment = access.access_deployment_to_fill(ctx, deployment_id)
        form = LostCommsPlanForm(request.POST)
        if form.is_valid():
            try:
                checkins.save_lost_comms_plan(request.user, deployment, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                messages.success(request, _("The lost-communications plan is saved."))
                return redirect("deployment-lost-comms", ctx.organisation.slug, deployment.pk)
    can_fill = _can_fill(ctx, deployment)
    if form is None and can_fill:
        form = LostCommsPlanForm(
            initial={
                "traveller_will": plan.traveller_will,
                "organisation_should": plan.organisation_should,
            }
            if plan
            else None
        )
    return render(
        request,
        "travel/lost_comms.html",
        {"ctx": ctx, "deployment": deployment, "plan": plan, "form": form, "can_fill": can_fill},
        status=400 if form is not None and form.errors else 200,
    )


# Proof of life (issue 5, point 6): the answers leave the database only in the answer to
# a crisis role's justified, audited post.


def _is_crisis_role(ctx: OrgContext) -> bool:
    return ctx.has_any(checkins.CRISIS_ROLES)


def _access_proof_of_life(ctx: OrgContext, deployment_id: Any) -> Deployment:
    deployment = access.access_deployment_by_id(ctx, deployment_id)
    if _is_traveller(ctx, deployment):
        return deployment
    if _is_crisis_role(ctx):
        return deployment
    not_found()


def _render_proof(
    request: HttpRequest,
    ctx: OrgContext,
    deployment: Deployment,
    *,
    set_form: ProofOfLifeForm | None = None,
    read_form: ProofOfLifeReadForm | None = None,
    answers: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    traveller = _is_traveller(ctx, deployment)
    crisis = _is_crisis_role(ctx)
    proof = ProofOfLife.objects.filter(deployment=deployment).first()
    # The traveller sees their own questions, never the answers.
    own_questions = [q["question"] for q in proof.questions] if proof and traveller else []
    response = render(
        request,
        "travel/proof_of_life.html",
        {
            "ctx": ctx,
            "deployment": deployment,
            "traveller": traveller,
            "crisis": crisis,
            "proof_set": proof is not None,
            "proof_updated_at": proof.updated_at if proof else None,
            "count": len(proof.questions) if proof else 0,
            "own_questions": own_questions,
            "set_form": set_form or (ProofOfLifeForm() if traveller else None),
            "read_form": read_form or (ProofOfLifeReadForm() if crisis and proof else None),
            "answers": answers,
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


@org_view
def proof_of_life(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    deployment = _access_proof_of_life(ctx, deployment_id)
    if request.method != "POST":
        return _render_proof(request, ctx, deployment)
    # Only the traveller sets them: no one else may know the answers.
    if not _is_traveller(ctx, deployment):
        not_found()
    form = ProofOfLifeForm(request.POST)
    if form.is_valid():
        try:
            checkins.set_proof_of_life(request.user, deployment, form.questions())
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("Your proof-of-life questions are saved."))
            return redirect("deployment-proof-of-life", ctx.organisation.slug, deployment.pk)
    # The answers are not rendered back (PasswordInput): a refused form asks for them again.
    return _render_proof(request, ctx, deployment, set_form=form, status=400)


@org_view
@require_POST
def proof_of_life_read(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    deployment = access.access_deployment_by_id(ctx, deployment_id)
    if not _is_crisis_role(ctx):
        not_found()
    form = ProofOfLifeReadForm(request.POST)
    if form.is_valid():
        try:
            answers = checkins.read_proof_of_life(
                ctx, deployment, form.cleaned_data["justification"]
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            # Shown once, in this answer: not stored in the session, not cached.
            return _render_proof(request, ctx, deployment, answers=answers)
    return _render_proof(request, ctx, deployment, read_form=form, status=400)


# The annexes (reference, "Preparation of Danish personnel": "The travel program must be
# attached as an annex"; "Use external security assessments").


def _install_vault(request: HttpRequest, organisation_id: Any) -> vault.VaultUploadHandler:
    handler = vault.VaultUploadHandler(request, organisation_id)
    request.upload_handlers = [handler]
    return handler


def _drop_unsaved(handler: vault.VaultUploadHandler | None) -> None:
    """Remove what the vault staged for a request that kept no document (a form error, a
    refusal, a CSRF failure). A kept file was already renamed to its final name."""
    if handler is None:
        return
    for staged in handler.staged:
        vault.blob_path(staged.organisation_id, staged.evidence_id, part=True).unlink(
            missing_ok=True
        )


@csrf_protect
def _documents(
    request: HttpRequest, ctx: OrgContext, deployment: Deployment, uploading: bool
) -> HttpResponse:
    can_fill = _can_fill(ctx, deployment)
    form = TravelDocumentForm() if can_fill else None
    status = 200
    if uploading:
        form = TravelDocumentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                documents.attach_document(
                    request.user,
                    deployment,
                    form.cleaned_data["kind"],
                    form.cleaned_data["file"],
                )
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                messages.success(request, _("The document is stored in the vault."))
                return redirect("deployment-documents", ctx.organisation.slug, deployment.pk)
        status = 400
    return render(
        request,
        "travel/documents.html",
        {
            "ctx": ctx,
            "deployment": deployment,
            "documents": TravelDocument.objects.filter(deployment=deployment).order_by(
                "uploaded_at"
            ),
            "form": form,
            "can_fill": can_fill,
        },
        status=status,
    )


@csrf_exempt
@org_view
def deployment_documents(request: HttpRequest, ctx: OrgContext, deployment_id: str) -> HttpResponse:
    """The files stream into the vault while the body arrives, so the upload handler is
    installed before anything reads it: ``csrf_exempt`` outside, ``csrf_protect``
    inside (Django's documented pattern, as incidents.views.report_form). Access is
    checked first, so a refused request stages nothing."""
    if request.method != "POST":
        deployment = access.access_deployment_by_id(ctx, deployment_id)
        return _documents(request, ctx, deployment, uploading=False)
    deployment = access.access_deployment_to_fill(ctx, deployment_id)
    handler = _install_vault(request, ctx.organisation.pk)
    try:
        return _documents(request, ctx, deployment, uploading=True)
    finally:
        _drop_unsaved(handler)


@org_view  # type: ignore[arg-type]  # a streaming response, not an HttpResponse
@require_GET
def document_download(
    request: HttpRequest, ctx: OrgContext, deployment_id: str, document_id: str
) -> StreamingHttpResponse:
    """The original file, decrypted as it streams, after the download is audited.
    Always an attachment, never rendered by the browser."""
    deployment = access.access_deployment_by_id(ctx, deployment_id)
    document = _document_of(deployment, document_id)
    response = StreamingHttpResponse(
        documents.read_document(request.user, document),
        content_type=document.content_type or "application/octet-stream",
    )
    response["Content-Disposition"] = content_disposition_header(True, document.name) or ""
    response["Content-Length"] = str(document.size)
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response
