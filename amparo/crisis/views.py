"""Crisis pages: the case list, opening a case (by hand, or from an alert in one
action), the case page (blackout banner, tasks with deadlines, timeline, contacts,
reference panels), completing tasks, notes, the blackout switch, the advocacy alert with
its redaction preview, the after-action review, and the playbooks. Every page of a case
extends ``crisis/case_base.html``, which carries the media blackout banner."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from amparo.alerts import access as alerts_access
from amparo.crisis import access, actions, advocacy, contacts
from amparo.crisis.forms import (
    AdvocacyForm,
    FromAlertForm,
    NoteForm,
    OpenCrisisForm,
    PlaybookForm,
    PlaybookTaskForm,
    ReviewForm,
    TaskDoneForm,
)
from amparo.crisis.models import CrisisCase, CrisisTask
from amparo.people import access as people_access
from amparo.people.access import OrgContext
from amparo.people.views import _form_errors_from, org_view


def _case_page(
    request: HttpRequest, ctx: OrgContext, case: CrisisCase, template: str, **extra: Any
) -> HttpResponse:
    return render(
        request,
        template,
        {"ctx": ctx, "case": case, "can_manage": access.can_manage_cases(ctx), **extra},
    )


def _to_case(ctx: OrgContext, case: CrisisCase) -> HttpResponse:
    return redirect("crisis-detail", slug=ctx.organisation.slug, case_id=case.pk)


@org_view
def case_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    cases = access.cases_visible_to(ctx).select_related("playbook")
    if not access.can_manage_cases(ctx) and not cases.exists():
        people_access.require(ctx, False)
    return render(
        request,
        "crisis/list.html",
        {"ctx": ctx, "cases": cases[:200], "can_manage": access.can_manage_cases(ctx)},
    )


@org_view
def open_case(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_manager(ctx)
    form = OpenCrisisForm(request.POST or None, people=people_access.people_visible_to(ctx))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = actions.open_crisis(
                request.user,
                ctx.organisation,
                data["kind"],
                person=data["person"],
                title=data["title"],
                summary=data["summary"],
                region=data["region"],
                exact_place=data["exact_place"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            return _to_case(ctx, case)
    return render(
        request, "form_page.html", {"ctx": ctx, "form": form, "title": _("Open a crisis")}
    )


@org_view
@require_POST
def open_from_alert(request: HttpRequest, ctx: OrgContext, alert_id: str) -> HttpResponse:
    """One action from the alert page: the alert becomes a crisis with its playbook."""
    access.require_manager(ctx)
    alert = alerts_access.access_alert_by_id(ctx, alert_id)
    people_access.require(ctx, alerts_access.is_own_alert(ctx, alert))
    form = FromAlertForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a kind of crisis."))
        return redirect("alert-detail", slug=ctx.organisation.slug, alert_id=alert.pk)
    case = actions.open_crisis(
        request.user, ctx.organisation, form.cleaned_data["kind"], alert=alert
    )
    messages.success(request, _("Crisis opened. Its tasks are below."))
    return _to_case(ctx, case)


@org_view
def detail(request: HttpRequest, ctx: OrgContext, case_id: str) -> HttpResponse:
    case = access.access_case_by_id(ctx, case_id)
    tasks = list(case.tasks.select_related("template", "assignee", "done_by"))
    now = timezone.now()
    rows = [
        {
            "task": task,
            "overdue": task.done_at is None and task.due_at < now,
            "mine": task.assignee_id == ctx.user.pk or access.can_manage_cases(ctx),
            "form": TaskDoneForm(items=task.template.checklist_text(), prefix=str(task.pk)),
        }
        for task in tasks
    ]
    return _case_page(
        request,
        ctx,
        case,
        "crisis/detail.html",
        rows=rows,
        timeline=case.timeline.select_related("author"),
        panel=contacts.panel_for(ctx, case),
        panels=case.playbook.panels_text(),
        note_form=NoteForm(),
        review=getattr(case, "review", None) if not case.is_open else None,
    )


@org_view
@require_POST
def task_done(request: HttpRequest, ctx: OrgContext, case_id: str, task_id: str) -> HttpResponse:
    case = access.access_case_by_id(ctx, case_id)
    task: CrisisTask = access.access_task_to_complete(ctx, case, task_id)
    form = TaskDoneForm(request.POST, items=task.template.checklist_text(), prefix=str(task.pk))
    if form.is_valid():
        try:
            actions.complete_task(
                request.user,
                task,
                note=form.cleaned_data["note"],
                checked=form.cleaned_data["checked"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return _to_case(ctx, case)


@org_view
@require_POST
def add_note(request: HttpRequest, ctx: OrgContext, case_id: str) -> HttpResponse:
    case = access.access_case_by_id(ctx, case_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            actions.append_to_timeline(request.user, case, form.cleaned_data["text"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return _to_case(ctx, case)


@org_view
@require_POST
def blackout(request: HttpRequest, ctx: OrgContext, case_id: str) -> HttpResponse:
    case = access.access_case_to_manage(ctx, case_id)
    try:
        actions.set_media_blackout(request.user, case, request.POST.get("on") == "1")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _to_case(ctx, case)


@org_view
def advocacy_alert(request: HttpRequest, ctx: OrgContext, case_id: str) -> HttpResponse:
    """Draft, preview (exactly what leaves), then send. Works without JavaScript: the
    preview is a round trip."""
    case = access.access_case_to_manage(ctx, case_id)
    partners = advocacy.partner_contacts(ctx.organisation)
    form = AdvocacyForm(request.POST or None, contacts=partners)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("do") == "send":
            try:
                row = actions.send_advocacy_alert(
                    ctx.user,
                    case,
                    appeal=data["appeal"],
                    include=data["include"],
                    recipient_ids=data["recipients"],
                    language=data["language"],
                    override_reason=data["override_reason"],
                )
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                if row.state == "blocked":
                    messages.error(
                        request,
                        _(
                            "The media blackout blocks this alert. Nothing was sent. The "
                            "crisis lead can override it with a written reason."
                        ),
                    )
                else:
                    messages.success(request, _("The advocacy alert is queued."))
                    return _to_case(ctx, case)
        preview = advocacy.compose(
            case,
            appeal=data["appeal"],
            include=data["include"],
            sender_email=ctx.user.email,
            language=data["language"],
        )
    return _case_page(
        request,
        ctx,
        case,
        "crisis/advocacy.html",
        form=form,
        preview=preview,
        partners=partners,
        blocked=actions.blocked_by_blackout(case),
        is_lead=case.lead_id == ctx.user.pk,
        sent=case.advocacy.all(),
    )


@org_view
def review(request: HttpRequest, ctx: OrgContext, case_id: str) -> HttpResponse:
    case = access.access_case_to_manage(ctx, case_id)
    if not case.is_open:
        return _to_case(ctx, case)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.file_review(request.user, case, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, _("After-action review filed. The case is closed."))
            return _to_case(ctx, case)
    return _case_page(request, ctx, case, "crisis/review.html", form=form)


@org_view
def playbook_list(request: HttpRequest, ctx: OrgContext) -> HttpResponse:
    access.require_manager(ctx)
    return render(
        request,
        "crisis/playbooks.html",
        {"ctx": ctx, "playbooks": actions.current_playbooks(ctx.organisation)},
    )


@org_view
def playbook_detail(request: HttpRequest, ctx: OrgContext, playbook_id: str) -> HttpResponse:
    """Read a playbook version; editing it saves the next version (running cases keep
    theirs). Texts are edited in the user's language; the other languages keep theirs."""
    playbook = access.access_playbook_by_id(ctx, playbook_id)
    language = (translation.get_language() or "en")[:2]
    tasks = list(playbook.tasks.all())
    data = request.POST if request.method == "POST" else None
    head = PlaybookForm(data, initial={"media_blackout": playbook.media_blackout})
    task_forms = [
        PlaybookTaskForm(
            data,
            prefix=f"t{task.position}",
            initial={
                "role": task.role,
                "offset_minutes": task.offset_minutes,
                "title": task.title_text,
                "guidance": task.guidance_text,
            },
        )
        for task in tasks
    ]
    if data is not None and head.is_valid() and all(f.is_valid() for f in task_forms):
        spec = actions.playbook_spec(playbook)
        revised = []
        for item, form in zip(spec["tasks"], task_forms, strict=True):
            if form.cleaned_data["remove"]:
                continue
            item["role"] = form.cleaned_data["role"]
            item["offset_minutes"] = form.cleaned_data["offset_minutes"]
            item["title"] = {**item["title"], language: form.cleaned_data["title"]}
            item["guidance"] = {**item["guidance"], language: form.cleaned_data["guidance"]}
            revised.append(item)
        try:
            new = actions.revise_playbook(
                ctx.user,
                playbook,
                tasks=sorted(revised, key=lambda t: t["offset_minutes"]),
                media_blackout=head.cleaned_data["media_blackout"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Saved as version %(v)s.") % {"v": new.version})
            return redirect("crisis-playbook", slug=ctx.organisation.slug, playbook_id=new.pk)
    current = actions.current_playbook(ctx.organisation, playbook.kind)
    return render(
        request,
        "crisis/playbook.html",
        {
            "ctx": ctx,
            "playbook": playbook,
            "rows": list(zip(tasks, task_forms, strict=True)),
            "head": head,
            "is_current": current.pk == playbook.pk,
        },
    )
