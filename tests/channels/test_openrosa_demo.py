"""The demo's OpenRosa app users (issue 9, point 6): each one that demo.json lists signs
in with Digest, as ODK Collect does, and gets its organisation's form list; it is not
let into another organisation's server."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management import call_command
from django.test import Client

from tests.channels.openrosa_phone import Phone


def test_each_demo_app_user_gets_the_form_list_with_digest(db):
    call_command("demo", no_serve=True)
    demo = json.loads((settings.DATA_DIR / "demo.json").read_text())
    users = demo["openrosa_users"]
    assert set(users) == {o["slug"] for o in demo["organisations"]}
    slugs = sorted(users)
    for slug, user in users.items():
        assert user["server_url"] == f"/openrosa/{slug}"
        phone = Phone(Client(), user["username"], user["password"])
        response = phone.send("GET", f"{user['server_url']}/formList")
        assert response.status_code == 200, (slug, response.status_code)
        # Challenged once, then answered with Digest (never Basic over plain HTTP).
        assert phone.log == [401, 200]
        assert phone.challenge is not None
        assert response["X-OpenRosa-Version"] == "1.0"
        assert b"<formID>amparo_threat_report</formID>" in response.content
        assert b"<formID>amparo_hotspot_observation</formID>" in response.content
        assert f"/openrosa/{slug}/forms/".encode() in response.content
        other = slugs[(slugs.index(slug) + 1) % len(slugs)]
        elsewhere = phone.send("GET", f"/openrosa/{other}/formList")
        assert elsewhere.status_code == 401
