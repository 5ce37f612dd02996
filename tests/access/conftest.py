"""One world per test module for the access matrix (tests/access/world.py), built once
inside a transaction that is rolled back when the module ends. Each test runs in a
savepoint of it, so whatever an allowed persona's request writes is undone before the
next test, and nothing of the world outlives the module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from amparo.people import actions as people_actions
from tests.access.world import AccessWorld, build_world, sign_in

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def access_world(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AccessWorld]:
    evidence = tmp_path_factory.mktemp("access-evidence")
    # The demo's inbox is switched on so that its routes are asked too.
    with override_settings(
        EVIDENCE_DIR=evidence, PASSWORD_HASHERS=FAST_HASHER, AMPARO_DEMO_INBOX=True
    ):
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
        try:
            with django_db_blocker.unblock():
                world = build_world()
                for name, persona in world.personas.items():
                    if persona is None:
                        continue
                    world.cookies[name] = sign_in(persona)
                    _token, secret = people_actions.create_api_token("test", persona.user, name)
                    world.tokens[name] = secret
            yield world
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)


@pytest.fixture
def _django_db_helper(access_world: AccessWorld, django_db_blocker: Any) -> Iterator[None]:
    """What a ``django_db`` test of this directory gets instead of pytest-django's own
    fixture of that name: a savepoint of the world's transaction. pytest-django would
    open a Django ``TestCase`` for each test (its atomic blocks, then a check of every
    foreign key before the rollback), about 25 ms a test; the matrix has over 4,000.
    Should pytest-django rename its fixture, the tests fall back to it: slower, as
    correct."""
    with django_db_blocker.unblock():
        savepoint = transaction.savepoint()
        try:
            yield
        finally:
            transaction.savepoint_rollback(savepoint)
