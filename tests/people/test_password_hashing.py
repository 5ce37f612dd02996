"""Passwords are hashed with argon2 (DESIGN.md section 7)."""

from __future__ import annotations

import pytest

from amparo.people import actions

pytestmark = pytest.mark.argon2


def test_it_hashes_passwords_with_argon2(db):
    user = actions.create_user("test", email="argon@example.org", password="una clave larga 9")
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("una clave larga 9")


def test_it_hashes_the_duress_password_with_argon2(db):
    user = actions.create_user("test", email="duress@example.org", password="una clave larga 9")
    actions.set_duress_password(user, user, "otra clave 7")
    user.refresh_from_db()
    assert user.duress_password.startswith("argon2$argon2id$")
