"""Reads of crisis cases. Tenancy first, then role, one condition per line; any failure
is the same 404 (DESIGN.md section 7).

- Case managers (security coordinator, admin) see and run every case of the organisation,
  its playbooks, its advocacy alerts and its review.
- A member who is assigned a task of a case sees that case: its tasks, timeline and
  contacts (but not the next of kin), completes their own tasks and adds notes.
- Anyone else sees nothing.
- Next of kin of deployed staff: the crisis lead and the case managers only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from amparo.core.access import not_found
from amparo.crisis.models import AfterActionReview, CrisisCase, CrisisTask, Playbook
from amparo.people.access import OrgContext, _uuid
from amparo.people.models import Role

CASE_MANAGERS = frozenset({Role.COORDINATOR, Role.ADMIN})


def can_manage_cases(ctx: OrgContext) -> bool:
    return ctx.has_any(CASE_MANAGERS)


def cases_visible_to(ctx: OrgContext) -> QuerySet[CrisisCase]:
    cases = CrisisCase.objects.filter(organisation=ctx.organisation)
    if can_manage_cases(ctx):
        return cases
    return cases.filter(tasks__assignee=ctx.user).distinct()


def access_case_by_id(ctx: OrgContext, case_id: Any) -> CrisisCase:
    case = (
        CrisisCase.objects.select_related("organisation", "playbook", "alert", "person", "lead")
        .filter(pk=_uuid(case_id))
        .first()
    )
    if case is None:
        not_found()
    if case.organisation_id != ctx.organisation.pk:
        not_found()
    if not cases_visible_to(ctx).filter(pk=case.pk).exists():
        not_found()
    return case


def access_case_to_manage(ctx: OrgContext, case_id: Any) -> CrisisCase:
    case = access_case_by_id(ctx, case_id)
    if not can_manage_cases(ctx):
        not_found()
    return case


def access_task_to_complete(ctx: OrgContext, case: CrisisCase, task_id: Any) -> CrisisTask:
    """The task's assignee, or a case manager."""
    task = CrisisTask.objects.select_related("template").filter(pk=_uuid(task_id)).first()
    if task is None:
        not_found()
    if task.organisation_id != ctx.organisation.pk:
        not_found()
    if task.case_id != case.pk:
        not_found()
    if can_manage_cases(ctx):
        return task
    if task.assignee_id is not None and task.assignee_id == ctx.user.pk:
        return task
    not_found()


def can_see_next_of_kin(ctx: OrgContext, case: CrisisCase) -> bool:
    """Next of kin are sealed relatives' contacts: the crisis lead and the coordinators."""
    if case.organisation_id != ctx.organisation.pk:
        return False
    if can_manage_cases(ctx):
        return True
    return case.lead_id == ctx.user.pk


def access_playbook_by_id(ctx: OrgContext, playbook_id: Any) -> Playbook:
    playbook = Playbook.objects.filter(pk=_uuid(playbook_id)).first()
    if playbook is None:
        not_found()
    if playbook.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_manage_cases(ctx):
        not_found()
    return playbook


def require_manager(ctx: OrgContext) -> None:
    if not can_manage_cases(ctx):
        not_found()


def lessons_visible_to(ctx: OrgContext) -> QuerySet[AfterActionReview]:
    """Strategy 6, line 5 ("institutional learning"): every member reads the lessons and
    protocol changes of the organisation's reviews (not the case or the person)."""
    if not ctx.roles:
        return AfterActionReview.objects.none()
    return AfterActionReview.objects.filter(organisation=ctx.organisation).select_related("case")
