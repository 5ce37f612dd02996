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
from amparo.protocols.models import RelocationCost, RelocationRequest, RelocationStatus

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
