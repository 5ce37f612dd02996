"""Invitations: a manager creates a one-time link; it makes an account with the role;
an expired, used or revoked link is refused and creates nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from amparo.core.models import AuditEntry
from amparo.people import actions
from amparo.people.models import Invitation, Membership, Role, User

NEW_PASSWORD = "río Tambopata 1986 verde"
LINK = re.compile(r"http://testserver(/invite/[^/<\s]+/)")


def invite_through_the_page(c: Client, email: str, role: str) -> str:
    response = c.post("/o/org-a/members/", {"email": email, "role": role})
    assert response.status_code == 200
    match = LINK.search(response.content.decode())
    assert match, "the members page shows no invitation link"
    return match.group(1)


def accounts():
    return User.objects.count(), Membership.objects.count()


@pytest.mark.parametrize("role", [Role.DEFENDER, Role.FOCAL_POINT, Role.LAWYER])
def test_it_creates_an_account_with_the_role(world, login, role):
    link = invite_through_the_page(login(world.coordinator), "Nueva@A.example", role)
    invitation = Invitation.objects.get(email="nueva@a.example")
    assert invitation.role == role
    assert AuditEntry.objects.filter(
        action="invitation.created", object_id=str(invitation.pk)
    ).exists()
    # Only the hash of the token is stored.
    token = link.split("/")[2]
    assert token not in {invitation.token_hash, str(invitation.pk)}

    visitor = Client()
    seq_before = AuditEntry.objects.order_by("-seq").first().seq
    page = visitor.get(link)
    assert page.status_code == 200
    assert "Federación A" in page.content.decode()
    response = visitor.post(link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert urlsplit(response["Location"]).path == "/o/org-a/"
    user = User.objects.get(email="nueva@a.example")
    assert user.check_password(NEW_PASSWORD)
    assert set(user.memberships.values_list("organisation__slug", "role")) == {("org-a", role)}
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    logged = set(AuditEntry.objects.filter(seq__gt=seq_before).values_list("action", flat=True))
    assert logged == {"user.created", "invitation.accepted", "membership.added"}
    # Staff roles must set up MFA before anything else; a defender goes straight in.
    landing = visitor.get("/o/org-a/")
    if role == Role.DEFENDER:
        assert landing.status_code == 200
    else:
        assert urlsplit(landing["Location"]).path == "/accounts/mfa/setup/"


def test_it_refuses_a_used_link(world, login):
    link = invite_through_the_page(login(world.coordinator), "nueva@a.example", Role.DEFENDER)
    Client().post(link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    before = accounts()
    again = Client()
    assert again.get(link).status_code == 404
    response = again.post(link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 404
    assert "accounts/invitation_invalid.html" in {t.name for t in response.templates}
    assert accounts() == before


def test_it_refuses_an_expired_link(world, login):
    link = invite_through_the_page(login(world.coordinator), "nueva@a.example", Role.DEFENDER)
    before = accounts()
    with time_machine.travel(timezone.now() + timedelta(days=actions.INVITATION_DAYS, hours=1)):
        visitor = Client()
        assert visitor.get(link).status_code == 404
        response = visitor.post(link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
        assert response.status_code == 404
    assert accounts() == before
    assert not User.objects.filter(email="nueva@a.example").exists()


def test_it_accepts_a_link_the_day_before_it_expires(world, login):
    link = invite_through_the_page(login(world.coordinator), "nueva@a.example", Role.DEFENDER)
    with time_machine.travel(timezone.now() + timedelta(days=actions.INVITATION_DAYS - 1)):
        response = Client().post(link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 302
    assert User.objects.filter(email="nueva@a.example").exists()


def test_it_refuses_a_revoked_link(world, login):
    c = login(world.coordinator)
    link = invite_through_the_page(c, "nueva@a.example", Role.DEFENDER)
    invitation = Invitation.objects.get(email="nueva@a.example")
    response = c.post(f"/o/org-a/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 302
    assert AuditEntry.objects.filter(
        action="invitation.revoked", object_id=str(invitation.pk)
    ).exists()
    before = accounts()
    assert Client().get(link).status_code == 404
    assert (
        Client().post(link, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}).status_code
        == 404
    )
    assert accounts() == before


def test_it_refuses_a_made_up_link(db):
    assert Client().get("/invite/not-a-real-token/").status_code == 404


def test_it_refuses_a_weak_or_mismatched_password(world, login):
    link = invite_through_the_page(login(world.coordinator), "nueva@a.example", Role.DEFENDER)
    before = accounts()
    visitor = Client()
    for password, again in (("password123", "password123"), (NEW_PASSWORD, NEW_PASSWORD + "x")):
        response = visitor.post(link, {"password": password, "password_again": again})
        assert response.status_code == 200
        assert (
            "form-errors" in response.content.decode() or "field-error" in response.content.decode()
        )
    assert accounts() == before
    assert Invitation.objects.get(email="nueva@a.example").is_open


def test_it_sends_an_existing_account_to_sign_in_first(world, login):
    invitation, token = actions.invite(
        world.coordinator.user,
        world.org_a,
        email=world.coordinator_b.user.email,
        role=Role.PARTNER,
    )
    link = f"/invite/{token}/"
    response = Client().get(link)
    assert urlsplit(response["Location"]).path == "/accounts/login/"
    c = login(world.coordinator_b)
    assert c.get(link).status_code == 200
    response = c.post(link)
    assert urlsplit(response["Location"]).path == "/o/org-a/"
    assert world.coordinator_b.user.roles_in(world.org_a) == {Role.PARTNER}
    invitation.refresh_from_db()
    assert invitation.accepted_by == world.coordinator_b.user


def test_it_refuses_an_invitation_meant_for_someone_else(world, login):
    _invitation, token = actions.invite(
        world.coordinator.user, world.org_a, email="otra@a.example", role=Role.COORDINATOR
    )
    c = login(world.coordinator_b)
    before = accounts()
    c.post(f"/invite/{token}/")
    assert accounts() == before
    assert world.coordinator_b.user.roles_in(world.org_a) == frozenset()


def test_it_lets_only_managers_invite(world, login):
    for persona in (world.defender, world.focal_point, world.supervisor):
        c = login(persona)
        response = c.post("/o/org-a/members/", {"email": "x@a.example", "role": "admin"})
        assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_it_refuses_an_unknown_role(world, login):
    c = login(world.coordinator)
    response = c.post("/o/org-a/members/", {"email": "x@a.example", "role": "emperor"})
    assert response.status_code == 200
    assert not Invitation.objects.exists()
