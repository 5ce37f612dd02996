"""Community protocol pages (issue 8, point 1; reference, Strategy 2, line 1): the
builder, the protocol with its version history and adoption, an old version, and the
printable card. Thin: reads through protocols.access, writes through
protocols.community. Steps that only take a post answer 405 to a GET after the access
check, so that everyone without a part gets the same 404 for every address."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone

from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.models import Person
from amparo.people.views import _form_errors_from, org_view
from amparo.protocols import access, card, community
from amparo.protocols.forms import (
    SECTION_LABELS,
    ProtocolForm,
    ProtocolStatusForm,
    TrainingForm,
)
from amparo.protocols.models import CommunityProtocol, ProtocolTraining, ProtocolVersion

# Pages that only read answer other methods with 405, after the access check, so that
# everyone without a part gets the same 404 whatever the method.
READS = ["GET", "HEAD"]


def _people_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    people = Person.objects.filter(organisation=ctx.organisation, archived_at__isnull=True)
    return sorted(((str(p.pk), p.display_name) for p in people), key=lambda c: c[1].lower())


def section_rows(version: ProtocolVersion) -> list[dict[str, Any]]:
    """The sections in the reference's order, each with its label, for the templates."""
    s = version.sections or {}
    return [
        {"key": key, "label": label, "value": s.get(key) or ""}
        for key, label in SECTION_LABELS.items()
    ]


def adoption(protocol: CommunityProtocol) -> dict[str, Any]:
    """Reference, Strategy 2, line 1 KPIs: members trained in it, drills that tested it."""
    members = Person.objects.filter(
        organisation_id=protocol.organisation_id, archived_at__isnull=True
    ).count()
    trained = ProtocolTraining.objects.filter(
        protocol=protocol, person__archived_at__isnull=True
    ).count()
    return {
        "members": members,
        "trained": trained,
        "share": round(100 * trained / members) if members else None,
        "drills": protocol.drills.order_by("-held_on"),
    }


def _save(request: HttpRequest, ctx: OrgContext, form: ProtocolForm, item: Any) -> Any:
    d = form.cleaned_data
    kwargs = {
        "title": d["title"],
        "language": d["language"],
        "co_creators": d["co_creators"],
        "community": d["community"],
        "sections": form.sections(),
        "change_note": d["change_note"],
    }
    if item is None:
        return community.create_protocol(request.user, ctx.organisation, **kwargs)
    community.save_protocol_version(request.user, item, **kwargs)
    return item


@org_view
def protocol_new(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_protocol_writer(ctx)
    form = ProtocolForm(request.POST or None, initial={"language": "es"})
    if request.method == "POST" and form.is_valid():
        try:
            item = _save(request, ctx, form, None)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("protocol-detail", ctx.organisation.slug, item.pk)
    return render(request, "protocols/protocol_form.html", {"ctx": ctx, "form": form})


@org_view
def protocol_detail(request: HttpRequest, ctx: OrgContext, protocol_id: str) -> HttpResponse:
    protocol = access.access_protocol_by_id(ctx, protocol_id)
    version = access.access_protocol_version(ctx, protocol.pk)
    return _detail(request, ctx, protocol, version)


def _detail(
    request: HttpRequest,
    ctx: OrgContext,
    protocol: CommunityProtocol,
    version: ProtocolVersion,
    **forms_: Any,
) -> HttpResponse:
    writer = access.can_write_protocols(ctx)
    return render(
        request,
        "protocols/protocol_detail.html",
        {
            "ctx": ctx,
            "protocol": protocol,
            "version": version,
            "current": version.number == protocol.current_version,
            "sections": section_rows(version),
            "versions": protocol.versions.order_by("-number"),
            "adoption": adoption(protocol),
            "writer": writer,
            "status_form": forms_.get("status_form")
            or ProtocolStatusForm(
                initial={"status": protocol.status, "adopted_on": protocol.adopted_on}
            ),
            "training_form": forms_.get("training_form")
            or (
                TrainingForm(
                    people=_people_choices(ctx), initial={"trained_on": timezone.localdate()}
                )
                if writer
                else None
            ),
            "trainings": ProtocolTraining.objects.filter(protocol=protocol).select_related("person")
            if writer
            else [],
        },
    )


@org_view
def protocol_edit(request: HttpRequest, ctx: OrgContext, protocol_id: str) -> HttpResponse:
    protocol = access.access_protocol_by_id(ctx, protocol_id)
    access.require_protocol_writer(ctx)
    version = access.access_protocol_version(ctx, protocol.pk)
    form = ProtocolForm(request.POST or None, initial=ProtocolForm.initial_from(version))
    if request.method == "POST" and form.is_valid():
        try:
            _save(request, ctx, form, protocol)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("protocol-detail", ctx.organisation.slug, protocol.pk)
    return render(
        request,
        "protocols/protocol_form.html",
        {"ctx": ctx, "form": form, "protocol": protocol, "version": version},
    )


@org_view
def protocol_version(
    request: HttpRequest, ctx: OrgContext, protocol_id: str, number: int
) -> HttpResponse:
    protocol = access.access_protocol_by_id(ctx, protocol_id)
    version = access.access_protocol_version(ctx, protocol.pk, number)
    if request.method not in READS:
        return HttpResponseNotAllowed(READS)
    return _detail(request, ctx, protocol, version)


@org_view
def protocol_status(request: HttpRequest, ctx: OrgContext, protocol_id: str) -> HttpResponse:
    protocol = access.access_protocol_by_id(ctx, protocol_id)
    access.require_protocol_writer(ctx)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ProtocolStatusForm(request.POST)
    if form.is_valid():
        try:
            community.set_protocol_status(
                request.user,
                protocol,
                form.cleaned_data["status"],
                adopted_on=form.cleaned_data["adopted_on"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("protocol-detail", ctx.organisation.slug, protocol.pk)
    version = access.access_protocol_version(ctx, protocol.pk)
    return _detail(request, ctx, protocol, version, status_form=form)


@org_view
def protocol_train(request: HttpRequest, ctx: OrgContext, protocol_id: str) -> HttpResponse:
    protocol = access.access_protocol_by_id(ctx, protocol_id)
    access.require_protocol_writer(ctx)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = TrainingForm(request.POST, people=_people_choices(ctx))
    if form.is_valid():
        d = form.cleaned_data
        person = people_access.access_person_by_id(ctx, d["person"])
        try:
            community.record_protocol_training(
                request.user,
                protocol,
                person,
                trained_on=d["trained_on"],
                workshop_id=d["workshop_id"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return redirect("protocol-detail", ctx.organisation.slug, protocol.pk)
    version = access.access_protocol_version(ctx, protocol.pk)
    return _detail(request, ctx, protocol, version, training_form=form)


@org_view
def protocol_card(request: HttpRequest, ctx: OrgContext, protocol_id: str) -> HttpResponse:
    """The current version's card; ``?version=n`` prints an older one, ``?lang=es|en``."""
    protocol = access.access_protocol_by_id(ctx, protocol_id)
    number = request.GET.get("version")
    version = access.access_protocol_version(
        ctx, protocol.pk, int(number) if number and number.isdigit() else None
    )
    if request.method not in READS:
        return HttpResponseNotAllowed(READS)
    language = card.card_language(version, request.GET.get("lang"))
    pdf = card.export_card(request.user, version, language)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="protocol-card-v{version.number}-{language}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response
