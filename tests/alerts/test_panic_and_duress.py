"""The panic page and the duress password (DESIGN.md sections 7 and 8): one tap that
works as a plain form POST without JavaScript, and a second password that opens a
harmless view everywhere while a high alert goes out silently."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.test import Client

from amparo.alerts.models import Alert, AlertStep
from amparo.people import actions as people_actions
from conftest import PASSWORD
from tests.alerts.support import fast_hashing  # noqa: F401 - a fixture
from tests.people.org_pages import without_csrf

pytestmark = pytest.mark.usefixtures("fast_hashing")

DURESS = "rio tambopata 7"  # noqa: S105 - test-only


def test_it_serves_a_panic_page_that_needs_no_javascript(world, login):
    c = login(world.defender)
    page = c.get("/o/org-a/panic/").content.decode()
    assert '<form method="post" class="panic">' in page
    assert 'type="submit"' in page
    assert 'name="latitude"' in page
    assert 'name="longitude"' in page
    assert "required" not in page.split('class="panic">')[1].split("</form>")[0]


def test_it_raises_a_high_panic_alert_from_a_plain_form_post(world, login):
    c = login(world.defender)
    response = c.post(
        "/o/org-a/panic/",
        {"latitude": "-12.59331", "longitude": "-69.18913", "message": "Me siguen"},
    )
    assert response.status_code == 200
    alert = Alert.objects.get()
    assert alert.kind == "panic"
    assert alert.severity == "high"
    assert alert.organisation == world.org_a
    assert alert.person == world.defender_person
    assert alert.raised_by == world.defender.user
    assert alert.location == {"lat": -12.59331, "lon": -69.18913}
    assert alert.message == "Me siguen"
    assert alert.code in response.content.decode()
    assert 'data-testid="panic-sent"' in response.content.decode()
    assert AlertStep.objects.filter(alert=alert).count() == 12
    assert alert.policy_snapshot["name"].endswith("Panic and duress")


def test_it_raises_the_alert_without_a_location(world, login):
    c = login(world.defender)
    assert c.post("/o/org-a/panic/", {}).status_code == 200
    alert = Alert.objects.get()
    assert alert.location is None
    assert alert.person == world.defender_person


@pytest.mark.parametrize(
    "garbled",
    [
        {"latitude": "-12,59331", "longitude": "-69,18913"},
        {"latitude": "123", "longitude": "-69.1"},
        {"latitude": "-12.5", "longitude": ""},
        {"message": "x" * 600},
    ],
)
def test_it_raises_the_alert_even_when_the_form_is_garbled(world, login, garbled):
    """A panic must never be turned away: a location the phone garbled is dropped."""
    c = login(world.defender)
    response = c.post("/o/org-a/panic/", garbled)
    assert response.status_code == 200
    alert = Alert.objects.get()
    assert alert.kind == "panic"
    assert alert.location is None
    assert alert.code in response.content.decode()


def test_it_hides_the_panic_page_from_a_non_member(world, login):
    c = login(world.coordinator_b)
    assert c.get("/o/org-a/panic/").status_code == 404
    assert c.post("/o/org-a/panic/", {"latitude": "1", "longitude": "1"}).status_code == 404
    assert Client().post("/o/org-a/panic/").status_code == 302  # anonymous: sign in first
    assert not Alert.objects.exists()


# Duress


def set_duress(world, login, value=DURESS):
    c = login(world.defender)
    return c.post("/accounts/duress/", {"duress_password": value}, follow=True)


def sign_in(email, password):
    c = Client()
    response = c.post("/accounts/login/", {"username": email, "password": password})
    return c, response


def test_it_sets_a_duress_password_that_differs_from_the_password(world, login):
    refused = set_duress(world, login, PASSWORD)
    assert refused.status_code == 200
    world.defender.user.refresh_from_db()
    assert world.defender.user.duress_password == ""

    set_duress(world, login)
    world.defender.user.refresh_from_db()
    stored = world.defender.user.duress_password
    assert stored
    assert DURESS not in stored
    assert check_password(DURESS, stored)


URLS_UNDER_DURESS = [
    "/",
    "/o/org-a/",
    "/o/org-a/alerts/",
    "/o/org-a/alerts/new/",
    "/o/org-a/panic/",
    "/o/org-a/people/",
    "/o/org-a/directory/",
    "/o/org-a/policies/",
    "/o/org-b/",
    "/o/org-b/alerts/",
    "/accounts/settings/",
]


def test_it_shows_only_the_harmless_page_and_raises_a_silent_alert(world, login):
    people_actions.add_membership("test", world.org_b, world.defender.user, "defender")
    set_duress(world, login)
    real_client, real = sign_in(world.defender.user.email, PASSWORD)
    real_client.post("/accounts/logout/")
    assert not Alert.objects.exists()

    c, response = sign_in(world.defender.user.email, DURESS)
    assert response.status_code == 302
    assert response.url == real.url  # the same redirect as a normal sign-in

    alerts = Alert.objects.order_by("organisation__slug")
    assert [a.organisation.slug for a in alerts] == ["org-a", "org-b"]
    for alert in alerts:
        assert (alert.kind, alert.severity, alert.source) == ("duress", "high", "duress")
        assert alert.raised_by == world.defender.user
        assert AlertStep.objects.filter(alert=alert).exists()
    assert alerts[0].person == world.defender_person
    assert alerts[1].person is None

    pages = []
    for url in [*URLS_UNDER_DURESS, f"/o/org-a/alerts/{alerts[0].pk}/"]:
        page = c.get(url)
        assert page.status_code == 200, url
        assert [t.name for t in page.templates][0] == "accounts/harmless.html", url
        text = page.content.decode()
        for secret in ("Federación A", "Rosa", alerts[0].code, "duress", "Coacción", "Alerta"):
            assert secret not in text, (url, secret)
        pages.append(without_csrf(page.content))
    assert len(set(pages)) == 1
    # Posting anything does nothing either: no second alert, no change.
    assert c.post("/o/org-a/panic/", {}).status_code == 200
    assert c.post("/accounts/duress/", {"duress_password": ""}).status_code == 200
    assert Alert.objects.count() == 2
    world.defender.user.refresh_from_db()
    assert world.defender.user.duress_password
    # Signing out still works, as it would for anybody.
    c.post("/accounts/logout/")
    assert c.get("/o/org-a/").status_code == 302


def test_it_still_signs_in_normally_with_the_real_password(world, login):
    set_duress(world, login)
    c, response = sign_in(world.defender.user.email, PASSWORD)
    assert response.status_code == 302
    page = c.get("/o/org-a/")
    assert page.status_code == 200
    assert "Federación A" in page.content.decode()
    assert "accounts/harmless.html" not in [t.name for t in page.templates]
    assert not Alert.objects.exists()


def test_it_does_not_count_a_duress_sign_in_as_a_failure(world, login):
    set_duress(world, login)
    email = world.defender.user.email
    for attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        _c, response = sign_in(email, DURESS)
        assert response.status_code == 302, attempt
    assert Alert.objects.filter(kind="duress").count() == settings.AXES_FAILURE_LIMIT + 1
    assert not AccessAttempt.objects.filter(username=email, failures_since_start__gt=0).exists()
    assert not AccessFailureLog.objects.filter(username=email).exists()
    c, response = sign_in(email, PASSWORD)
    assert response.status_code == 302
    assert c.get("/o/org-a/").status_code == 200


def test_it_refuses_a_wrong_password_as_before(world, login):
    set_duress(world, login)
    _c, response = sign_in(world.defender.user.email, "rio tambopata 8")
    assert response.status_code == 200
    assert not Alert.objects.exists()
