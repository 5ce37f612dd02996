"""Accounts (DESIGN.md section 7): MFA for every staff role (and for a defender who
enrolled a device), lockout after failed sign-ins, "log out everywhere", sessions expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from amparo.core.models import AuditEntry
from conftest import PASSWORD, totp_now
from tests.people.org_pages import POST_ONLY, make_records, org_page_urls

WRONG_CODE_MSG = "That code is not right. Check the time on your phone."


def password_only(persona, password: str = PASSWORD) -> Client:
    c = Client()
    response = c.post("/accounts/login/", {"username": persona.user.email, "password": password})
    assert response.status_code == 302, response.content[:300]
    return c


def redirect_path(response) -> str:
    assert response.status_code == 302, response.status_code
    return urlsplit(response["Location"]).path


def wrong_code(device: TOTPDevice) -> str:
    right = totp_now(device)
    return "000000" if right != "000000" else "111111"


@pytest.fixture
def records(world):
    return make_records(world)


def test_it_sends_a_staff_member_to_verify_from_every_org_page(world, records):
    c = password_only(world.coordinator)
    for name, url in org_page_urls("org-a", records.ids()).items():
        response = c.get(url)
        assert redirect_path(response) == "/accounts/mfa/verify/", name
        assert f"next={url}".replace("/", "%2F") in response["Location"], response["Location"]
        if name in POST_ONLY:
            assert redirect_path(c.post(url)) == "/accounts/mfa/verify/", name
    assert redirect_path(c.get("/")) == "/accounts/mfa/verify/"
    assert redirect_path(c.get("/accounts/settings/")) == "/accounts/mfa/verify/"


@pytest.mark.parametrize("persona", ["focal_point", "supervisor", "coordinator"])
def test_it_sends_a_staff_member_without_a_device_to_setup(world, records, persona):
    member = getattr(world, persona)
    TOTPDevice.objects.filter(user=member.user).delete()
    c = password_only(member)
    for name, url in org_page_urls("org-a", records.ids()).items():
        assert redirect_path(c.get(url)) == "/accounts/mfa/setup/", name
    assert redirect_path(c.get("/")) == "/accounts/mfa/setup/"


def test_it_lets_a_defender_without_a_device_in(world):
    c = password_only(world.defender)
    assert c.get("/o/org-a/").status_code == 200
    assert c.get(f"/o/org-a/people/{world.defender_person.pk}/").status_code == 200


def test_it_makes_a_defender_with_a_device_verify(world):
    device = TOTPDevice.objects.create(user=world.defender.user, name="phone", confirmed=True)
    c = password_only(world.defender)
    assert redirect_path(c.get("/o/org-a/")) == "/accounts/mfa/verify/"
    response = c.post("/accounts/mfa/verify/", {"token": totp_now(device)})
    assert response.status_code == 302
    assert c.get("/o/org-a/").status_code == 200


def test_it_refuses_a_wrong_code_at_verify(world):
    world.coordinator.user.language = "en"
    world.coordinator.user.save(update_fields=["language"])
    c = password_only(world.coordinator)
    response = c.post("/accounts/mfa/verify/", {"token": wrong_code(world.coordinator.device)})
    assert response.status_code == 200
    assert WRONG_CODE_MSG in response.content.decode()
    assert redirect_path(c.get("/o/org-a/")) == "/accounts/mfa/verify/"


def test_it_enrols_a_device_with_a_correct_code(world):
    member = world.focal_point
    TOTPDevice.objects.filter(user=member.user).delete()
    c = password_only(member)
    page = c.get("/accounts/mfa/setup/")
    assert page.status_code == 200
    assert b"data:image/svg+xml" in page.content
    device = TOTPDevice.objects.get(user=member.user, confirmed=False)
    assert device.config_url  # what the QR code carries

    response = c.post("/accounts/mfa/setup/", {"token": totp_now(device)})
    assert redirect_path(response) == "/"
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(
        action="user.mfa_enrolled", object_id=str(member.user.pk)
    ).exists()
    assert c.get("/o/org-a/").status_code == 200
    # A later sign-in now asks for that device.
    c2 = password_only(member)
    assert redirect_path(c2.get("/o/org-a/")) == "/accounts/mfa/verify/"


@pytest.mark.parametrize("language", ["es", "en"])
def test_it_refuses_a_wrong_code_at_setup_with_a_message(world, language):
    member = world.focal_point
    member.user.language = language
    member.user.save(update_fields=["language"])
    TOTPDevice.objects.filter(user=member.user).delete()
    c = password_only(member)
    c.get("/accounts/mfa/setup/")
    device = TOTPDevice.objects.get(user=member.user, confirmed=False)
    response = c.post("/accounts/mfa/setup/", {"token": wrong_code(device)})
    assert response.status_code == 200
    with translation.override(language):
        expected = gettext(WRONG_CODE_MSG)
    assert expected in response.content.decode()
    if language == "en":
        assert expected == WRONG_CODE_MSG
    device.refresh_from_db()
    assert not device.confirmed
    assert not AuditEntry.objects.filter(action="user.mfa_enrolled").exists()
    assert redirect_path(c.get("/o/org-a/")) == "/accounts/mfa/setup/"


def test_it_refuses_a_code_that_is_not_digits(world):
    c = password_only(world.coordinator)
    response = c.post("/accounts/mfa/verify/", {"token": "abcdef"})
    assert response.status_code == 200
    assert redirect_path(c.get("/o/org-a/")) == "/accounts/mfa/verify/"


def test_it_does_not_let_a_stolen_password_enrol_a_new_device(world):
    c = password_only(world.coordinator)
    response = c.get("/accounts/mfa/setup/")
    if response.status_code == 200:
        rogue = TOTPDevice.objects.get(user=world.coordinator.user, confirmed=False)
        c.post("/accounts/mfa/setup/", {"token": totp_now(rogue)})
    assert c.get("/o/org-a/").status_code != 200
    assert TOTPDevice.objects.filter(user=world.coordinator.user, confirmed=True).count() == 1


# Lockout


def test_it_locks_an_account_after_five_failed_passwords(world):
    c = Client()
    email = world.coordinator.user.email
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = c.post("/accounts/login/", {"username": email, "password": "wrong password"})
        assert response.status_code in (200, 429)
    response = c.post("/accounts/login/", {"username": email, "password": PASSWORD})
    templates = {t.name for t in response.templates}
    assert response.status_code == 429 or "accounts/locked.html" in templates
    assert "_auth_user_id" not in c.session
    assert redirect_path(c.get("/o/org-a/")) == "/accounts/login/"


def test_it_locks_only_the_attacked_account(world, login):
    c = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        c.post("/accounts/login/", {"username": world.coordinator.user.email, "password": "no"})
    other = login(world.defender)
    assert other.get("/o/org-a/").status_code == 200


def test_it_does_not_lock_after_fewer_failures(world):
    c = Client()
    email = world.defender.user.email
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        c.post("/accounts/login/", {"username": email, "password": "wrong password"})
    response = c.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert redirect_path(response) == "/"


# Sessions


def test_it_logs_out_everywhere(world, login):
    first = login(world.coordinator)
    second = login(world.coordinator)
    assert second.get("/o/org-a/").status_code == 200
    response = first.post("/accounts/logout-everywhere/")
    assert redirect_path(response) == "/accounts/login/"
    assert redirect_path(second.get("/o/org-a/")) == "/accounts/login/"
    assert redirect_path(first.get("/o/org-a/")) == "/accounts/login/"
    assert AuditEntry.objects.filter(
        action="user.logged_out_everywhere", object_id=str(world.coordinator.user.pk)
    ).exists()
    # Signing in again works.
    assert login(world.coordinator).get("/o/org-a/").status_code == 200


def test_it_needs_a_post_to_log_out_everywhere(world, login):
    c = login(world.coordinator)
    assert c.get("/accounts/logout-everywhere/").status_code == 405
    assert c.get("/o/org-a/").status_code == 200


def test_it_expires_an_idle_session(world, login):
    age = settings.SESSION_COOKIE_AGE
    with time_machine.travel(datetime(2026, 3, 2, 14, 0, tzinfo=UTC), tick=False) as traveller:
        c = login(world.coordinator)
        assert c.get("/o/org-a/").status_code == 200
        traveller.shift(timedelta(seconds=age - 60))
        assert c.get("/o/org-a/").status_code == 200  # activity keeps it alive
        traveller.shift(timedelta(seconds=age - 60))
        assert c.get("/o/org-a/").status_code == 200
        traveller.shift(timedelta(seconds=age + 1))
        response = c.get("/o/org-a/")
        assert redirect_path(response) == "/accounts/login/"
