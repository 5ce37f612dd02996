"""API tokens: `Authorization: Bearer <token>` acts as the token's user; a revoked
token, a missing header, a session cookie alone or a disabled account get 401; only the
token's hash is stored; `amparo token create --user EMAIL` prints a working token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from amparo.core.models import AuditEntry
from amparo.people import actions, token_use
from amparo.people.models import ApiToken

TOKEN = re.compile(r"amp_[A-Za-z0-9_\-]+")


def bearer(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_it_acts_as_the_tokens_user(world):
    token, secret = actions.create_api_token("test", world.coordinator.user, "ODK bridge")
    response = bearer(secret).get("/api/me")
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == world.coordinator.user.email
    assert body["organisations"] == [
        {"slug": "org-a", "name": "Federación A", "roles": ["coordinator"]}
    ]
    assert token_use.flush() == 1
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_last_use_is_noted_once_a_minute_and_written_in_batches(world):
    """Bookkeeping must not turn every API read into a database write: a use is noted at
    most once a minute per token, and the uses are written together once the oldest
    unwritten one is ten seconds old, by the next request."""
    token, secret = actions.create_api_token("test", world.coordinator.user, "n")
    other, other_secret = actions.create_api_token("test", world.coordinator.user, "m")
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        bearer(secret).get("/api/me")
    with time_machine.travel(start + timedelta(seconds=5), tick=False):
        bearer(other_secret).get("/api/me")
        bearer(secret).get("/api/me")
    token.refresh_from_db()
    assert token.last_used_at is None  # noted, not written yet
    with CaptureQueriesContext(connection) as queries:
        with time_machine.travel(start + timedelta(seconds=10), tick=False):
            bearer(other_secret).get("/api/me")
    updates = [q["sql"] for q in queries if "UPDATE" in q["sql"]]
    # Both tokens, one statement run twice, by the request that found the batch due.
    assert len(updates) == 1
    assert updates[0].startswith("2 times: UPDATE")
    token.refresh_from_db()
    other.refresh_from_db()
    assert (token.last_used_at, other.last_used_at) == (start, start + timedelta(seconds=5))
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        bearer(secret).get("/api/me")
    assert token_use.flush() == 0  # within the minute: nothing noted
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        bearer(secret).get("/api/me")
    assert token_use.flush() == 1
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=60)


def test_a_batch_never_moves_a_last_use_backwards(world):
    token, _secret = actions.create_api_token("test", world.coordinator.user, "n")
    later = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=later)
    token_use.note(token.pk, None, now=later - timedelta(minutes=5))
    token_use.flush()
    token.refresh_from_db()
    assert token.last_used_at == later


def test_a_failed_batch_is_kept_for_the_next(world, monkeypatch):
    token, _secret = actions.create_api_token("test", world.coordinator.user, "n")
    at = timezone.now()
    token_use.note(token.pk, None, now=at)

    def busy(*args, **kwargs):
        raise OperationalError("database is locked")

    with monkeypatch.context() as patched:
        patched.setattr(CursorWrapper, "executemany", busy)
        with pytest.raises(OperationalError):
            token_use.flush()
    assert token_use.flush() == 1
    token.refresh_from_db()
    assert token.last_used_at == at


def test_it_stores_only_the_hash(world):
    token, secret = actions.create_api_token("test", world.coordinator.user, "n")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in {str(v) for v in stored.values()}
    assert secret.startswith(stored["prefix"])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer amp_not-a-real-token"},
        {"Authorization": "Token amp_x"},
        {"Authorization": "Basic Y29vcmRpbmF0b3I6eA=="},
    ],
)
def test_it_refuses_a_missing_or_unknown_token(world, headers):
    c = Client(headers=headers)
    assert c.get("/api/me").status_code == 401
    assert c.get("/api/orgs/org-a/people").status_code == 401
    assert (
        c.post(
            "/api/orgs/org-a/people", {"given_names": "X"}, content_type="application/json"
        ).status_code
        == 401
    )


def test_it_refuses_a_session_cookie_alone(world, login):
    c = login(world.coordinator)
    assert c.get("/o/org-a/").status_code == 200
    assert c.get("/api/me").status_code == 401


def test_it_refuses_a_revoked_token(world, login):
    token, secret = actions.create_api_token("test", world.coordinator.user, "n")
    assert bearer(secret).get("/api/me").status_code == 200
    c = login(world.coordinator)
    response = c.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert bearer(secret).get("/api/me").status_code == 401
    assert AuditEntry.objects.filter(action="api_token.revoked", object_id=str(token.pk)).exists()


def test_it_refuses_the_token_of_a_disabled_account(world):
    _token, secret = actions.create_api_token("test", world.coordinator.user, "n")
    world.coordinator.user.is_active = False
    world.coordinator.user.save(update_fields=["is_active"])
    assert bearer(secret).get("/api/me").status_code == 401


def test_it_lets_nobody_else_revoke_a_token(world, login):
    token, secret = actions.create_api_token("test", world.coordinator.user, "n")
    c = login(world.coordinator_b)
    assert c.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert c.post("/accounts/tokens/not-a-uuid/revoke/").status_code == 404
    assert bearer(secret).get("/api/me").status_code == 200


def test_it_creates_a_token_on_the_settings_page(world, login):
    c = login(world.coordinator)
    response = c.post("/accounts/settings/", {"name": "Tella"})
    assert response.status_code == 200
    match = TOKEN.search(response.content.decode())
    assert match, "the new token is not shown"
    assert bearer(match.group(0)).get("/api/me").json()["email"] == world.coordinator.user.email
    assert ApiToken.objects.get(user=world.coordinator.user).name == "Tella"
    assert AuditEntry.objects.filter(action="api_token.created").exists()
    # Shown once: the next visit does not show it again.
    assert match.group(0) not in c.get("/accounts/settings/").content.decode()


def test_it_prints_a_working_token_from_the_command(world):
    out = StringIO()
    call_command("token", "create", "--user", world.coordinator.user.email, stdout=out)
    match = TOKEN.search(out.getvalue())
    assert match, out.getvalue()
    response = bearer(match.group(0)).get("/api/orgs/org-a/people")
    assert response.status_code == 200
    assert str(world.defender_person.pk) in {p["id"] for p in response.json()}
    token = ApiToken.objects.get(user=world.coordinator.user)
    assert AuditEntry.objects.filter(action="api_token.created", object_id=str(token.pk)).exists()


def test_it_revokes_a_token_from_the_command(world):
    token, secret = actions.create_api_token("test", world.coordinator.user, "n")
    call_command("token", "revoke", token.prefix, stdout=StringIO())
    assert bearer(secret).get("/api/me").status_code == 401


def test_it_refuses_a_token_for_an_unknown_account(db):
    with pytest.raises(CommandError):
        call_command("token", "create", "--user", "nobody@example.org", stdout=StringIO())
    assert not ApiToken.objects.exists()
