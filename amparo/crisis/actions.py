"""Writes of the crisis app: playbooks, opening a case, its tasks and timeline, the media
blackout, advocacy alerts and the after-action review. Each write is one transaction
with its audit entry (core.audit); every timeline entry is audited too."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.alerts.models import Alert, Channel, OutboxMessage
from amparo.core import audit
from amparo.crisis import advocacy, playbooks
from amparo.crisis.models import (
    AdvocacyAlert,
    AdvocacyState,
    AfterActionReview,
    CaseState,
    ContinuityStatus,
    CrisisCase,
    CrisisKind,
    CrisisRole,
    CrisisTask,
    Playbook,
    PlaybookTask,
    TimelineEntry,
    TimelineKind,
)
from amparo.people.models import DirectoryCategory, Membership, Organisation, Person, User
from amparo.travel.models import Deployment

MAX_TEXT = 20000

# Playbooks


def _create_playbook(
    organisation: Organisation, spec: dict[str, Any], version: int, actor: Any = None
) -> Playbook:
    playbook = Playbook.objects.create(
        organisation=organisation,
        kind=str(spec["kind"]),
        version=version,
        title=spec["title"],
        summary=spec.get("summary", {}),
        panels=spec.get("panels", []),
        media_blackout=bool(spec.get("media_blackout", False)),
        created_by=actor if isinstance(actor, User) else None,
    )
    for position, item in enumerate(spec["tasks"]):
        _check_task(item)
        PlaybookTask.objects.create(
            playbook=playbook,
            position=position,
            role=str(item["role"]),
            offset_minutes=int(item["offset_minutes"]),
            title=item["title"],
            guidance=item.get("guidance", {}),
            contact_categories=[str(c) for c in item.get("contact_categories", [])],
            checklist=item.get("checklist", []),
        )
    return playbook


def _check_task(item: dict[str, Any]) -> None:
    if str(item.get("role")) not in CrisisRole.values:
        raise ValidationError({"tasks": _("Unknown crisis role.")})
    if int(item.get("offset_minutes", -1)) < 0:
        raise ValidationError({"tasks": _("A deadline cannot be before activation.")})
    if not isinstance(item.get("title"), dict) or not any(item["title"].values()):
        raise ValidationError({"tasks": _("Every task needs a title.")})
    for category in item.get("contact_categories", []):
        if str(category) not in DirectoryCategory.values:
            raise ValidationError({"tasks": _("Unknown directory category.")})


@transaction.atomic
def create_default_playbooks(organisation: Organisation, actor: Any = "system") -> list[Playbook]:
    """Version 1 of every default playbook the organisation does not have yet (as
    ``alerts.policies.create_default_policies``); made on first use."""
    have = set(Playbook.objects.filter(organisation=organisation).values_list("kind", flat=True))
    created = [
        _create_playbook(organisation, spec, 1)
        for spec in playbooks.DEFAULTS
        if str(spec["kind"]) not in have
    ]
    if created:
        audit.record(
            actor,
            "crisis.default_playbooks",
            organisation_id=organisation.pk,
            details={"kinds": [p.kind for p in created]},
        )
    return created


def current_playbook(organisation: Organisation, kind: str) -> Playbook:
    if kind not in CrisisKind.values:
        raise ValidationError({"kind": _("Unknown kind of crisis.")})
    playbook = (
        Playbook.objects.filter(organisation=organisation, kind=kind).order_by("-version").first()
    )
    if playbook is None:
        create_default_playbooks(organisation)
        playbook = Playbook.objects.get(organisation=organisation, kind=kind, version=1)
    return playbook


def current_playbooks(organisation: Organisation) -> list[Playbook]:
    create_default_playbooks(organisation)
    latest: dict[str, Playbook] = {}
    for playbook in Playbook.objects.filter(organisation=organisation).order_by("-version"):
        latest.setdefault(playbook.kind, playbook)
    return [latest[k] for k in CrisisKind.values if k in latest]


def playbook_spec(playbook: Playbook) -> dict[str, Any]:
    return {
        "kind": playbook.kind,
        "title": playbook.title,
        "summary": playbook.summary,
        "panels": playbook.panels,
        "media_blackout": playbook.media_blackout,
        "tasks": [
            {
                "role": task.role,
                "offset_minutes": task.offset_minutes,
                "title": task.title,
                "guidance": task.guidance,
                "contact_categories": task.contact_categories,
                "checklist": task.checklist,
            }
            for task in playbook.tasks.all()
        ],
    }


@transaction.atomic
def revise_playbook(actor: Any, playbook: Playbook, **changes: Any) -> Playbook:
    """An edit is the next version; running cases keep the version they started with."""
    spec = playbook_spec(playbook)
    for key in ("title", "summary", "panels", "media_blackout", "tasks"):
        if key in changes:
            spec[key] = changes[key]
    if not spec["tasks"]:
        raise ValidationError({"tasks": _("A playbook needs at least one task.")})
    latest = Playbook.objects.filter(
        organisation_id=playbook.organisation_id, kind=playbook.kind
    ).aggregate(v=Max("version"))["v"]
    revised = _create_playbook(playbook.organisation, spec, (latest or 0) + 1, actor)
    audit.record(
        actor,
        "crisis.playbook_revised",
        revised,
        details={"kind": revised.kind, "version": revised.version, "from": playbook.version},
    )
    return revised


# Cases


def _member(organisation: Organisation, user: Any) -> bool:
    return Membership.objects.filter(organisation=organisation, user=user).exists()


def _append(actor: Any, case: CrisisCase, kind: str, text: str, *, at: Any = None) -> TimelineEntry:
    last = TimelineEntry.objects.filter(case=case).aggregate(s=Max("seq"))["s"] or 0
    entry = TimelineEntry.objects.create(
        organisation_id=case.organisation_id,
        case=case,
        seq=last + 1,
        at=at or timezone.now(),
        kind=kind,
        author=actor if isinstance(actor, User) else None,
        text=text,
    )
    audit.record(
        actor,
        "crisis.timeline",
        case,
        details={"seq": entry.seq, "kind": kind, "entry": str(entry.pk)},
    )
    return entry


@transaction.atomic
def open_crisis(
    actor: Any,
    organisation: Organisation,
    playbook_kind: str,
    *,
    alert: Alert | None = None,
    person: Person | None = None,
    deployment: Deployment | None = None,
    title: str = "",
    summary: str = "",
    region: str = "",
    exact_place: str = "",
    lead: User | None = None,
    assignees: dict[str, User] | None = None,
    media_blackout: bool | None = None,
) -> CrisisCase:
    """Open a case from an alert (one action) or by hand: the current playbook's tasks
    with their due times (activation + offset) and assignees (by role; a role nobody was
    given goes to the crisis lead)."""
    playbook = current_playbook(organisation, playbook_kind)
    if alert is not None and alert.organisation_id != organisation.pk:
        raise ValidationError({"alert": _("That alert is not in this organisation.")})
    if person is not None and person.organisation_id != organisation.pk:
        raise ValidationError({"person": _("That person is not in this organisation.")})
    if deployment is not None and deployment.organisation_id != organisation.pk:
        raise ValidationError({"deployment": _("That deployment is not in this organisation.")})
    lead = lead or (actor if isinstance(actor, User) else None)
    if lead is None or not _member(organisation, lead):
        raise ValidationError({"lead": _("The crisis lead must be a member.")})
    assignees = dict(assignees or {})
    for role, user in assignees.items():
        if role not in CrisisRole.values:
            raise ValidationError({"assignees": _("Unknown crisis role.")})
        if not _member(organisation, user):
            raise ValidationError({"assignees": _("Every assignee must be a member.")})
    if person is None and alert is not None:
        person = alert.person
    if person is None and deployment is not None:
        person = deployment.traveller
    now = timezone.now()
    title = title.strip()[:500] or (
        f"{playbook.title_text} · {alert.code}" if alert is not None else playbook.title_text
    )
    case = CrisisCase.objects.create(
        organisation=organisation,
        kind=playbook.kind,
        playbook=playbook,
        title=title,
        summary=summary[:MAX_TEXT],
        region=region[:120] or organisation.region,
        exact_place=exact_place[:2000],
        alert=alert,
        person=person,
        deployment=deployment,
        lead=lead,
        media_blackout=playbook.media_blackout if media_blackout is None else media_blackout,
        alert_raised_at=alert.raised_at if alert is not None else None,
        opened_at=now,
        seconds_to_open=(
            max(0, int((now - alert.raised_at).total_seconds())) if alert is not None else None
        ),
        opened_by=actor if isinstance(actor, User) else None,
    )
    assignees.setdefault(CrisisRole.LEAD, lead)
    CrisisTask.objects.bulk_create(
        [
            CrisisTask(
                organisation=organisation,
                case=case,
                template=template,
                position=template.position,
                role=template.role,
                due_at=now + timedelta(minutes=template.offset_minutes),
                assignee=assignees.get(template.role, lead),
            )
            for template in playbook.tasks.all()
        ]
    )
    audit.record(
        actor,
        "crisis.opened",
        case,
        details={
            "kind": case.kind,
            "playbook_version": playbook.version,
            "alert": str(alert.pk) if alert is not None else None,
            "media_blackout": case.media_blackout,
        },
    )
    _append(
        actor,
        case,
        TimelineKind.OPENED,
        _("Crisis opened with the playbook “%(title)s”, version %(version)s.")
        % {"title": playbook.title_text, "version": playbook.version},
        at=now,
    )
    if case.media_blackout:
        _append(actor, case, TimelineKind.BLACKOUT, _("Media blackout on."), at=now)
    return case


def _open(case: CrisisCase) -> None:
    if not case.is_open:
        raise ValidationError(_("This crisis is closed."))


@transaction.atomic
def append_to_timeline(actor: Any, case: CrisisCase, text: str) -> TimelineEntry:
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write what happened.")})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": _("That is too long.")})
    case = CrisisCase.objects.select_for_update().get(pk=case.pk)
    _open(case)
    return _append(actor, case, TimelineKind.NOTE, text)


@transaction.atomic
def complete_task(
    actor: Any, task: CrisisTask, *, note: str = "", checked: Iterable[int] | None = None
) -> CrisisTask:
    case = CrisisCase.objects.select_for_update().get(pk=task.case_id)
    _open(case)
    task = CrisisTask.objects.select_for_update().get(pk=task.pk)
    if task.done_at is not None:
        raise ValidationError(_("This task is already done."))
    now = timezone.now()
    size = len(task.template.checklist)
    task.checked = sorted({int(i) for i in (checked or []) if 0 <= int(i) < size})
    task.done_at = now
    task.done_by = actor if isinstance(actor, User) else None
    task.note = note.strip()[:MAX_TEXT]
    task.save(update_fields=["checked", "done_at", "done_by", "note"])
    if case.first_task_done_at is None:
        # Strategy 6, line 1, KPI: time to activate emergency protocols.
        case.first_task_done_at = now
        case.seconds_to_first_task = max(0, int((now - case.opened_at).total_seconds()))
        case.save(update_fields=["first_task_done_at", "seconds_to_first_task"])
    audit.record(
        actor,
        "crisis.task_done",
        task,
        details={"case": str(case.pk), "role": task.role, "late": now > task.due_at},
    )
    _append(
        actor,
        case,
        TimelineKind.TASK_DONE,
        _("Done: %(task)s") % {"task": task.template.title_text}
        + (f"\n{task.note}" if task.note else ""),
        at=now,
    )
    return task


@transaction.atomic
def set_media_blackout(actor: Any, case: CrisisCase, on: bool) -> CrisisCase:
    case = CrisisCase.objects.select_for_update().get(pk=case.pk)
    _open(case)
    if case.media_blackout == on:
        return case
    case.media_blackout = on
    case.save(update_fields=["media_blackout"])
    audit.record(actor, "crisis.media_blackout", case, details={"on": on})
    _append(
        actor,
        case,
        TimelineKind.BLACKOUT,
        _("Media blackout on.") if on else _("Media blackout lifted."),
    )
    return case


# International advocacy (Strategy 6, line 6)


def blocked_by_blackout(case: CrisisCase) -> bool:
    """Reference, "Confidentiality and media": publicity raises the ransom. A case under
    blackout (kidnapping cases start under one) sends nothing outside without an override."""
    return case.media_blackout


@transaction.atomic
def send_advocacy_alert(
    actor: User,
    case: CrisisCase,
    *,
    appeal: str,
    include: Iterable[str] = (),
    recipient_ids: Iterable[Any] = (),
    language: str = "en",
    override_reason: str = "",
) -> AdvocacyAlert:
    """Queue the redacted alert to the chosen partner contacts through the outbox. Under
    a media blackout only the crisis lead may send it, with a written reason (audited);
    anyone else's attempt is recorded as blocked and nothing leaves."""
    case = CrisisCase.objects.select_for_update().get(pk=case.pk)
    _open(case)
    include = sorted(set(include) & set(advocacy.INCLUDABLE))
    if not appeal.strip():
        raise ValidationError({"appeal": _("Write the appeal.")})
    chosen = {str(i) for i in recipient_ids}
    recipients = [e for e in advocacy.partner_contacts(case.organisation) if str(e.pk) in chosen]
    if not recipients:
        raise ValidationError({"recipients": _("Choose at least one partner contact.")})
    body = advocacy.compose(
        case, appeal=appeal, include=include, sender_email=actor.email, language=language
    )
    now = timezone.now()
    override_reason = override_reason.strip()[:MAX_TEXT]
    row = AdvocacyAlert(
        organisation_id=case.organisation_id,
        case=case,
        body=body,
        included=include,
        recipients=[str(e.pk) for e in recipients],
        created_by=actor,
        created_at=now,
    )
    if blocked_by_blackout(case):
        if override_reason and actor.pk != case.lead_id:
            raise ValidationError(
                {"override_reason": _("Only the crisis lead can override the media blackout.")}
            )
        if not override_reason:
            row.state = AdvocacyState.BLOCKED
            row.save()
            audit.record(actor, "crisis.advocacy_blocked", row, details={"case": str(case.pk)})
            return row
        row.override_reason = override_reason
    row.state = AdvocacyState.SENT
    row.save()
    for entry in recipients:
        channel, address = (
            (Channel.EMAIL, entry.email) if entry.email else (Channel.SMS, entry.phone)
        )
        OutboxMessage.objects.create(
            organisation_id=case.organisation_id,
            idempotency_key=f"crisis-advocacy:{row.pk}:{entry.pk}:{channel}",
            channel=channel,
            recipient_label=entry.name[:80],
            address=address,
            body=body,
            language=language,
            next_attempt_at=now,
        )
    if row.override_reason:
        audit.record(
            actor,
            "crisis.blackout_override",
            row,
            details={"case": str(case.pk), "reason_chars": len(row.override_reason)},
        )
        _append(
            actor,
            case,
            TimelineKind.OVERRIDE,
            _("Media blackout overridden for an advocacy alert: %(reason)s")
            % {"reason": row.override_reason},
            at=now,
        )
    audit.record(
        actor,
        "crisis.advocacy_sent",
        row,
        details={"case": str(case.pk), "recipients": len(recipients), "included": include},
    )
    _append(
        actor,
        case,
        TimelineKind.ADVOCACY,
        _("Advocacy alert queued to %(n)s partner contacts.") % {"n": len(recipients)},
        at=now,
    )
    return row


# After-action review (Strategy 6, line 5)


@transaction.atomic
def file_review(
    actor: Any,
    case: CrisisCase,
    *,
    what_worked: str,
    what_failed: str,
    lessons: str,
    protocol_changes: str = "",
    continuity_status: str = ContinuityStatus.NONE,
) -> AfterActionReview:
    """Filing the review closes the case."""
    case = CrisisCase.objects.select_for_update().get(pk=case.pk)
    _open(case)
    if continuity_status not in ContinuityStatus.values:
        raise ValidationError({"continuity_status": _("Unknown continuity plan status.")})
    errors = {}
    for field, value in (
        ("what_worked", what_worked),
        ("what_failed", what_failed),
        ("lessons", lessons),
    ):
        if not value.strip():
            errors[field] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    review = AfterActionReview.objects.create(
        organisation_id=case.organisation_id,
        case=case,
        what_worked=what_worked.strip()[:MAX_TEXT],
        what_failed=what_failed.strip()[:MAX_TEXT],
        lessons=lessons.strip()[:MAX_TEXT],
        protocol_changes=protocol_changes.strip()[:MAX_TEXT],
        continuity_status=continuity_status,
        filed_by=actor if isinstance(actor, User) else None,
        filed_at=now,
    )
    case.state = CaseState.CLOSED
    case.closed_at = now
    case.save(update_fields=["state", "closed_at"])
    audit.record(
        actor,
        "crisis.review_filed",
        review,
        details={"case": str(case.pk), "continuity_status": continuity_status},
    )
    _append(actor, case, TimelineKind.REVIEW, _("After-action review filed; case closed."), at=now)
    return review
