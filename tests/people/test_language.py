"""The language switcher (DESIGN.md principle 4: Spanish first, then English, Portuguese
and Danish): the choice is kept on the account, follows it to every session, and is
remembered in a cookie for visitors."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client

from amparo.core.models import AuditEntry
from amparo.people.models import User
from conftest import PASSWORD


def page_language(response) -> str:
    assert response.status_code == 200, response.status_code
    html_lang = response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]
    assert response["Content-Language"] == html_lang
    return html_lang


def test_it_starts_in_spanish(world, login):
    c = login(world.defender)
    assert page_language(c.get("/o/org-a/")) == "es"


def test_it_switches_the_account_to_english(world, login):
    c = login(world.defender)
    response = c.post("/accounts/language/", {"language": "en", "next": "/o/org-a/directory/"})
    assert urlsplit(response["Location"]).path == "/o/org-a/directory/"
    assert User.objects.get(pk=world.defender.user.pk).language == "en"
    assert AuditEntry.objects.filter(
        action="user.language_changed",
        object_id=str(world.defender.user.pk),
        details__language="en",
    ).exists()
    assert page_language(c.get("/o/org-a/directory/")) == "en"
    assert page_language(c.get("/o/org-a/")) == "en"


def test_it_switches_back_to_spanish(world, login):
    c = login(world.coordinator)
    c.post("/accounts/language/", {"language": "en"})
    assert page_language(c.get("/o/org-a/")) == "en"
    c.post("/accounts/language/", {"language": "es"})
    assert page_language(c.get("/o/org-a/")) == "es"


def test_it_follows_the_account_to_a_new_session(world, login):
    login(world.defender).post("/accounts/language/", {"language": "pt"})
    other_device = login(world.defender)
    assert page_language(other_device.get("/o/org-a/")) == "pt"


def test_it_remembers_a_visitors_choice_in_a_cookie(db):
    c = Client()
    response = c.post("/accounts/language/", {"language": "en", "next": "/accounts/login/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert page_language(c.get("/accounts/login/")) == "en"


def test_it_lets_a_staff_member_switch_before_mfa(world):
    c = Client()
    c.post("/accounts/login/", {"username": world.coordinator.user.email, "password": PASSWORD})
    response = c.post("/accounts/language/", {"language": "en", "next": "/accounts/mfa/verify/"})
    assert urlsplit(response["Location"]).path == "/accounts/mfa/verify/"
    assert page_language(c.get("/accounts/mfa/verify/")) == "en"


def test_it_ignores_an_unknown_language(world, login):
    c = login(world.defender)
    before = AuditEntry.objects.count()
    c.post("/accounts/language/", {"language": "xx"})
    assert User.objects.get(pk=world.defender.user.pk).language == "es"
    assert AuditEntry.objects.count() == before
    assert page_language(c.get("/o/org-a/")) == "es"


def test_it_does_not_redirect_off_site(world, login):
    c = login(world.defender)
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = c.post("/accounts/language/", {"language": "en", "next": target})
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.netloc in ("", "testserver"), target
        assert location.scheme in ("", "http"), target
