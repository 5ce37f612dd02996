"""``amparo demo --no-serve`` builds the demo world and writes demo.json that scripts can
use to drive it: every role, working passwords, TOTP secrets and API tokens."""

from __future__ import annotations

import base64
import json

from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP

from amparo.core.audit import verify_chain
from amparo.monitoring.models import ReferenceLayer
from amparo.people.models import DirectoryEntry, Organisation, Role, SafeHouse


def totp(secret: str) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key).token():06d}"


def test_it_builds_the_demo_and_writes_demo_json(db):
    call_command("demo", no_serve=True)
    demo = json.loads((settings.DATA_DIR / "demo.json").read_text())

    slugs = {o["slug"] for o in demo["organisations"]}
    assert slugs == {"federacion-mdd", "puesto-tambopata", "comunidad-pando", "dansk-ngo"}
    kinds = {o.kind for o in Organisation.objects.all()}
    assert {"indigenous_federation", "public_institution", "community", "ngo"} <= kinds
    roles = {role for u in demo["users"] for role in u["roles"]}
    assert roles == set(Role.values)
    titles = {u["title"] for u in demo["users"] if u["organisation"] == "dansk-ngo"}
    assert {"Executive Director", "Head of Finance & Programmes", "Security coordinator"} <= titles

    regions = set(DirectoryEntry.objects.values_list("region", flat=True))
    assert any("Puerto Maldonado" in r for r in regions)
    assert any("Cobija" in r for r in regions)
    assert SafeHouse.objects.count() == 2
    layers = {layer.slug: layer for layer in ReferenceLayer.objects.all()}
    assert layers["mining-detections"].feature_count == 1912
    assert layers["indigenous-territories"].feature_count == 17
    assert "Amazon Mining Watch" in layers["countries"].attribution
    assert verify_chain()[1] == []

    # A staff user from demo.json signs in with password and TOTP.
    coordinator = next(u for u in demo["users"] if u["email"].startswith("coordinadora@"))
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": coordinator["email"], "password": coordinator["password"]}
    )
    assert response.status_code == 302
    response = client.post("/accounts/mfa/verify/", {"token": totp(coordinator["totp_secret"])})
    assert response.status_code == 302
    assert client.get("/o/federacion-mdd/safe-houses/").status_code == 200

    # Each coordinator's API token works for its own organisation only.
    token = demo["api_tokens"]["federacion-mdd"]
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/orgs/federacion-mdd/directory").status_code == 200
    assert api.get("/api/orgs/comunidad-pando/directory").status_code == 404


def test_it_can_run_twice(db):
    call_command("demo", no_serve=True)
    call_command("demo", no_serve=True)
    assert Organisation.objects.count() == 4
    demo = json.loads((settings.DATA_DIR / "demo.json").read_text())
    defender = next(u for u in demo["users"] if u["roles"] == ["defender"])
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": defender["email"], "password": defender["password"]}
    )
    assert response.status_code == 302
