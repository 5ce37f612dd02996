"""Every page carries a strict Content-Security-Policy with no inline script, and pages
that include scripts load them from files only."""

from __future__ import annotations

import re


def test_it_sends_a_strict_csp_on_every_page(client, db):
    response = client.get("/accounts/login/")
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_it_has_no_inline_script_in_pages(world, login):
    client = login(world.coordinator)
    for path in [
        "/accounts/login/",
        "/o/org-a/",
        "/o/org-a/people/",
        "/o/org-a/directory/",
        "/o/org-a/safe-houses/",
        "/o/org-a/members/",
        "/accounts/settings/",
    ]:
        html = client.get(path).content.decode()
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, f"inline script on {path}: {tag}"
        assert " style=" not in html, f"inline style on {path}"
        assert re.search(r"\son[a-z]+=", html) is None, f"inline handler on {path}"


def test_it_serves_vendored_front_end_libraries(client, db):
    for path in [
        "/static/vendor/pico/pico.min.css",
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet/leaflet.css",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
