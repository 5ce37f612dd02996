"""Crisis cases over the API (issue 6, point 7; ``/api/v1/crisis``): list, open and get
cases; list and complete tasks; read and append to the timeline.

Reads go through ``crisis.access`` and writes through ``crisis.actions`` (audited there).
Anything one may not see or do is the same 404 as a missing case. What goes out: kinds,
states, roles, times, the blackout flag and task titles from the playbook; the case's
title and timeline only to those who may see the case."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status as WithStatus

from amparo.alerts import access as alerts_access
from amparo.core.access import not_found
from amparo.crisis import access, actions
from amparo.crisis.models import CrisisCase, CrisisKind, CrisisTask, TimelineEntry
from amparo.people import access as people_access
from amparo.people.access import OrgContext

router = Router(tags=["crisis"])


class CrisisCaseIn(Schema):
    organisation: str = Field(..., description="the organisation's short name (slug)")
    kind: str = Field(..., description=", ".join(CrisisKind.values))
    title: str = Field("", max_length=500)
    summary: str = Field("", max_length=20000, description="sealed")
    region: str = Field("", max_length=120)
    alert_id: UUID | None = Field(None, description="open the crisis from this alert")
    person_id: UUID | None = None


class TaskDoneIn(Schema):
    note: str = Field("", max_length=20000)
    checked: list[int] = Field(default_factory=list, description="checklist items done")


class TimelineIn(Schema):
    text: str = Field(..., min_length=1, max_length=20000)


class Error(Schema):
    detail: Any


class CrisisCaseOut(Schema):
    id: UUID
    organisation: str
    kind: str
    title: str
    state: str
    media_blackout: bool
    playbook_version: int
    alert_id: UUID | None
    alert_raised_at: datetime | None
    opened_at: datetime
    first_task_done_at: datetime | None
    seconds_to_open: int | None
    seconds_to_first_task: int | None
    closed_at: datetime | None

    @staticmethod
    def resolve_organisation(case: CrisisCase) -> str:
        return case.organisation.slug

    @staticmethod
    def resolve_playbook_version(case: CrisisCase) -> int:
        return case.playbook.version


class TaskOut(Schema):
    id: UUID
    position: int
    role: str
    title: str
    guidance: str
    checklist: list[str]
    checked: list[int]
    contact_categories: list[str]
    due_at: datetime
    assignee: str | None
    done_at: datetime | None

    @staticmethod
    def resolve_title(task: CrisisTask) -> str:
        return task.template.title_text

    @staticmethod
    def resolve_guidance(task: CrisisTask) -> str:
        return task.template.guidance_text

    @staticmethod
    def resolve_checklist(task: CrisisTask) -> list[str]:
        return task.template.checklist_text()

    @staticmethod
    def resolve_contact_categories(task: CrisisTask) -> list[str]:
        return list(task.template.contact_categories)

    @staticmethod
    def resolve_assignee(task: CrisisTask) -> str | None:
        return task.assignee.email if task.assignee is not None else None


class TimelineOut(Schema):
    seq: int
    at: datetime
    kind: str
    author: str | None
    text: str

    @staticmethod
    def resolve_author(entry: TimelineEntry) -> str | None:
        return entry.author.email if entry.author is not None else None


def _ctx(request: HttpRequest, slug: str) -> OrgContext:
    return people_access.access_organisation_by_slug(request.user, slug)


def _find(request: HttpRequest, case_id: UUID) -> tuple[OrgContext, CrisisCase]:
    """A case by id, seen through whichever of the user's organisations may see it."""
    for organisation in people_access.organisations_of(request.user):
        ctx = _ctx(request, organisation.slug)
        if access.cases_visible_to(ctx).filter(pk=case_id).exists():
            return ctx, access.access_case_by_id(ctx, case_id)
    not_found()


@router.get("/cases", response={200: list[CrisisCaseOut], 404: Error})
def list_cases(
    request: HttpRequest, organisation: str, state: str = "", limit: int = 100
) -> list[CrisisCase]:
    ctx = _ctx(request, organisation)
    cases = access.cases_visible_to(ctx).select_related("organisation", "playbook")
    if state:
        cases = cases.filter(state=state)
    return list(cases[: max(1, min(limit, 500))])


@router.post("/cases", response={201: CrisisCaseOut, 404: Error, 422: Error})
def open_case(request: HttpRequest, payload: CrisisCaseIn) -> WithStatus[CrisisCase]:
    ctx = _ctx(request, payload.organisation)
    access.require_manager(ctx)
    alert = None
    if payload.alert_id is not None:
        alert = alerts_access.access_alert_by_id(ctx, payload.alert_id)
        people_access.require(ctx, alerts_access.is_own_alert(ctx, alert))
    person = None
    if payload.person_id is not None:
        person = people_access.access_person_by_id(ctx, payload.person_id)
    case = actions.open_crisis(
        request.user,
        ctx.organisation,
        payload.kind,
        alert=alert,
        person=person,
        title=payload.title,
        summary=payload.summary,
        region=payload.region,
    )
    return WithStatus(201, case)


@router.get("/cases/{case_id}", response={200: CrisisCaseOut, 404: Error})
def get_case(request: HttpRequest, case_id: UUID) -> CrisisCase:
    return _find(request, case_id)[1]


@router.get("/cases/{case_id}/tasks", response={200: list[TaskOut], 404: Error})
def list_tasks(request: HttpRequest, case_id: UUID) -> list[CrisisTask]:
    _ctx_, case = _find(request, case_id)
    return list(case.tasks.select_related("template", "assignee"))


@router.post(
    "/cases/{case_id}/tasks/{task_id}/complete",
    response={200: TaskOut, 404: Error, 422: Error},
)
def complete_task(
    request: HttpRequest, case_id: UUID, task_id: UUID, payload: TaskDoneIn
) -> CrisisTask:
    ctx, case = _find(request, case_id)
    task = access.access_task_to_complete(ctx, case, task_id)
    actions.complete_task(request.user, task, note=payload.note, checked=payload.checked)
    return CrisisTask.objects.select_related("template", "assignee").get(pk=task.pk)


@router.get("/cases/{case_id}/timeline", response={200: list[TimelineOut], 404: Error})
def list_timeline(request: HttpRequest, case_id: UUID) -> list[TimelineEntry]:
    _ctx_, case = _find(request, case_id)
    return list(case.timeline.select_related("author"))


@router.post("/cases/{case_id}/timeline", response={201: TimelineOut, 404: Error, 422: Error})
def append_timeline(
    request: HttpRequest, case_id: UUID, payload: TimelineIn
) -> WithStatus[TimelineEntry]:
    _ctx_, case = _find(request, case_id)
    return WithStatus(201, actions.append_to_timeline(request.user, case, payload.text))
