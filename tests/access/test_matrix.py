"""The access matrix (issue 10, point 4): every page of ``amparo.urls`` and every
operation of the API, asked by every persona, answers as tests/access/permissions.py
declares, and carries none of the world's sealed texts to a persona who may not read
it. A route without a declared permission, or a declared one that is gone, fails.

Each (route, persona) is its own test, named "<route> as <persona>" (``-k "as lawyer"``
picks a persona). The world is built once per module (tests/access/conftest.py); each
test runs in a savepoint, so what an allowed persona's request changes is undone before
the next one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.access.bodies import API_BODIES, body_for
from tests.access.permissions import (
    ADMIN_LOGIN,
    ANYONE,
    KNOWN_DEVIATIONS,
    LOGIN,
    MFA,
    SECRET_READERS,
    TABLE,
    Rule,
)
from tests.access.routes import Route, all_routes, api_routes, api_url_templates
from tests.access.world import PERSONAS, SECRETS, AccessWorld

REFUSALS = frozenset({LOGIN, MFA, ADMIN_LOGIN, 401, 403, 404, 405})
REDIRECTS = (("/accounts/login/", LOGIN), ("/accounts/mfa/", MFA), ("/admin/login/", ADMIN_LOGIN))


def outcome(response: Any) -> str | int:
    """The status code, or where a redirect sends a visitor who may not pass."""
    if response.status_code in (301, 302, 303, 307):
        location = response.headers.get("Location", "")
        for prefix, label in REDIRECTS:
            if location.startswith(prefix):
                return label
    return response.status_code


def ask(world: AccessWorld, route: Route, rule: Rule, persona: str) -> tuple[str, Any]:
    values = world.values_for(route.template, route.callback)
    url = route.url(values)
    c = world.client(persona, route.is_api)
    if route.is_api and route.method == "GET":
        return f"GET {url}", c.get(url, {"organisation": values["slug"]})
    if route.is_api:
        body = body_for(route.key, values)
        data = "" if body is None else json.dumps(body)
        return f"{route.method} {url}", c.generic(
            route.method, url, data, content_type="application/json"
        )
    if rule.post:
        return f"POST {url}", c.post(url, {})
    return f"GET {url}", c.get(url)


def body_of(response: Any) -> bytes:
    """What the answer carries, a streamed export included (not a file download)."""
    if not response.streaming:
        return bytes(response.content)
    if "attachment" in response.headers.get("Content-Disposition", "") and not any(
        kind in response.headers.get("Content-Type", "") for kind in ("csv", "json")
    ):
        return b""
    return b"".join(response.streaming_content)


def cases() -> list[Any]:
    routes = all_routes()
    params = []
    for key in sorted(routes.keys() & TABLE.keys()):
        for persona in PERSONAS:
            why = KNOWN_DEVIATIONS.get((key, persona))
            marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
            params.append(pytest.param(key, persona, id=f"{key} as {persona}", marks=marks))
    return params


def test_every_route_has_a_declared_permission() -> None:
    undeclared = sorted(all_routes().keys() - TABLE.keys())
    assert not undeclared, "\n".join(
        f"{key} ({all_routes()[key].template}): declare its permission in "
        "tests/access/permissions.py"
        for key in undeclared
    )


def test_every_declared_permission_has_a_route() -> None:
    stale = sorted(TABLE.keys() - all_routes().keys())
    assert not stale, "\n".join(
        f"{key}: no such route any more; remove it from tests/access/permissions.py"
        for key in stale
    )


def test_it_finds_every_api_operation() -> None:
    """The operations read from the routers are those the URL configuration serves."""
    assert {route.template for route in api_routes().values()} == api_url_templates()


def test_every_body_belongs_to_an_operation() -> None:
    assert not API_BODIES.keys() - api_routes().keys()


def test_the_personas_and_secrets_are_the_tables() -> None:
    assert set(PERSONAS) == ANYONE
    assert SECRETS.keys() == SECRET_READERS.keys()
    for key, rule in TABLE.items():
        assert rule.allowed <= ANYONE, (key, rule.allowed - ANYONE)
        assert rule.api == key.split(" ")[0].isupper(), key
    assert {key for key, _persona in KNOWN_DEVIATIONS} <= TABLE.keys()


# A route and a reader that shows each secret: the check below is not vacuous.
WITNESSES = {
    "safe_house": ("safe-house-detail", "coordinator"),
    "incident_identity": ("monitoring-export-csv", "coordinator"),
    "relocation_reason": ("relocation-detail", "coordinator"),
    "referral_reason": ("referral-detail", "psychologist"),
    "clinical_notes": ("referral-notes", "psychologist"),
    "hotspot_notes": ("map-hotspot-edit", "focal_point"),
    "legal_summary": ("legal-case-detail", "lawyer"),
    "fund_justification": ("fund-detail", "coordinator"),
    "lost_comms_plan": ("deployment-lost-comms", "defender"),
}


@pytest.mark.django_db
def test_each_secret_is_shown_to_a_reader(access_world: AccessWorld) -> None:
    assert WITNESSES.keys() == {k for k, readers in SECRET_READERS.items() if readers}
    for name, (key, persona) in WITNESSES.items():
        assert persona in SECRET_READERS[name], name
        _request, response = ask(access_world, all_routes()[key], TABLE[key], persona)
        assert SECRETS[name].encode() in body_of(response), (name, key, persona)


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "persona"), cases())
def test_access(access_world: AccessWorld, key: str, persona: str) -> None:
    route, rule = all_routes()[key], TABLE[key]
    request, response = ask(access_world, route, rule, persona)
    got = outcome(response)
    where = f"{key} as {persona}: {request} answered {got}"
    if persona in rule.allowed:
        if rule.served is not None:
            assert got in rule.served, f"{where}; allowed, the table expects {set(rule.served)}"
        else:
            assert got not in REFUSALS, f"{where}, a refusal; the table allows {persona}"
            assert isinstance(got, str) or got < 500, f"{where}"
    else:
        expected = rule.refusal_for(persona)
        assert got == expected, f"{where}; the table refuses {persona} with {expected}"
    content = body_of(response)
    for name, text in SECRETS.items():
        if persona not in SECRET_READERS[name]:
            assert text.encode() not in content, f"{key} as {persona}: shows the {name}"
