"""The security review of issue 10, point 6: what production settings turn on (HSTS,
secure cookies, session expiry, the rate limits), the headers every kind of answer
carries (frames, referrer, content type, CSP), the flags of every cookie Amparo sets,
login lockout, and how uploaded evidence is named, counted and handed back.
docs/threat-model.md, "Security review (issue 10)", says what was checked and fixed."""

from __future__ import annotations

import runpy
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from amparo.incidents import actions, vault
from amparo.incidents.models import EvidenceFile, Source, ThreatReport
from conftest import PASSWORD
from tests.incidents.test_pages import form_data, jpeg_bytes, upload

SETTINGS = Path(settings.BASE_DIR) / "settings.py"
PRODUCTION_HSTS = 365 * 24 * 3600


def load_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """The settings module as a fresh process would read it from this environment,
    without the test suite's relaxations (tests/testenv.py)."""
    for name in (
        "AMPARO_DEBUG",
        "AMPARO_HSTS_SECONDS",
        "AMPARO_SECURE_COOKIES",
        "AMPARO_RATE_LIMITS",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


@pytest.fixture(autouse=True)
def evidence_store(settings, tmp_path: Path) -> Path:
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


# Production settings


def test_production_settings_turn_on_hsts_secure_cookies_and_expiry(monkeypatch):
    production = load_settings(monkeypatch)
    assert production["DEBUG"] is False
    assert production["SECURE_HSTS_SECONDS"] == PRODUCTION_HSTS
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert production["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert production["SESSION_COOKIE_AGE"] == 8 * 3600
    assert production["SESSION_SAVE_EVERY_REQUEST"] is True  # idle time, not since login
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_REFERRER_POLICY"] == "same-origin"
    assert production["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    # Rate limits on by default, counted in a table every process shares.
    assert production["AMPARO_RATE_LIMITS"] is True
    assert production["AMPARO_RATE_ANON_REPORTS"] == "10/h"
    assert production["AMPARO_RATE_SMS"] == "120/m"
    limiter = production["CACHES"][production["RATELIMIT_USE_CACHE"]]
    assert limiter["BACKEND"] == "amparo.core.ratelimit.RateLimitCache"
    # Login lockout: django-axes checks before any other backend.
    assert production["AUTHENTICATION_BACKENDS"][0] == "axes.backends.AxesStandaloneBackend"
    assert "axes.middleware.AxesMiddleware" in production["MIDDLEWARE"]
    assert production["AXES_FAILURE_LIMIT"] == 5


def test_debug_mode_sends_no_hsts(monkeypatch):
    debug = load_settings(monkeypatch, AMPARO_DEBUG="true")
    assert debug["SECURE_HSTS_SECONDS"] == 0
    assert debug["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize("rate", ["lots", "10/week", "0/h", "-1/m"])
def test_a_malformed_rate_stops_the_start(monkeypatch, rate):
    with pytest.raises(ImproperlyConfigured, match="AMPARO_RATE_SMS"):
        load_settings(monkeypatch, AMPARO_RATE_SMS=rate)


# Headers

PRODUCTION = {
    "SECURE_HSTS_SECONDS": PRODUCTION_HSTS,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}


@override_settings(**PRODUCTION)
def test_hsts_is_sent_on_https_answers_only(db):
    c = Client()
    secure = c.get("/accounts/login/", secure=True)
    assert secure["Strict-Transport-Security"] == f"max-age={PRODUCTION_HSTS}; includeSubDomains"
    assert "Strict-Transport-Security" not in c.get("/accounts/login/")


@override_settings(**PRODUCTION, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_behind_the_tls_proxy_hsts_follows_x_forwarded_proto(db):
    response = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"].startswith(f"max-age={PRODUCTION_HSTS}")


def assert_protective_headers(response: Any, where: str) -> None:
    assert response["X-Frame-Options"] == "DENY", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy or "sandbox" in policy, where
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, where


@override_settings(AMPARO_RATE_LIMITS=True, RATELIMIT_ENABLE=True, AMPARO_RATE_ANON_REPORTS="1/h")
def test_every_kind_of_answer_carries_the_protective_headers(world, login):
    anonymous = Client()
    answers = {
        "sign-in page": anonymous.get("/accounts/login/"),
        "anonymous report form": anonymous.get("/report/org-a/"),
        "receipt page": anonymous.get("/report/status/"),
        "not found": anonymous.get("/no-such-page/"),
        "API (JSON)": anonymous.get("/api/openapi.json"),
        "API error": anonymous.get("/api/v1/alerts"),
        "SMS webhook refusal": anonymous.post("/channels/sms/generic/org-a/"),
        "OpenRosa challenge": anonymous.get("/openrosa/org-a/formList"),
        "organisation page": login(world.coordinator).get("/o/org-a/"),
    }
    anonymous.post("/report/org-a/", form_data())
    answers["rate limited"] = anonymous.post("/report/org-a/", form_data())
    assert answers["rate limited"].status_code == 429
    for where, response in answers.items():
        assert_protective_headers(response, where)
    # A page for a signed-in user is never stored by the browser (seized devices).
    assert "no-store" in answers["organisation page"]["Cache-Control"]


# Cookies


@override_settings(**PRODUCTION)
def test_session_csrf_and_language_cookies_carry_their_flags(world):
    c = Client()
    page = c.get("/accounts/login/", secure=True)
    csrf = page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["secure"] is True
    assert csrf["samesite"] == "Lax"
    # Not HttpOnly, as Django ships it: the token is also in every form, and no script of
    # Amparo reads the cookie; HttpOnly would add nothing (Django's CSRF documentation).
    signed_in = c.post(
        "/accounts/login/",
        {"username": world.defender.user.email, "password": PASSWORD},
        secure=True,
    )
    assert signed_in.status_code == 302
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] is True
    assert session["secure"] is True
    assert session["samesite"] == "Lax"
    assert int(session["max-age"]) == settings.SESSION_COOKIE_AGE
    language = c.post("/accounts/language/", {"language": "en"}, secure=True)
    cookie = language.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert (cookie["httponly"], cookie["secure"], cookie["samesite"]) == (True, True, "Lax")


def test_cookies_are_not_secure_when_secure_cookies_are_off(world):
    # The demo and the test suite (plain HTTP on loopback) turn them off.
    page = Client().get("/accounts/login/")
    assert not page.cookies[settings.CSRF_COOKIE_NAME]["secure"]


def test_signing_out_ends_the_session_on_the_server(world):
    c = Client()
    c.post("/accounts/login/", {"username": world.defender.user.email, "password": PASSWORD})
    stolen = c.cookies[settings.SESSION_COOKIE_NAME].value
    assert c.get("/o/org-a/").status_code == 200
    c.post("/accounts/logout/")
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert replay.get("/o/org-a/").status_code == 302  # to the sign-in page


def test_login_is_locked_by_django_axes_with_a_429(world):
    c = Client(REMOTE_ADDR="203.0.113.5")
    email = world.defender.user.email
    for _ in range(settings.AXES_FAILURE_LIMIT):
        c.post("/accounts/login/", {"username": email, "password": "not the password"})
    locked = c.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in c.session


def test_behind_a_proxy_the_lockout_counts_each_client_not_the_proxy(world, settings):
    """With AMPARO_CLIENT_IP_HEADER, failed sign-ins are counted per client address from
    the header the proxy sets: one client's failures do not lock the account for others
    behind the same proxy, and the locked client stays locked whatever it puts there."""
    settings.AMPARO_CLIENT_IP_HEADER = "X-Real-IP"
    proxy = "10.0.0.2"
    email = world.defender.user.email
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_REAL_IP="203.0.113.5")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post("/accounts/login/", {"username": email, "password": "not the password"})
    assert (
        attacker.post("/accounts/login/", {"username": email, "password": PASSWORD}).status_code
        == 429
    )
    # The header's last address is the one the proxy added: a forged first one is ignored.
    forged = Client(REMOTE_ADDR=proxy, HTTP_X_REAL_IP="192.0.2.1, 203.0.113.5")
    assert (
        forged.post("/accounts/login/", {"username": email, "password": PASSWORD}).status_code
        == 429
    )
    owner = Client(REMOTE_ADDR=proxy, HTTP_X_REAL_IP="198.51.100.9")
    response = owner.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in owner.session


# Uploads


def stage(name: str, data: bytes) -> vault.StagedEvidence:
    return vault.stage_stream(uuid.uuid4(), name, iter([data]))


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\Windows\\foto.jpg", "foto.jpg"),
        ("C:\\Users\\rosa\\Desktop\\amenaza.jpg", "amenaza.jpg"),
        ("..", "file"),
        ("", "file"),
        ("foto\r\nX-Injected: 1.jpg", "fotoX-Injected: 1.jpg"),
        ("a" * 300 + ".jpeg", "a" * 195 + ".jpeg"),
    ],
)
def test_a_files_name_is_never_a_path_and_keeps_its_extension(sent, kept):
    assert vault.safe_name(sent) == kept


def test_the_store_holds_no_original_name(evidence_store):
    staged = stage("../../../tmp/nombre-original-rosa.jpg", jpeg_bytes())
    staged.commit()
    files = [p for p in evidence_store.rglob("*") if p.is_file()]
    assert [p.relative_to(evidence_store).parts for p in files] == [
        (str(staged.organisation_id), f"{staged.evidence_id}.bin")
    ]
    assert staged.name == "nombre-original-rosa.jpg"


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("pagina.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("dibujo.jpg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>'),
        ("texto.pdf", b"hola, esto no es un PDF\n" * 10),
    ],
)
def test_pages_drawings_and_text_are_refused_whatever_their_name(name, head):
    staged = stage(name, head)
    assert staged.refused
    assert not staged.content_type


def report_with(world, name: str, data: bytes) -> tuple[ThreatReport, EvidenceFile]:
    staged = vault.stage_stream(world.org_a.pk, name, iter([data]))
    receipt = actions.report_threat(
        world.coordinator.user,
        world.org_a,
        {"verbatim": "Foto del mensaje", "language": "es"},
        source=Source.WEB,
        evidence=[staged],
    )
    return receipt.report, EvidenceFile.objects.get(report=receipt.report)


@pytest.mark.parametrize(
    ("name", "disposition"),
    [
        ("aviso.html", 'attachment; filename="aviso.html.jpg"'),
        ("programa.exe", 'attachment; filename="programa.exe.jpg"'),
        ("sin extension", 'attachment; filename="sin extension.jpg"'),
        ("foto.JPEG", 'attachment; filename="foto.JPEG"'),
        ('la "foto".jpg', 'attachment; filename="la \\"foto\\".jpg"'),
        ("amenaza ñ.jpg", "attachment; filename*=utf-8''amenaza%20%C3%B1.jpg"),
    ],
)
def test_a_download_is_an_attachment_with_a_safe_name(world, login, name, disposition):
    report, evidence = report_with(world, name, jpeg_bytes())
    response = login(world.coordinator).get(f"/o/org-a/threats/{report.pk}/evidence/{evidence.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == disposition
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response["Cache-Control"]


def test_one_form_post_keeps_at_most_max_files(world, evidence_store):
    photo = jpeg_bytes(16)
    files = [upload(f"foto-{n:02}.jpg", photo) for n in range(vault.MAX_FILES + 3)]
    response = Client().post("/report/org-a/", form_data(evidence=files))
    assert response.status_code == 200
    assert EvidenceFile.objects.count() == vault.MAX_FILES
    refused = [name for name, _why in response.context["receipt"].refused_files]
    assert refused == [f"foto-{n:02}.jpg" for n in range(vault.MAX_FILES, vault.MAX_FILES + 3)]
    blobs = [p for p in evidence_store.rglob("*") if p.is_file()]
    assert len(blobs) == vault.MAX_FILES
    assert not [p for p in blobs if p.suffix == ".part"]
