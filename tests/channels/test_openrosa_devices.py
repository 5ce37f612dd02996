"""The coordinators' page of OpenRosa app users: create one (password and QR code shown
once), revoke it; nobody else sees the page."""

from __future__ import annotations

import base64
import json
import re
import zlib

from amparo.channels.models import OpenRosaDevice
from amparo.channels.openrosa.views import collect_settings
from amparo.core.models import AuditEntry


def test_it_creates_a_device_and_shows_its_password_once(world, login):
    client = login(world.coordinator)
    response = client.post(
        "/o/org-a/channels/openrosa/",
        {"action": "create", "label": "Teléfono de Rosa", "person": str(world.defender_person.pk)},
    )
    assert response.status_code == 200
    device = OpenRosaDevice.objects.get()
    assert device.person == world.defender_person
    content = response.content.decode()
    password = re.search(r'data-testid="device-password">([^<]+)<', content).group(1)
    assert 'src="data:image/svg+xml' in content
    assert password not in client.get("/o/org-a/channels/openrosa/").content.decode()
    assert AuditEntry.objects.filter(action="openrosa.device_created").exists()


def test_it_revokes_a_device(world, login):
    client = login(world.coordinator)
    client.post("/o/org-a/channels/openrosa/", {"action": "create", "label": "X"})
    device = OpenRosaDevice.objects.get()
    response = client.post(
        "/o/org-a/channels/openrosa/", {"action": "revoke", "device": str(device.pk)}
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.revoked_at is not None


def test_the_qr_code_holds_odk_collect_settings():
    payload = collect_settings("https://amparo.example/openrosa/org-a", "u", "p")
    settings = json.loads(zlib.decompress(base64.b64decode(payload)))
    assert settings["general"] == {
        "server_url": "https://amparo.example/openrosa/org-a",
        "username": "u",
        "password": "p",
    }


def test_it_validates_ownership(world, login):
    client = login(world.coordinator)
    client.post("/o/org-a/channels/openrosa/", {"action": "create", "label": "A"})
    device = OpenRosaDevice.objects.get()
    for persona in (world.coordinator_b, world.defender, world.focal_point):
        other = login(persona)
        assert other.get("/o/org-a/channels/openrosa/").status_code == 404
        response = other.post(
            "/o/org-a/channels/openrosa/", {"action": "revoke", "device": str(device.pk)}
        )
        assert response.status_code == 404
    # A coordinator of B cannot revoke A's device through B's page either.
    other = login(world.coordinator_b)
    response = other.post(
        "/o/org-b/channels/openrosa/", {"action": "revoke", "device": str(device.pk)}
    )
    assert response.status_code == 404
    device.refresh_from_db()
    assert device.revoked_at is None
