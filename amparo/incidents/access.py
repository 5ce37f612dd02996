"""Reads of threat reports. Tenancy first, then role, one condition per line; any
failure is the same 404 (DESIGN.md section 7).

- Case managers (coordinator, admin) see every report of the organisation, change its
  level and status, and download evidence and dossiers.
- Case readers (also supervisors and lawyers) see every report and its evidence; a
  supervisor and a lawyer can download the dossier, as the complaint is often theirs.
- Anyone else sees the reports they filed and the reports about them (their own
  profile), as guidance: the checklist in their language, never other people's cases.
- Anonymous reporters see a status by receipt code, nothing else.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from amparo.core.access import not_found
from amparo.core.db.loader import Loader
from amparo.incidents.models import ChecklistItem, EvidenceFile, Owner, ThreatReport
from amparo.people.access import OrgContext, _uuid, own_profile
from amparo.people.models import Person, Role

CASE_MANAGERS = frozenset({Role.COORDINATOR, Role.ADMIN})
SUPERVISORS = frozenset({Role.SUPERVISOR})
LAWYERS = frozenset({Role.LAWYER})
# Case readers read the whole record of the reports they see (reports_visible_to):
# managers every report; supervisors and lawyers only those they need to know.
CASE_READERS = CASE_MANAGERS | SUPERVISORS | LAWYERS
# Who may file a report for someone else (reference: community focal points report).
REPORT_FOR_OTHERS = CASE_MANAGERS | frozenset({Role.FOCAL_POINT, Role.SUPERVISOR})


def can_manage_cases(ctx: OrgContext) -> bool:
    return ctx.has_any(CASE_MANAGERS)


def can_read_cases(ctx: OrgContext) -> bool:
    return ctx.has_any(CASE_READERS)


def can_report_for_others(ctx: OrgContext) -> bool:
    return ctx.has_any(REPORT_FOR_OTHERS)


def reports_visible_to(ctx: OrgContext) -> QuerySet[ThreatReport]:
    """Case managers see every report of the organisation. Anyone else sees the reports
    they filed or that are about them, and, by DESIGN.md section 1 (need to know): a
    supervisor, the reports about the staff they supervise (they receive the Step 2
    documentation of threats against their staff); a lawyer, the reports of the legal
    cases assigned to them (the case's report, or any report about the person it
    accompanies). What a reader may do with a report they see is ``can_read_cases``."""
    reports = ThreatReport.objects.filter(organisation=ctx.organisation)
    if can_manage_cases(ctx):
        return reports
    own = Q(reported_by=ctx.user)
    profile = own_profile(ctx)
    if profile is not None:
        own |= Q(person=profile)
        if ctx.has_any(SUPERVISORS):
            own |= Q(person__supervisor=profile)
    if ctx.has_any(LAWYERS):
        from django.apps import apps

        legal_case = apps.get_model("programmes", "LegalCase")
        assigned = legal_case.objects.filter(organisation=ctx.organisation, lawyer=ctx.user)
        own |= Q(pk__in=assigned.exclude(threat_report=None).values("threat_report"))
        own |= Q(person__in=assigned.exclude(person=None).values("person"))
    return reports.filter(own)


def access_report_by_id(ctx: OrgContext, report_id: Any) -> ThreatReport:
    report = (
        ThreatReport.objects.select_related("organisation", "person")
        .filter(pk=_uuid(report_id))
        .first()
    )
    if report is None:
        not_found()
    if report.organisation_id != ctx.organisation.pk:
        not_found()
    if not reports_visible_to(ctx).filter(pk=report.pk).exists():
        not_found()
    return report


def access_report_to_manage(ctx: OrgContext, report_id: Any) -> ThreatReport:
    report = access_report_by_id(ctx, report_id)
    if not can_manage_cases(ctx):
        not_found()
    return report


def access_item_by_id(ctx: OrgContext, report: ThreatReport, item_id: Any) -> ChecklistItem:
    """An item of a report the user can see. Case managers tick any item; the person a
    report is about (or who filed it) ticks their own guidance items."""
    item = ChecklistItem.objects.filter(pk=_uuid(item_id)).select_related("report").first()
    if item is None:
        not_found()
    if item.report_id != report.pk:
        not_found()
    if item.organisation_id != ctx.organisation.pk:
        not_found()
    return item


# Items the person threatened (or who filed the report) ticks themselves.
OWN_ITEM_OWNERS = frozenset({Owner.REPORTER, Owner.RELATIVES})


def is_own_report(ctx: OrgContext, report: ThreatReport) -> bool:
    """Filed by this user, or about their own profile."""
    if report.reported_by_id is not None and report.reported_by_id == ctx.user.pk:
        return True
    profile = own_profile(ctx)
    return profile is not None and report.person_id == profile.pk


def may_read_record(ctx: OrgContext, report: ThreatReport) -> bool:
    """The sealed Step 2 record: case readers, and the person who filed the report or
    whom it is about (their own case)."""
    return can_read_cases(ctx) or is_own_report(ctx, report)


def may_read_notes(ctx: OrgContext, report: ThreatReport, owner: str) -> bool:
    """A checklist item's notes: case readers, and whoever may tick the item. The notes
    on the coordinator's and the supervisor's items stay with them."""
    return can_read_cases(ctx) or may_update_item(ctx, report, owner)


def may_update_item(ctx: OrgContext, report: ThreatReport, owner: str) -> bool:
    """Case managers tick any item; the person a report is about, or who filed it, ticks
    the guidance meant for them (their own and their relatives' items)."""
    if can_manage_cases(ctx):
        return True
    if owner not in OWN_ITEM_OWNERS:
        return False
    return is_own_report(ctx, report)


def access_evidence_by_id(ctx: OrgContext, report: ThreatReport, evidence_id: Any) -> EvidenceFile:
    evidence = EvidenceFile.objects.filter(pk=_uuid(evidence_id)).first()
    if evidence is None:
        not_found()
    if evidence.report_id != report.pk:
        not_found()
    if evidence.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_read_cases(ctx):
        not_found()
    return evidence


def access_dossier(ctx: OrgContext, report_id: Any) -> ThreatReport:
    report = access_report_by_id(ctx, report_id)
    if not can_read_cases(ctx):
        not_found()
    return report


_PEOPLE = Loader(Person, ["supervisor"])


def access_person_for_report(ctx: OrgContext, person_id: Any) -> Person:
    """The person a report is filed about: oneself, or (focal points, coordinators,
    supervisors) anyone of the organisation. Read with the supervisor, whom the report
    tells (Step 2), in SQL written once (amparo/core/db/loader.py)."""
    person = _PEOPLE.first(
        "t0.id = %s AND t0.archived_at IS NULL", [_PEOPLE.param("id", _uuid(person_id))]
    )
    if person is None:
        not_found()
    if person.organisation_id != ctx.organisation.pk:
        not_found()
    if can_report_for_others(ctx):
        return person
    if own_profile(ctx) != person:
        not_found()
    return person


def access_plan_person(ctx: OrgContext, person_id: Any) -> Person:
    """Whose security plan one may read and edit: one's own; case managers anyone's; a
    supervisor the plans of the people they supervise (the plan holds routes,
    schedules and housing)."""
    person = Person.objects.filter(pk=_uuid(person_id), archived_at__isnull=True).first()
    if person is None:
        not_found()
    if person.organisation_id != ctx.organisation.pk:
        not_found()
    if can_manage_cases(ctx):
        return person
    profile = own_profile(ctx)
    if profile is None:
        not_found()
    if person.pk == profile.pk:
        return person
    if not ctx.has_any(frozenset({Role.SUPERVISOR})):
        not_found()
    if person.supervisor_id != profile.pk:
        not_found()
    return person


def status_by_receipt(receipt: str) -> dict[str, Any] | None:
    """What a receipt code reveals: the status and level, and when the report was
    received. Never the content, the organisation's people or the evidence."""
    from amparo.incidents.actions import normalise_receipt

    code = normalise_receipt(receipt)
    if not code:
        return None
    row = (
        ThreatReport.objects.filter(receipt=code)
        .values("receipt", "status", "level", "created_at", "updated_at")
        .first()
    )
    return dict(row) if row is not None else None
