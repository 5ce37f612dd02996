"""Reads of relocations (DESIGN.md section 7: "Safe-house locations and relocated people
are visible to the security coordinator of that organisation only"). Tenancy first, then
role, one condition per line; any failure is the same 404 as a missing record.

- The organisation's security coordinators see, request, decide, move and cost every
  relocation of their organisation.
- A supervisor may ask for one of their own staff (a person whose supervisor is their
  profile) to be relocated: they know the danger first (reference, Section 1, Step 2:
  threats are documented to the supervisor). Once sent, the request is the
  coordinator's: the supervisor cannot open it or any other relocation.
- Everyone else, administrators included, sees nothing; a person's page may show
  ``relocation_status_label``, which says "Relocated" and nothing more.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from amparo.core.access import not_found
from amparo.people.access import SAFE_HOUSE_READERS, OrgContext, _uuid, own_profile
from amparo.people.models import Person, Role
from amparo.protocols.models import (
    CommunityProtocol,
    ComplianceCheck,
    Drill,
    EvacuationPlan,
    InstitutionalPolicy,
    ProtocolVersion,
    RelocationCost,
    RelocationRequest,
    RelocationStatus,
)

# The same readers as safe houses: the two answer "where is this person now".
RELOCATION_MANAGERS = SAFE_HOUSE_READERS
RELOCATION_REQUESTERS = frozenset({Role.SUPERVISOR})


def can_manage_relocations(ctx: OrgContext) -> bool:
    return ctx.has_any(RELOCATION_MANAGERS)


def require_manager(ctx: OrgContext) -> None:
    if not can_manage_relocations(ctx):
        not_found()


def people_to_relocate(ctx: OrgContext) -> QuerySet[Person]:
    """Whom this user may ask to relocate: anyone of the organisation for a coordinator,
    their own staff for a supervisor, nobody for anyone else."""
    people = Person.objects.filter(organisation=ctx.organisation, archived_at__isnull=True)
    if can_manage_relocations(ctx):
        return people
    if not ctx.has_any(RELOCATION_REQUESTERS):
        return people.none()
    profile = own_profile(ctx)
    if profile is None:
        return people.none()
    return people.filter(supervisor=profile)


def require_requester(ctx: OrgContext) -> None:
    if not people_to_relocate(ctx).exists():
        not_found()


def relocations_visible_to(ctx: OrgContext) -> QuerySet[RelocationRequest]:
    if not can_manage_relocations(ctx):
        return RelocationRequest.objects.none()
    return RelocationRequest.objects.filter(organisation=ctx.organisation)


def access_relocation_by_id(ctx: OrgContext, relocation_id: Any) -> RelocationRequest:
    relocation = (
        RelocationRequest.objects.select_related("person", "safe_house")
        .filter(pk=_uuid(relocation_id))
        .first()
    )
    if relocation is None:
        not_found()
    if relocation.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_manage_relocations(ctx):
        not_found()
    return relocation


def costs_visible_to(ctx: OrgContext) -> QuerySet[RelocationCost]:
    if not can_manage_relocations(ctx):
        return RelocationCost.objects.none()
    return RelocationCost.objects.filter(organisation=ctx.organisation)


def relocation_status_label(ctx: OrgContext, person: Person) -> str:
    """What anyone who may see ``person`` learns of a relocation: "Relocated" while they
    are away, else "". Never where, since when, or why (reference, Strategy 6, line 3:
    "Protect the identities and locations of relocated defenders")."""
    if person.organisation_id != ctx.organisation.pk:
        return ""
    away = RelocationRequest.objects.filter(
        organisation=ctx.organisation, person=person, status=RelocationStatus.RELOCATED
    ).exists()
    return _("Relocated") if away else ""


# Community protocols, evacuation plans and drills, and the institutional policy (issue
# 8, points 1-3). Tenancy first, then role, one condition per line, the same 404 for all.
#
# - Security coordinators and administrators write all of them.
# - Every member but a partner reads the community protocols, their versions and the
#   printable card: a defender needs the alert codes and emergency numbers in their
#   pocket (reference, Strategy 2, line 1: "laminated copies for daily use"). Partners
#   are allied organisations that receive shared alerts and anonymised data (DESIGN.md
#   section 1); a community's codes and contacts are not shared with them unasked.
# - Evacuation plan details (routes, transport, shelters, contacts, provisions) and drill
#   observations are for coordinators, focal points (the community monitors who lead an
#   evacuation on the ground) and administrators. Other members (partners excepted) see
#   the summary: name, status, coordinating bodies, the counts of children, elderly and
#   people with disabilities, and the drill figures.
# - The institutional policy (manual, risk plan date, digital standards, chain of
#   command) is read by every member but a partner: staff must know their part in an
#   emergency (reference, Strategy 3, line 3: "staff responsibilities"). The findings of
#   compliance checks are for coordinators and administrators; others see date and status.

PROTOCOL_WRITERS = frozenset({Role.COORDINATOR, Role.ADMIN})
PROTOCOL_READERS = frozenset(Role) - {Role.PARTNER}
EVACUATION_DETAIL_READERS = frozenset({Role.COORDINATOR, Role.FOCAL_POINT, Role.ADMIN})


def can_write_protocols(ctx: OrgContext) -> bool:
    return ctx.has_any(PROTOCOL_WRITERS)


def can_read_protocols(ctx: OrgContext) -> bool:
    return ctx.has_any(PROTOCOL_READERS)


def can_read_evacuation_details(ctx: OrgContext) -> bool:
    return ctx.has_any(EVACUATION_DETAIL_READERS)


def require_protocol_writer(ctx: OrgContext) -> None:
    if not can_write_protocols(ctx):
        not_found()


def require_protocol_reader(ctx: OrgContext) -> None:
    if not can_read_protocols(ctx):
        not_found()


def community_protocols_visible_to(ctx: OrgContext) -> QuerySet[CommunityProtocol]:
    if not can_read_protocols(ctx):
        return CommunityProtocol.objects.none()
    return CommunityProtocol.objects.filter(organisation=ctx.organisation)


def access_protocol_by_id(ctx: OrgContext, protocol_id: Any) -> CommunityProtocol:
    protocol = CommunityProtocol.objects.filter(pk=_uuid(protocol_id)).first()
    if protocol is None:
        not_found()
    if protocol.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_read_protocols(ctx):
        not_found()
    return protocol


def access_protocol_version(
    ctx: OrgContext, protocol_id: Any, number: int | None = None
) -> ProtocolVersion:
    """A version of a protocol the user may read; the current one without ``number``."""
    protocol = access_protocol_by_id(ctx, protocol_id)
    version = (
        ProtocolVersion.objects.filter(
            protocol=protocol, number=protocol.current_version if number is None else number
        )
        .select_related("protocol")
        .first()
    )
    if version is None:
        not_found()
    return version


def evacuation_plans_visible_to(ctx: OrgContext) -> QuerySet[EvacuationPlan]:
    """Summaries for every reader; the sealed fields are shown only where
    ``can_read_evacuation_details`` says so."""
    if not can_read_protocols(ctx):
        return EvacuationPlan.objects.none()
    return EvacuationPlan.objects.filter(organisation=ctx.organisation)


def access_evacuation_plan_by_id(ctx: OrgContext, plan_id: Any) -> EvacuationPlan:
    plan = EvacuationPlan.objects.filter(pk=_uuid(plan_id)).first()
    if plan is None:
        not_found()
    if plan.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_read_protocols(ctx):
        not_found()
    return plan


def drills_visible_to(ctx: OrgContext) -> QuerySet[Drill]:
    if not can_read_protocols(ctx):
        return Drill.objects.none()
    return Drill.objects.filter(organisation=ctx.organisation)


def access_drill_by_id(ctx: OrgContext, drill_id: Any) -> Drill:
    drill = Drill.objects.filter(pk=_uuid(drill_id)).first()
    if drill is None:
        not_found()
    if drill.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_read_protocols(ctx):
        not_found()
    return drill


def institutional_policy_of(ctx: OrgContext) -> InstitutionalPolicy | None:
    require_protocol_reader(ctx)
    return InstitutionalPolicy.objects.filter(organisation=ctx.organisation).first()


def compliance_checks_visible_to(ctx: OrgContext) -> QuerySet[ComplianceCheck]:
    """Dates and statuses for every reader; the findings for writers only."""
    if not can_read_protocols(ctx):
        return ComplianceCheck.objects.none()
    return ComplianceCheck.objects.filter(organisation=ctx.organisation)


def access_compliance_check_by_id(ctx: OrgContext, check_id: Any) -> ComplianceCheck:
    check = ComplianceCheck.objects.filter(pk=_uuid(check_id)).first()
    if check is None:
        not_found()
    if check.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_write_protocols(ctx):
        not_found()
    return check
