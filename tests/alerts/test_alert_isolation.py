"""Organisation isolation and need-to-know for alerts (DESIGN.md section 7): nothing of
organisation A reaches the coordinator of B, on any page or endpoint, and a defender sees
only the alerts they raised or that are about them. The routes come from the URL
configuration itself, so a new route that these tests do not know fails them."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from amparo.alerts import actions
from amparo.alerts import urls as alert_urls
from amparo.alerts.api import router
from amparo.alerts.models import Alert, AlertShare, AlertStep, EscalationPolicy
from amparo.core.models import AuditEntry
from tests.alerts.support import (
    add_person,
    fast_hashing,  # noqa: F401 - a fixture
    life_safety_policy,
    raise_high,
)
from tests.people.org_pages import random_id, without_csrf

pytestmark = pytest.mark.usefixtures("fast_hashing")

ORG_PREFIX = "o/<slug:slug>/"
KNOWN_ORG_PAGES = {
    "panic",
    "alert-board",
    "alert-new",
    "alert-detail",
    "alert-acknowledge",
    "alert-resolve",
    "alert-share",
    "alert-policies",
    "alert-policy-new",
    "alert-policy-edit",
}
# Outside any organisation, on purpose: the signed link is its own key (tested in
# test_acknowledgement) and the heartbeat reveals nothing (tested in test_alert_pages).
KNOWN_PUBLIC = {"alert-ack-link", "worker-heartbeat"}
POST_ONLY = {"alert-acknowledge", "alert-resolve", "alert-share"}
FORMS = {
    "panic": {"latitude": "-12.6", "longitude": "-69.2"},
    "alert-new": {"kind": "threat", "severity": "high", "message": "Intrusa"},
    "alert-resolve": {"note": "Intrusa"},
    "alert-share": {"partner": "org-b"},
    "alert-policy-new": {
        "name": "Intrusa",
        "priority": "1",
        "tier-TOTAL_FORMS": "1",
        "tier-INITIAL_FORMS": "0",
        "tier-0-level": "local",
        "tier-0-roles": ["coordinator"],
        "tier-0-channels": ["email"],
        "tier-0-delay_minutes": "0",
        "tier-0-repeat_count": "0",
        "tier-0-repeat_interval_minutes": "5",
    },
}
FORMS["alert-policy-edit"] = FORMS["alert-policy-new"]
API_BODIES = {
    "": {"kind": "threat", "severity": "high", "message": "Intrusa"},
    "/{alert_id}/resolve": {"note": "Intrusa"},
}


def org_patterns():
    return [p for p in alert_urls.urlpatterns if str(p.pattern).startswith(ORG_PREFIX)]


def page_urls(slug, ids):
    urls = {}
    for pattern in org_patterns():
        kwargs = {"slug": slug}
        for name in pattern.pattern.converters:
            if name != "slug":
                assert name in ids, f"route {pattern.name} takes {name}: teach this test"
                kwargs[name] = ids[name]
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    return urls


def api_operations(slug, ids):
    """(method, URL, body) for every alerts API operation, aimed at organisation slug."""
    operations = []
    for path, path_view in router.path_operations.items():
        url = path
        for name in ("alert_id",):
            url = url.replace("{" + name + "}", ids.get(name, ""))
        assert "{" not in url, f"API path {path} takes an unknown id: teach this test"
        for operation in path_view.operations:
            for method in operation.methods:
                body = dict(API_BODIES.get(path, {}))
                if path == "" and method == "POST":
                    body["organisation"] = slug
                full = "/api/v1/alerts" + url
                if path == "" and method == "GET":
                    full += f"?organisation={slug}"
                operations.append((method, full, body))
    return operations


def call(c, method, url, body):
    if method == "GET":
        return c.get(url)
    return c.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def records(world):
    alert = raise_high(world, person=world.defender_person, location={"lat": -12.6, "lon": -69.2})
    policy = life_safety_policy(world.org_a)
    return {"alert_id": str(alert.pk), "policy_id": str(policy.pk)}


def state_of_org_a(world):
    return {
        "alerts": sorted(
            (str(a.pk), a.state, a.acknowledged_at, a.resolved_at)
            for a in Alert.objects.filter(organisation=world.org_a)
        ),
        "steps": sorted(
            AlertStep.objects.filter(alert__organisation=world.org_a).values_list("id", "state")
        ),
        "policies": sorted(
            EscalationPolicy.objects.filter(organisation=world.org_a).values_list("id", "version")
        ),
        "shares": AlertShare.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def test_it_knows_every_alerts_route():
    names = {p.name for p in alert_urls.urlpatterns}
    assert names == KNOWN_ORG_PAGES | KNOWN_PUBLIC, "a new route needs its access tests here"
    assert {p.name for p in org_patterns()} == KNOWN_ORG_PAGES
    assert set(page_urls("org-a", {"alert_id": "x", "policy_id": "y"})) == KNOWN_ORG_PAGES
    operations = {(m, u.split("?")[0]) for m, u, _b in api_operations("org-a", {"alert_id": "x"})}
    assert operations == {
        ("POST", "/api/v1/alerts"),
        ("GET", "/api/v1/alerts"),
        ("GET", "/api/v1/alerts/x"),
        ("POST", "/api/v1/alerts/x/acknowledge"),
        ("POST", "/api/v1/alerts/x/resolve"),
    }


def test_it_serves_every_alerts_page_to_coordinator_a(world, login, records):
    """The control for the refusals below."""
    c = login(world.coordinator)
    for name, url in page_urls("org-a", records).items():
        expected = 405 if name in POST_ONLY else 200
        assert c.get(url).status_code == expected, (name, url)


def test_it_hides_every_org_a_alerts_page_from_coordinator_b(world, login, records):
    c = login(world.coordinator_b)
    before = state_of_org_a(world)
    for name, url in page_urls("org-a", records).items():
        assert c.get(url).status_code == 404, (name, url)
        assert c.post(url, FORMS.get(name, {})).status_code == 404, (name, url)
    assert state_of_org_a(world) == before
    assert not Alert.objects.filter(organisation=world.org_b).exists()
    # The same posts from A's coordinator do work: the refusals were the access check.
    control = login(world.coordinator)
    for name in ("alert-share", "alert-policy-edit", "alert-resolve"):
        response = control.post(page_urls("org-a", records)[name], FORMS[name])
        assert response.status_code == 302, name
    assert state_of_org_a(world) != before


def test_it_hides_org_a_records_behind_org_b_pages(world, login, records):
    c = login(world.coordinator_b)
    before = state_of_org_a(world)
    for pattern in org_patterns():
        if set(pattern.pattern.converters) == {"slug"}:
            continue
        url = page_urls("org-b", records)[pattern.name]
        # A POST-only page answers 405 to a GET whatever the id: that reveals nothing.
        expected = 405 if pattern.name in POST_ONLY else 404
        assert c.get(url).status_code == expected, url
        assert c.post(url, FORMS.get(pattern.name, {})).status_code == 404, url
    assert state_of_org_a(world) == before


def test_it_answers_missing_malformed_and_forbidden_alike(world, login, records):
    c = login(world.coordinator_b)
    for route in ("alerts/{}/", "policies/{}/"):
        forbidden = records["alert_id"] if route.startswith("alerts") else records["policy_id"]
        responses = [
            c.get("/o/org-b/" + route.format(forbidden)),
            c.get("/o/org-b/" + route.format(random_id())),
            c.get("/o/org-b/" + route.format("not-a-uuid")),
        ]
        assert {r.status_code for r in responses} == {404}
        assert len({without_csrf(r.content) for r in responses}) == 1, route


def test_it_hides_every_org_a_api_endpoint_from_coordinator_b(world, api_client, records):
    c = api_client(world.coordinator_b)
    before = state_of_org_a(world)
    operations = api_operations("org-a", records)
    assert len(operations) == 5
    bodies = set()
    for method, url, body in operations:
        response = call(c, method, url, body)
        assert response.status_code == 404, (method, url, response.content)
        bodies.add(response.content)
    assert len(bodies) == 1
    missing = c.get(f"/api/v1/alerts/{random_id()}")
    assert missing.status_code == 404 and missing.content in bodies
    assert state_of_org_a(world) == before
    assert not Alert.objects.filter(organisation=world.org_b).exists()
    # The control: A's coordinator is served by every one of them.
    control = api_client(world.coordinator)
    for method, url, body in operations:
        response = call(control, method, url, body)
        assert response.status_code in (200, 201), (method, url, response.content)


def test_it_keeps_org_b_api_listings_free_of_org_a(world, api_client, records):
    c = api_client(world.coordinator_b)
    own = actions.raise_alert(
        world.coordinator_b.user, world.org_b, kind="community", severity="medium", message="B"
    )
    listed = c.get("/api/v1/alerts?organisation=org-b").json()
    assert [a["id"] for a in listed] == [str(own.pk)]


def test_it_sends_anonymous_visitors_to_sign_in(world, records):
    anonymous = Client()
    for name, url in page_urls("org-a", records).items():
        response = anonymous.get(url) if name not in POST_ONLY else anonymous.post(url)
        assert response.status_code == 302, name
        assert response.url.startswith("/accounts/login/"), name
    for method, url, body in api_operations("org-a", records):
        assert call(anonymous, method, url, body).status_code == 401, url


# A defender's need to know


@pytest.fixture
def defender_view(world):
    """Two alerts the defender may see (their own panic, one about them) and two they
    may not (about someone else, about nobody)."""
    own = actions.raise_alert(
        world.defender.user,
        world.org_a,
        kind="panic",
        severity="high",
        person=world.defender_person,
    )
    about = raise_high(world, person=world.defender_person)
    zoila = add_person(world.org_a, "Zoila", "Quispe")
    other = raise_high(world, person=zoila, message="Zoila amenazada")
    nobody = raise_high(world, message="Amenaza general")
    return {"visible": [own, about], "hidden": [other, nobody]}


def test_it_shows_a_defender_only_their_own_alerts(world, login, api_client, defender_view):
    c = login(world.defender)
    board = c.get("/o/org-a/alerts/?show=all")
    assert board.status_code == 200
    assert {a.pk for a in board.context["alerts"]} == {a.pk for a in defender_view["visible"]}
    text = board.content.decode()
    assert "Zoila" not in text
    for alert in defender_view["visible"]:
        assert c.get(f"/o/org-a/alerts/{alert.pk}/").status_code == 200
    for alert in defender_view["hidden"]:
        assert alert.code not in text
        assert c.get(f"/o/org-a/alerts/{alert.pk}/").status_code == 404
    api = api_client(world.defender)
    listed = api.get("/api/v1/alerts?organisation=org-a").json()
    assert {a["id"] for a in listed} == {str(a.pk) for a in defender_view["visible"]}
    for alert in defender_view["hidden"]:
        assert api.get(f"/api/v1/alerts/{alert.pk}").status_code == 404


def test_it_lets_a_defender_neither_acknowledge_nor_steer_alerts(
    world, login, api_client, defender_view, records
):
    c = login(world.defender)
    api = api_client(world.defender)
    before = state_of_org_a(world)
    own = defender_view["visible"][0]
    for path in ("acknowledge", "resolve", "share"):
        url = f"/o/org-a/alerts/{own.pk}/{path}/"
        assert c.post(url, FORMS.get(f"alert-{path}", {})).status_code == 404, path
    for path in ("acknowledge", "resolve"):
        response = api.post(f"/api/v1/alerts/{own.pk}/{path}", {}, content_type="application/json")
        assert response.status_code == 404, path
    for url in (
        "/o/org-a/policies/",
        "/o/org-a/policies/new/",
        f"/o/org-a/policies/{records['policy_id']}/",
        "/o/org-a/alerts/new/",
    ):
        assert c.get(url).status_code == 404, url
        assert c.post(url, FORMS["alert-policy-new"]).status_code == 404, url
    # The detail page offers nothing to press, and no delivery details.
    page = c.get(f"/o/org-a/alerts/{own.pk}/")
    assert 'data-testid="acknowledge"' not in page.content.decode()
    assert list(page.context["messages_sent"]) == []
    assert state_of_org_a(world) == before
