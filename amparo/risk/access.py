"""Reads of risk assessments. Tenancy first, then role, one condition per line; any
failure is the same 404 (DESIGN.md section 7).

Who sees what (conservative: an assessment names a person's weak points):
- Risk managers (security coordinator, administrator) read and write every subject and
  assessment of the organisation (DESIGN.md section 1: the coordinator assesses risk).
- A person with an account reads the assessments of which they are the subject, and
  nothing else; they change nothing.
- Everyone else (supervisors, focal points, signatories, lawyers, psychologists,
  partners, defenders who are not the subject) sees nothing: 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from amparo.core.access import not_found
from amparo.people.access import OrgContext, _uuid
from amparo.people.models import Role
from amparo.risk.models import MitigationAction, RiskAssessment, RiskSubject, SubjectKind

RISK_MANAGERS = frozenset({Role.COORDINATOR, Role.ADMIN})


def can_manage_risk(ctx: OrgContext) -> bool:
    return ctx.has_any(RISK_MANAGERS)


def require_manager(ctx: OrgContext) -> None:
    if not can_manage_risk(ctx):
        not_found()


def subjects_visible_to(ctx: OrgContext) -> QuerySet[RiskSubject]:
    subjects = RiskSubject.objects.filter(organisation=ctx.organisation, archived_at__isnull=True)
    if can_manage_risk(ctx):
        return subjects
    return subjects.filter(kind=SubjectKind.PERSON, person__user=ctx.user)


def access_subject_by_id(ctx: OrgContext, subject_id: Any) -> RiskSubject:
    subject = (
        RiskSubject.objects.select_related("organisation", "person")
        .filter(pk=_uuid(subject_id))
        .first()
    )
    if subject is None:
        not_found()
    if subject.organisation_id != ctx.organisation.pk:
        not_found()
    if subject.archived_at is not None:
        not_found()
    if not subjects_visible_to(ctx).filter(pk=subject.pk).exists():
        not_found()
    return subject


def access_subject_to_manage(ctx: OrgContext, subject_id: Any) -> RiskSubject:
    subject = access_subject_by_id(ctx, subject_id)
    if not can_manage_risk(ctx):
        not_found()
    return subject


def access_assessment_by_id(ctx: OrgContext, assessment_id: Any) -> RiskAssessment:
    assessment = (
        RiskAssessment.objects.select_related("subject", "subject__person", "organisation")
        .filter(pk=_uuid(assessment_id))
        .first()
    )
    if assessment is None:
        not_found()
    if assessment.organisation_id != ctx.organisation.pk:
        not_found()
    if not subjects_visible_to(ctx).filter(pk=assessment.subject_id).exists():
        not_found()
    return assessment


def access_assessment_to_manage(ctx: OrgContext, assessment_id: Any) -> RiskAssessment:
    assessment = access_assessment_by_id(ctx, assessment_id)
    if not can_manage_risk(ctx):
        not_found()
    return assessment


def access_action_to_manage(ctx: OrgContext, action_id: Any) -> MitigationAction:
    action = (
        MitigationAction.objects.select_related("assessment").filter(pk=_uuid(action_id)).first()
    )
    if action is None:
        not_found()
    if action.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_manage_risk(ctx):
        not_found()
    access_assessment_by_id(ctx, action.assessment_id)
    return action


def with_latest(subjects: QuerySet[RiskSubject]) -> QuerySet[RiskSubject]:
    """Each subject with its latest assessment's level, flag and date."""
    latest = RiskAssessment.objects.filter(subject=OuterRef("pk")).order_by(
        "-assessed_on", "-created_at"
    )
    return subjects.annotate(
        latest_level=Subquery(latest.values("level")[:1]),
        latest_flag=Subquery(latest.values("serious_and_imminent")[:1]),
        latest_on=Subquery(latest.values("assessed_on")[:1]),
    )
