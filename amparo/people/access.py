"""Reads of protected people records (DESIGN.md section 7). Each function fetches by id
and checks tenancy, then role, one condition per line; any failure is the same 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import connections, router
from django.db.models import QuerySet

from amparo.core.access import not_found
from amparo.core.db.loader import Loader
from amparo.people.models import (
    DirectoryEntry,
    Membership,
    Organisation,
    Person,
    Role,
    SafeHouse,
)

# Who may read whose records.
PEOPLE_READERS = frozenset(
    {Role.COORDINATOR, Role.ADMIN, Role.SUPERVISOR, Role.FOCAL_POINT, Role.SIGNATORY}
)
PEOPLE_EDITORS = frozenset({Role.COORDINATOR, Role.ADMIN})
DIRECTORY_EDITORS = frozenset({Role.COORDINATOR, Role.ADMIN, Role.FOCAL_POINT})
# Reference Strategy 6 and DESIGN.md 7: safe houses are for the security coordinator only.
SAFE_HOUSE_READERS = frozenset({Role.COORDINATOR})
MEMBER_MANAGERS = frozenset({Role.COORDINATOR, Role.ADMIN})
# Every member reads the directory: it is where a defender finds help.
DIRECTORY_READERS = frozenset(Role)


@dataclass(frozen=True)
class OrgContext:
    """An organisation as seen by one user: who they are there."""

    organisation: Organisation
    user: Any
    roles: frozenset[str]

    @property
    def role_labels(self) -> list[str]:
        return sorted(str(Role(role).label) for role in self.roles)

    def has_any(self, roles: frozenset[str]) -> bool:
        return bool(self.roles & roles)

    @property
    def can_read_people(self) -> bool:
        return self.has_any(PEOPLE_READERS)

    @property
    def can_edit_people(self) -> bool:
        return self.has_any(PEOPLE_EDITORS)

    @property
    def can_edit_directory(self) -> bool:
        return self.has_any(DIRECTORY_EDITORS)

    @property
    def can_see_safe_houses(self) -> bool:
        return self.has_any(SAFE_HOUSE_READERS)

    @property
    def can_manage_members(self) -> bool:
        return self.has_any(MEMBER_MANAGERS)


def organisations_of(user: Any) -> QuerySet[Organisation]:
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(memberships__user=user).distinct()


# Most API requests name their organisation: SQL written once (amparo/core/db/loader.py),
# the organisation and the user's roles in it read together.
_MEMBERSHIPS = Loader(Membership, ["organisation"])


def access_organisation_by_slug(user: Any, slug: str) -> OrgContext:
    """The user's context in the organisation with that slug: not found (404) both when
    there is no such organisation and when the user is not a member of it."""
    if not user.is_authenticated:
        not_found()
    memberships = _MEMBERSHIPS.all(
        "t1.slug = %s AND t0.user_id = %s", [slug, _MEMBERSHIPS.param("user", user.pk)]
    )
    if not memberships:
        not_found()
    return OrgContext(
        organisation=memberships[0].organisation,
        user=user,
        roles=frozenset(m.role for m in memberships),
    )


def access_organisation(user: Any, organisation: Organisation) -> OrgContext:
    """The user's context in an organisation already loaded (e.g. with the object that
    names it): the same membership check as by slug, one query fewer."""
    if not user.is_authenticated:
        not_found()
    roles = _roles(user, organisation)
    if not roles:
        not_found()
    return OrgContext(organisation=organisation, user=user, roles=roles)


def _roles(user: Any, organisation: Organisation) -> frozenset[str]:
    """The user's roles in the organisation. Every protected request asks: in plain SQL,
    since compiling the QuerySet cost ten times running it (amparo/core/db/loader.py)."""
    connection = connections[router.db_for_read(Membership)]
    meta = Membership._meta
    quote = connection.ops.quote_name
    user_field, org_field = meta.get_field("user"), meta.get_field("organisation")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('role')} FROM {quote(meta.db_table)} "  # noqa: S608 - model names
            f"WHERE {quote(user_field.column)} = %s AND {quote(org_field.column)} = %s",
            [
                user_field.get_db_prep_value(user.pk, connection),
                org_field.get_db_prep_value(organisation.pk, connection),
            ],
        )
        return frozenset(row[0] for row in cursor.fetchall())


def _uuid(value: Any) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        not_found()


def own_profile(ctx: OrgContext) -> Person | None:
    return Person.objects.filter(organisation=ctx.organisation, user=ctx.user).first()


def people_visible_to(ctx: OrgContext) -> QuerySet[Person]:
    people = Person.objects.filter(organisation=ctx.organisation, archived_at__isnull=True)
    if ctx.can_read_people:
        return people
    return people.filter(user=ctx.user)


def access_person_by_id(ctx: OrgContext, person_id: Any) -> Person:
    person = Person.objects.filter(pk=_uuid(person_id)).first()
    if person is None:
        not_found()
    if person.organisation_id != ctx.organisation.pk:
        not_found()
    if person.archived_at is not None:
        not_found()
    if not ctx.can_read_people and person.user_id != ctx.user.pk:
        not_found()
    return person


def directory_visible_to(ctx: OrgContext) -> QuerySet[DirectoryEntry]:
    if not ctx.has_any(DIRECTORY_READERS):
        return DirectoryEntry.objects.none()
    return DirectoryEntry.objects.filter(organisation=ctx.organisation, archived_at__isnull=True)


def access_directory_entry_by_id(ctx: OrgContext, entry_id: Any) -> DirectoryEntry:
    entry = DirectoryEntry.objects.filter(pk=_uuid(entry_id)).first()
    if entry is None:
        not_found()
    if entry.organisation_id != ctx.organisation.pk:
        not_found()
    if entry.archived_at is not None:
        not_found()
    if not ctx.has_any(DIRECTORY_READERS):
        not_found()
    return entry


def safe_houses_visible_to(ctx: OrgContext) -> QuerySet[SafeHouse]:
    if not ctx.can_see_safe_houses:
        return SafeHouse.objects.none()
    return SafeHouse.objects.filter(organisation=ctx.organisation, archived_at__isnull=True)


def access_safe_house_by_id(ctx: OrgContext, safe_house_id: Any) -> SafeHouse:
    safe_house = SafeHouse.objects.filter(pk=_uuid(safe_house_id)).first()
    if safe_house is None:
        not_found()
    if safe_house.organisation_id != ctx.organisation.pk:
        not_found()
    if safe_house.archived_at is not None:
        not_found()
    if not ctx.can_see_safe_houses:
        not_found()
    return safe_house


def require(ctx: OrgContext, allowed: bool) -> None:
    """For pages and endpoints that need a role: a refusal looks like a missing page."""
    if not allowed:
        not_found()
