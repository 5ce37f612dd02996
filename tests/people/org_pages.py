"""Every organisation page and API endpoint, built from the URL configuration itself, so
that a new route is covered by the access and MFA tests the day it is added."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, reverse

from amparo.people import actions
from amparo.people.models import DirectoryEntry, Invitation, Person, Role, SafeHouse

ORG_PREFIX = "o/<slug:slug>/"
# Views wrapped in require_POST: a GET answers 405 to a member.
POST_ONLY = frozenset({"directory-archive", "revoke-invitation"})
CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')
# The language switcher sends the visitor back to the address they asked for.
NEXT_FIELD = re.compile(rb'name="next" value="[^"]*"')


@dataclass
class OrgRecords:
    person: Person
    entry: DirectoryEntry
    safe_house: SafeHouse
    invitation: Invitation

    def ids(self) -> dict[str, str]:
        """A value for every id a route of the organisation takes."""
        return {
            "person_id": str(self.person.pk),
            "entry_id": str(self.entry.pk),
            "safe_house_id": str(self.safe_house.pk),
            "invitation_id": str(self.invitation.pk),
        }


def make_records(world: Any) -> OrgRecords:
    org = world.org_a
    person = actions.create_person(
        "test",
        org,
        given_names="Zoila",
        family_names="Quispe Mamani",
        phone_numbers=["+51 982 555 0199"],
    )
    entry = actions.create_directory_entry(
        "test",
        org,
        category="hospital",
        region="Madre de Dios",
        name="Hospital Santa Rosa",
        phone="+51 82 571 900",
    )
    safe_house = actions.create_safe_house(
        "test",
        org,
        region="Madre de Dios",
        name="Casa Refugio",
        address="Jr. Loreto 742",
        location={"lat": -12.59, "lon": -69.18},
    )
    invitation, _token = actions.invite("test", org, email="new@a.example", role=Role.DEFENDER)
    return OrgRecords(person=person, entry=entry, safe_house=safe_house, invitation=invitation)


def org_patterns() -> list[URLPattern]:
    from amparo.people import urls

    return [p for p in urls.urlpatterns if str(p.pattern).startswith(ORG_PREFIX)]


def org_page_urls(slug: str, ids: dict[str, str]) -> dict[str, str]:
    """Route name -> URL, for every page under /o/<slug>/."""
    urls = {}
    for pattern in org_patterns():
        kwargs = {"slug": slug}
        for name in pattern.pattern.converters:
            if name == "slug":
                continue
            assert name in ids, (
                f"route {pattern.name} takes {name}: teach tests/people/org_pages.py"
            )
            kwargs[name] = ids[name]
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    return urls


def org_api_operations(slug: str, ids: dict[str, str]) -> list[tuple[str, str]]:
    """(method, URL) for every API operation under /api/orgs/{slug}/."""
    from amparo.people.api import router

    operations = []
    for path, path_view in router.path_operations.items():
        if "{slug}" not in path:
            continue
        url = path.replace("{slug}", slug)
        for name in re.findall(r"\{(\w+)\}", url):
            assert name in ids, f"API path {path} takes {name}: teach tests/people/org_pages.py"
            url = url.replace("{" + name + "}", ids[name])
        for operation in path_view.operations:
            for method in operation.methods:
                operations.append((method, "/api" + url))
    return operations


# Valid bodies, so that a refusal is the access check and not input validation.
API_BODIES = {
    "people": {"given_names": "Intrusa"},
    "directory": {"category": "police", "region": "Pando", "name": "Intrusa"},
}


def api_body(url: str) -> dict[str, Any]:
    noun = url.rstrip("/").rsplit("/", 1)[-1]
    assert noun in API_BODIES, f"no valid body for POST {url}: teach tests/people/org_pages.py"
    return API_BODIES[noun]


def without_csrf(content: bytes) -> bytes:
    """Pages carry a fresh CSRF token each time, and the language switcher echoes the
    requested path; everything else must be equal."""
    return NEXT_FIELD.sub(b"", CSRF_TOKEN.sub(b"", content))


def random_id() -> str:
    return str(uuid.uuid4())
