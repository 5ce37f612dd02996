"""Threat report pages (DESIGN.md section 5, "Threat report"): the report form for members
and the anonymous one, the receipt status page, and the coordinator's case list and case
view with its checklist, evidence and timeline. Thin: reads go through incidents.access,
writes through incidents.actions.

The report pages are plain form posts that work without JavaScript, and weigh under
60 KB with what they load (DESIGN.md section 9): they use their own small stylesheet.
Evidence streams into the encrypted vault while the request body arrives, so the upload
handler is installed before anything reads the body: the view is ``csrf_exempt`` outside
and ``csrf_protect`` inside, Django's documented pattern for custom upload handlers.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from amparo.core import ratelimit
from amparo.core.models import AuditEntry
from amparo.incidents import access, actions, checklist, classify, vault
from amparo.incidents.forms import (
    CaseFilterForm,
    ItemForm,
    LevelForm,
    ReceiptForm,
    StatusForm,
    ThreatReportForm,
    step1_answers,
)
from amparo.incidents.models import (
    CustodyEvent,
    ItemStatus,
    Owner,
    Source,
    ThreatReport,
)
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.models import DirectoryCategory, Organisation, Person, User
from amparo.people.views import _form_errors_from, org_view

REPORT_LANGUAGES = ("es", "en", "pt")
PAGE_SIZE = 25
# Who may tick an item besides the case managers: the person threatened and whoever
# filed the report, for the actions the reference gives them and their family.


def report_language() -> str:
    """The language the reporter reads the page in, if a report can be kept in it."""
    language = (translation.get_language() or "es").split("-")[0]
    return language if language in REPORT_LANGUAGES else "en"


# Uploads into the vault


def _install_vault(request: HttpRequest, organisation_id: Any) -> vault.VaultUploadHandler | None:
    if request.method != "POST":
        return None
    handler = vault.VaultUploadHandler(request, organisation_id)
    request.upload_handlers = [handler]
    return handler


def _drop_unsaved(handler: vault.VaultUploadHandler | None) -> None:
    """Remove what the vault staged for a request that saved no report (a form error, a
    CSRF refusal). Files of a saved report were already renamed, so nothing of theirs
    is left under the staging name."""
    if handler is None:
        return
    for staged in handler.staged:
        # Quietly: a store that went read-only must not turn the answer into an error.
        vault.remove_quietly(vault.blob_path(staged.organisation_id, staged.evidence_id, part=True))


def _staged_evidence(request: HttpRequest) -> list[vault.StagedEvidence]:
    return [
        f.staged for f in request.FILES.getlist("evidence") if isinstance(f, vault.StagedUpload)
    ]


# Reporting


def _people_choices(ctx: OrgContext) -> list[tuple[str, str]]:
    people = people_access.people_visible_to(ctx)
    return sorted(((str(p.pk), p.display_name) for p in people), key=lambda c: c[1].lower())


def _guidance(report: ThreatReport) -> list[dict[str, Any]]:
    """The report's checklist as plain guidance, in the report's language."""
    with translation.override(report.language):
        return [
            {
                "step": item.step,
                "title": str(item.title),
                "guidance": str(item.guidance),
                "owner": item.owner,
                "owner_label": str(Owner(item.owner).label),
            }
            for item in checklist.items_for(report.level)
        ]


def _receipt_page(
    request: HttpRequest, receipt: actions.Receipt, ctx: OrgContext | None
) -> HttpResponse:
    report = receipt.report
    return render(
        request,
        "incidents/report_done.html",
        {
            "ctx": ctx,
            "report": report,
            "receipt": receipt,
            "explanation": receipt.explanation(),
            "guidance": _guidance(report),
            "detail_url": reverse("threat-detail", args=[ctx.organisation.slug, report.pk])
            if ctx is not None
            else "",
        },
    )


def _submit(
    request: HttpRequest,
    form: ThreatReportForm,
    organisation: Organisation,
    *,
    actor: Any,
    source: str,
    person: Person | None,
) -> actions.Receipt | None:
    """File the report, or put the action's refusal on the form."""
    time_zone = person.time_zone if person is not None else organisation.time_zone
    try:
        return actions.report_threat(
            actor,
            organisation,
            form.report_data(time_zone=time_zone, language=report_language()),
            source=source,
            person=person,
            evidence=_staged_evidence(request),
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            form.add_action_errors(exc.message_dict)
        else:
            form.add_error(None, exc.messages)
        return None


@csrf_protect
def _report_form(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    for_others = access.can_report_for_others(ctx)
    own = people_access.own_profile(ctx)
    form = ThreatReportForm(
        request.POST if request.method == "POST" else None,
        people=_people_choices(ctx) if for_others else None,
        initial={"region": ctx.organisation.region, "person": str(own.pk) if own else ""},
    )
    if request.method == "POST" and form.is_valid():
        person = own
        if for_others:
            chosen = form.cleaned_data["person"]
            person = access.access_person_for_report(ctx, chosen) if chosen else None
        receipt = _submit(
            request, form, ctx.organisation, actor=request.user, source=Source.WEB, person=person
        )
        if receipt is not None:
            return _receipt_page(request, receipt, ctx)
    return render(
        request,
        "incidents/report_form.html",
        {"ctx": ctx, "form": form, "organisation": ctx.organisation, "anonymous": False},
    )


@csrf_exempt
@org_view
def report_form(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    """A member reports a threat: a defender about themselves, a focal point, supervisor
    or coordinator about anyone of the organisation."""
    handler = _install_vault(request, ctx.organisation.pk)
    try:
        return _report_form(request, ctx)
    finally:
        _drop_unsaved(handler)


@csrf_protect
def _anonymous_report(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = ThreatReportForm(
        request.POST if request.method == "POST" else None,
        initial={"region": organisation.region},
    )
    if request.method == "POST" and form.is_valid():
        # No account, no person, no address: the receipt code is the only way back.
        receipt = _submit(
            request, form, organisation, actor="anonymous", source=Source.ANONYMOUS, person=None
        )
        if receipt is not None:
            return _receipt_page(request, receipt, None)
    return render(
        request,
        "incidents/report_form.html",
        {"ctx": None, "form": form, "organisation": organisation, "anonymous": True},
    )


@csrf_exempt
@ratelimit.rate_limited(ratelimit.ANONYMOUS_REPORTS, ratelimit.refuse_page)
def anonymous_report(request: HttpRequest, slug: str) -> HttpResponse:
    """DESIGN.md section 7, "Anonymous reporting": no account, no IP address stored, a
    receipt code to follow up. The organisation publishes this address itself, so its
    name is shown to anyone who has it."""
    # Public by design: no membership to check, only whether the organisation exists.
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise Http404("Not found")
    handler = _install_vault(request, organisation.pk)
    try:
        return _anonymous_report(request, organisation)
    finally:
        _drop_unsaved(handler)


@csrf_protect
def receipt_status(request: HttpRequest) -> HttpResponse:
    """Status, level and dates for a receipt code; never the content. An unknown code and
    a malformed one get the same answer. A POST, so codes stay out of addresses and logs.
    Lookups are limited per client address (``AMPARO_RATE_RECEIPTS``); showing the empty
    form (GET) is not counted."""
    looked = request.method == "POST"
    if looked:
        wait = ratelimit.seconds_to_wait(request, ratelimit.RECEIPT_LOOKUPS)
        if wait is not None:
            return ratelimit.refuse_lookup_page(request, wait)
    form = ReceiptForm(request.POST if looked else None)
    found: dict[str, Any] | None = None
    row = access.status_by_receipt(form.cleaned_data["code"]) if form.is_valid() else None
    if row is not None:
        found = {
            "receipt": row["receipt"],
            "status": ThreatReport(status=row["status"]).get_status_display(),
            "level": ThreatReport(level=row["level"]).get_level_display(),
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
    # An empty form after every lookup: the page must not differ by what was typed.
    return render(
        request,
        "incidents/receipt_status.html",
        {"form": ReceiptForm(), "found": found, "looked": looked},
    )


# The case list


@org_view
def case_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    reports = access.reports_visible_to(ctx).select_related("person")
    form = CaseFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        reports = form.filter(reports, ctx.organisation.time_zone)
    active = Q(checklist__superseded=False)
    reports = reports.annotate(
        items_total=Count(
            "checklist", filter=active & ~Q(checklist__status=ItemStatus.NOT_APPLICABLE)
        ),
        items_done=Count("checklist", filter=active & Q(checklist__status=ItemStatus.DONE)),
    ).order_by("-created_at")
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "incidents/case_list.html",
        {
            "ctx": ctx,
            "form": form,
            "page": page,
            "can_read": access.can_read_cases(ctx),
            "time_zone": ctx.organisation.time_zone,
        },
    )


# The case view


TIMELINE_LABELS = {
    "threat.reported": gettext_lazy("Report received"),
    "threat.level_changed": gettext_lazy("Level changed"),
    "threat.status": gettext_lazy("Status changed"),
    "threat.checklist": gettext_lazy("Checklist updated"),
    "threat.dossier_exported": gettext_lazy("Dossier exported"),
}


def _actor_names(labels: set[str]) -> dict[str, str]:
    """How the timeline names who acted: the account's e-mail address for members."""
    ids = [label.split(":", 1)[1] for label in labels if label.startswith("user:")]
    emails = {
        f"user:{pk}": email
        for pk, email in User.objects.filter(pk__in=ids).values_list("pk", "email")
    }
    names = {}
    for label in labels:
        if label in emails:
            names[label] = emails[label]
        elif label.startswith("report:") or label == "anonymous":
            names[label] = _("the reporter")
        else:
            names[label] = label
    return names


def _timeline(report: ThreatReport) -> list[dict[str, Any]]:
    """The report's audit entries (level, status and checklist changes) and the custody
    log of its evidence, oldest first."""
    entries: list[dict[str, Any]] = []
    for entry in AuditEntry.objects.filter(
        object_type=ThreatReport._meta.label_lower, object_id=str(report.pk)
    ).order_by("seq"):
        details = entry.details or {}
        what = str(TIMELINE_LABELS.get(entry.action, entry.action))
        if entry.action in ("threat.level_changed", "threat.status"):
            what = f"{what}: {details.get('from', '')} → {details.get('to', '')}"
        elif entry.action == "threat.checklist":
            item = checklist.BY_CODE.get(details.get("item", ""))
            title = str(item.title) if item else details.get("item", "")
            change = details.get("status") or (_("notes") if details.get("notes") else "")
            what = f"{what}: {title} ({change})"
        elif entry.action == "threat.reported":
            what = f"{what}: {details.get('level', '')}"
        entries.append({"at": entry.at, "actor": entry.actor, "what": what})
    custody = CustodyEvent.objects.filter(evidence__report=report).select_related("evidence")
    for event in custody:
        entries.append(
            {
                "at": event.at,
                "actor": event.actor,
                "what": f"{event.get_action_display()}: {event.evidence.name}",
            }
        )
    entries.sort(key=lambda e: e["at"])
    names = _actor_names({e["actor"] for e in entries})
    for e in entries:
        e["actor"] = names[e["actor"]]
    return entries


def _checklist_rows(ctx: OrgContext, report: ThreatReport) -> list[dict[str, Any]]:
    """Each item with its title and guidance: in the report's language for the person
    threatened and the reporter, in the reader's for the organisation's staff."""
    staff = access.can_read_cases(ctx)
    language = translation.get_language() if staff else report.language
    manager, own = access.can_manage_cases(ctx), access.is_own_report(ctx, report)
    rows = []
    with translation.override(language):
        for item in report.checklist.select_related("done_by"):
            spec = checklist.BY_CODE.get(item.code)
            rows.append(
                {
                    "item": item,
                    "title": str(spec.title) if spec else item.code,
                    "guidance": str(spec.guidance) if spec else "",
                    "owner_label": str(Owner(item.owner).label),
                    "status_label": str(ItemStatus(item.status).label),
                    "may_tick": manager or (own and item.owner in access.OWN_ITEM_OWNERS),
                    "notes_visible": access.may_read_notes(ctx, report, item.owner),
                }
            )
    return rows


def _detail_context(ctx: OrgContext, report: ThreatReport, **forms: Any) -> dict[str, Any]:
    manager = access.can_manage_cases(ctx)
    reader = access.can_read_cases(ctx)
    rows = _checklist_rows(ctx, report)
    active = [r for r in rows if not r["item"].superseded]
    applicable = [r for r in active if r["item"].status != ItemStatus.NOT_APPLICABLE]
    with translation.override(report.language if not reader else translation.get_language()):
        explanation = classify.explanation(report.level, report.reasons)
    slug = ctx.organisation.slug
    return {
        "ctx": ctx,
        "report": report,
        "manager": manager,
        "reader": reader,
        "explanation": explanation,
        "answers": step1_answers(report),
        # Evidence (names, hashes, files) is for case readers, as in the API.
        "evidence": list(report.evidence.all()) if reader else [],
        "record_visible": access.may_read_record(ctx, report),
        "checklist": active,
        "superseded": [r for r in rows if r["item"].superseded],
        "done_count": sum(1 for r in applicable if r["item"].status == ItemStatus.DONE),
        "applicable_count": len(applicable),
        "mental_health": people_access.directory_visible_to(ctx).filter(
            category=DirectoryCategory.MENTAL_HEALTH
        ),
        "timeline": _timeline(report) if reader else [],
        "level_form": forms.get("level_form") or LevelForm(initial={"level": report.level}),
        "status_form": forms.get("status_form") or StatusForm(initial={"status": report.status}),
        "item_statuses": ItemStatus.choices,
        "dossier_url": reverse("threat-dossier", args=[slug, report.pk]) if reader else "",
        "alert_url": reverse("alert-detail", args=[slug, report.alert_id])
        if reader and report.alert_id
        else "",
        "time_zone": ctx.organisation.time_zone,
    }


@org_view
def case_detail(request: HttpRequest, ctx: OrgContext, report_id: str) -> HttpResponse:
    report = access.access_report_by_id(ctx, report_id)
    return render(request, "incidents/case_detail.html", _detail_context(ctx, report))


def _to_detail(ctx: OrgContext, report: ThreatReport) -> HttpResponse:
    return redirect("threat-detail", slug=ctx.organisation.slug, report_id=report.pk)


@org_view
@require_POST
def change_level(request: HttpRequest, ctx: OrgContext, report_id: str) -> HttpResponse:
    report = access.access_report_to_manage(ctx, report_id)
    form = LevelForm(request.POST)
    if form.is_valid():
        try:
            actions.change_level(
                request.user, report, form.cleaned_data["level"], form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("Level changed. The checklist and the alert follow it."))
            return _to_detail(ctx, report)
    context = _detail_context(ctx, report, level_form=form)
    return render(request, "incidents/case_detail.html", context, status=400)


@org_view
@require_POST
def change_status(request: HttpRequest, ctx: OrgContext, report_id: str) -> HttpResponse:
    report = access.access_report_to_manage(ctx, report_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        context = _detail_context(ctx, report, status_form=form)
        return render(request, "incidents/case_detail.html", context, status=400)
    actions.set_status(request.user, report, form.cleaned_data["status"])
    messages.success(request, _("Status saved."))
    return _to_detail(ctx, report)


@org_view
@require_POST
def update_item(
    request: HttpRequest, ctx: OrgContext, report_id: str, item_id: str
) -> HttpResponse:
    report = access.access_report_by_id(ctx, report_id)
    item = access.access_item_by_id(ctx, report, item_id)
    people_access.require(ctx, access.may_update_item(ctx, report, item.owner))
    form = ItemForm(request.POST)
    if form.is_valid():
        actions.update_item(
            request.user,
            item,
            status=form.cleaned_data["status"] or None,
            notes=form.cleaned_data["notes"] if "notes" in request.POST else None,
        )
        messages.success(request, _("Checklist saved."))
    else:
        messages.error(request, _("That change was not saved."))
    return _to_detail(ctx, report)


@org_view  # type: ignore[arg-type]  # a streaming response, not an HttpResponse
@require_GET
def evidence_download(
    request: HttpRequest, ctx: OrgContext, report_id: str, evidence_id: str
) -> StreamingHttpResponse:
    """The original file, decrypted as it streams; the custody log records the download
    first. Always an attachment, never rendered by the browser."""
    report = access.access_report_by_id(ctx, report_id)
    evidence = access.access_evidence_by_id(ctx, report, evidence_id)
    response = StreamingHttpResponse(
        actions.read_evidence(request.user, evidence, "download"),
        content_type=evidence.content_type or "application/octet-stream",
    )
    # The name gets the extension of the type the bytes were judged to be, so a file that
    # claims to be a page or a program does not open as one once saved (issue 10).
    name = vault.download_name(evidence.name, evidence.content_type)
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    response["Content-Length"] = str(evidence.size)
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it after all, it runs no script and reaches nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
