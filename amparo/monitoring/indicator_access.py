"""Reads of the indicators dashboard and the public reports (DESIGN.md section 7). Tenancy
first, then role, one condition per line; any failure is the same 404. (The map, hotspots
and imports have theirs in ``monitoring.access``.)

- The indicators dashboard, the public-report preview and drafts: the security
  coordinator and the administrator of the organisation (DESIGN.md section 1: the
  coordinator triages incidents and manages cases). Every other member gets 404.
- A published public report (reference Strategy 4, line 4): anyone, without an account,
  through the organisation's short name; one not published, or of another organisation,
  is 404.
"""

from __future__ import annotations

from typing import Any

from amparo.core.access import not_found
from amparo.monitoring.models import PublicReport
from amparo.people.access import OrgContext, _uuid
from amparo.people.models import Organisation, Role

INDICATOR_READERS = frozenset({Role.COORDINATOR, Role.ADMIN})


def can_read_indicators(ctx: OrgContext) -> bool:
    return ctx.has_any(INDICATOR_READERS)


def require_indicators(ctx: OrgContext) -> None:
    if not can_read_indicators(ctx):
        not_found()


def access_public_report_by_id(ctx: OrgContext, report_id: Any) -> PublicReport:
    require_indicators(ctx)
    report = PublicReport.objects.filter(pk=_uuid(report_id)).first()
    if report is None:
        not_found()
    if report.organisation_id != ctx.organisation.pk:
        not_found()
    return report


def public_organisation(slug: str) -> Organisation:
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        not_found()
    return organisation


def access_published_report(slug: str, report_id: Any) -> PublicReport:
    organisation = public_organisation(slug)
    report = PublicReport.objects.filter(pk=_uuid(report_id)).first()
    if report is None:
        not_found()
    if report.organisation_id != organisation.pk:
        not_found()
    if report.published_at is None:
        not_found()
    return report
