"""People, directory and safe houses over the API. Same access and actions as the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Router, Schema

from amparo.people import access, actions
from amparo.people.models import DirectoryEntry, Person, SafeHouse

router = Router(tags=["people"])


class MeOut(Schema):
    id: UUID
    email: str
    language: str
    organisations: list[dict[str, Any]]


class PersonOut(Schema):
    id: UUID
    given_names: str
    family_names: str
    phone_numbers: list[str]
    email: str
    home_area: str
    languages: list[str]
    community_role: str
    preferred_language: str
    time_zone: str
    supervisor_id: UUID | None
    emergency_rank: int | None
    created_at: datetime


class PersonIn(Schema):
    given_names: str = Field(..., min_length=1, max_length=200)
    family_names: str = Field("", max_length=200)
    phone_numbers: list[str] = Field(default_factory=list, max_length=10)
    email: str = Field("", max_length=254)
    home_area: str = Field("", max_length=500)
    languages: list[str] = Field(default_factory=list, max_length=20)
    community_role: str = "other"
    preferred_language: str = "es"
    time_zone: str = "America/Lima"


class DirectoryEntryOut(Schema):
    id: UUID
    category: str
    region: str
    name: str
    phone: str
    email: str
    address: str
    notes: str
    specialties: list[str]
    available_24h: bool


class DirectoryEntryIn(Schema):
    category: str
    region: str = Field(..., min_length=1, max_length=120)
    name: str = Field(..., min_length=1, max_length=300)
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    address: str = Field("", max_length=500)
    notes: str = Field("", max_length=2000)
    specialties: list[str] = Field(default_factory=list)
    available_24h: bool = False


class SafeHouseLocation(Schema):
    lat: float
    lon: float


class SafeHouseOut(Schema):
    id: UUID
    region: str
    name: str
    address: str
    location: SafeHouseLocation | None
    contact: str
    capacity: int
    available: bool


class Error(Schema):
    detail: Any


def _ctx(request: HttpRequest, slug: str) -> access.OrgContext:
    return access.access_organisation_by_slug(request.user, slug)


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    orgs = [
        {"slug": org.slug, "name": org.name, "roles": sorted(user.roles_in(org))}
        for org in access.organisations_of(user)
    ]
    return {"id": user.pk, "email": user.email, "language": user.language, "organisations": orgs}


@router.get("/orgs/{slug}/people", response=list[PersonOut])
def list_people(request: HttpRequest, slug: str) -> list[Person]:
    ctx = _ctx(request, slug)
    return list(access.people_visible_to(ctx))


@router.get("/orgs/{slug}/people/{person_id}", response={200: PersonOut, 404: Error})
def get_person(request: HttpRequest, slug: str, person_id: str) -> Person:
    ctx = _ctx(request, slug)
    return access.access_person_by_id(ctx, person_id)


@router.post("/orgs/{slug}/people", response={201: PersonOut, 404: Error, 422: Error})
def create_person(request: HttpRequest, slug: str, payload: PersonIn) -> tuple[int, Person]:
    ctx = _ctx(request, slug)
    access.require(ctx, ctx.can_edit_people)
    return 201, actions.create_person(request.user, ctx.organisation, **payload.dict())


@router.get("/orgs/{slug}/directory", response=list[DirectoryEntryOut])
def list_directory(
    request: HttpRequest, slug: str, category: str = "", region: str = ""
) -> list[DirectoryEntry]:
    ctx = _ctx(request, slug)
    entries = access.directory_visible_to(ctx)
    if category:
        entries = entries.filter(category=category)
    if region:
        entries = entries.filter(region__icontains=region)
    return list(entries)


@router.get("/orgs/{slug}/directory/{entry_id}", response={200: DirectoryEntryOut, 404: Error})
def get_directory_entry(request: HttpRequest, slug: str, entry_id: str) -> DirectoryEntry:
    ctx = _ctx(request, slug)
    return access.access_directory_entry_by_id(ctx, entry_id)


@router.post("/orgs/{slug}/directory", response={201: DirectoryEntryOut, 404: Error, 422: Error})
def create_directory_entry(
    request: HttpRequest, slug: str, payload: DirectoryEntryIn
) -> tuple[int, DirectoryEntry]:
    ctx = _ctx(request, slug)
    access.require(ctx, ctx.can_edit_directory)
    return 201, actions.create_directory_entry(request.user, ctx.organisation, **payload.dict())


@router.get("/orgs/{slug}/safe-houses", response={200: list[SafeHouseOut], 404: Error})
def list_safe_houses(request: HttpRequest, slug: str) -> list[SafeHouse]:
    ctx = _ctx(request, slug)
    access.require(ctx, ctx.can_see_safe_houses)
    return list(access.safe_houses_visible_to(ctx))


@router.get("/orgs/{slug}/safe-houses/{safe_house_id}", response={200: SafeHouseOut, 404: Error})
def get_safe_house(request: HttpRequest, slug: str, safe_house_id: str) -> SafeHouse:
    ctx = _ctx(request, slug)
    return access.access_safe_house_by_id(ctx, safe_house_id)
