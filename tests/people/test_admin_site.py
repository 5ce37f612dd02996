"""The Django admin is for platform administrators only, behind MFA."""

from __future__ import annotations

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from amparo.people import actions
from conftest import PASSWORD, totp_now


def test_it_keeps_organisation_staff_out_of_the_admin(world, login):
    client = login(world.coordinator)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_it_requires_mfa_of_a_platform_admin(db):
    admin_user = actions.create_user(
        "test", email="root@example.org", password=PASSWORD, is_staff=True, is_superuser=True
    )
    client = Client()
    client.post("/accounts/login/", {"username": admin_user.email, "password": PASSWORD})
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/mfa/setup/")

    device = TOTPDevice.objects.create(user=admin_user, name="t", confirmed=True)
    response = client.get("/admin/")
    assert response["Location"].startswith("/accounts/mfa/verify/")
    client.post("/accounts/mfa/verify/", {"token": totp_now(device)})
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/core/auditentry/").status_code == 200
