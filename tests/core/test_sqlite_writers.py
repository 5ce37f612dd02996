"""The SQLite backend's writers' mutex (amparo/core/db/sqlite3/base.py): the threads of
one process that write to a file database take turns on a lock instead of SQLite's
sleeping busy handler; nothing is lost, the lock is released however a transaction ends,
and a transaction left open never deadlocks the others.

These tests open a file database of their own (the suite's SQLite database is in memory,
where the mutex is not used), so they run the same whichever database the suite is on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connections, transaction

from amparo.core.db.sqlite3 import base

ALIAS = "writers_test"


@pytest.fixture
def alias(tmp_path: Path, django_db_blocker: Any) -> Iterator[str]:
    """A second database alias on a file, with the product's SQLite options."""
    options = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 2,
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA busy_timeout=2000;",
    }
    configured = connections.configure_settings(
        {
            "default": dict(connections.settings["default"]),
            ALIAS: {
                "ENGINE": "amparo.core.db.sqlite3",
                "NAME": str(tmp_path / "writers.sqlite3"),
                "OPTIONS": options,
            },
        }
    )
    connections.settings[ALIAS] = configured[ALIAS]
    with django_db_blocker.unblock():
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
            cursor.execute("INSERT INTO counter VALUES (0)")
        connections[ALIAS].close()
        try:
            yield ALIAS
        finally:
            assert not base._writers.locked(), "a transaction left the writers' mutex taken"
            connections[ALIAS].close()
            del connections.settings[ALIAS]
            if hasattr(connections._connections, ALIAS):
                delattr(connections._connections, ALIAS)


def _value(alias: str) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        return int(cursor.fetchone()[0])


def _run(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()


def test_concurrent_writers_of_one_process_lose_nothing_and_take_turns(alias):
    """Eight threads each add one 25 times, reading then writing inside a transaction
    with a pause between: no increment is lost, none fails with "database is locked",
    no two transactions are ever inside at once, and the mutex is free at the end."""
    inside = 0
    most_inside = 0
    guard = threading.Lock()
    errors: list[BaseException] = []

    def writer() -> None:
        nonlocal inside, most_inside
        try:
            for _ in range(25):
                with transaction.atomic(using=alias):
                    with guard:
                        inside += 1
                        most_inside = max(most_inside, inside)
                    with connections[alias].cursor() as cursor:
                        cursor.execute("SELECT n FROM counter")
                        n = cursor.fetchone()[0]
                        time.sleep(0.001)
                        cursor.execute("UPDATE counter SET n = %s", [n + 1])
                    with guard:
                        inside -= 1
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections[alias].close()

    _run([threading.Thread(target=writer) for _ in range(8)])
    assert errors == []
    assert _value(alias) == 8 * 25
    assert most_inside == 1


def test_the_mutex_is_released_by_a_rollback_and_by_closing_the_connection(alias):
    with pytest.raises(RuntimeError), transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:
            cursor.execute("UPDATE counter SET n = 99")
        assert base._writers.locked()
        raise RuntimeError("rolled back")
    assert not base._writers.locked()
    assert _value(alias) == 0

    atomic = transaction.atomic(using=alias)
    atomic.__enter__()
    assert base._writers.locked()
    connections[alias].close()  # e.g. a worker thread that dies mid-transaction
    assert not base._writers.locked()
    atomic.__exit__(None, None, None)  # Django notes the connection closed in the block

    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("UPDATE counter SET n = 1")
    assert not base._writers.locked()
    assert _value(alias) == 1


def test_a_transaction_left_open_delays_the_others_but_does_not_deadlock_them(alias):
    """Thread A holds a transaction open; thread B waits for the mutex up to the busy
    timeout (2 s), then for SQLite's lock as long again (so at least 4 s: the mutex
    was waited on first), and fails with "database is locked" instead of hanging; once
    A commits, B's next try goes through."""
    opened = threading.Event()
    finish = threading.Event()
    outcome: dict[str, Any] = {}

    def holder() -> None:
        with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
            cursor.execute("UPDATE counter SET n = 10")
            opened.set()
            finish.wait(timeout=30)
        connections[alias].close()

    def waiter() -> None:
        opened.wait(timeout=10)
        began = time.monotonic()
        try:
            with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                cursor.execute("UPDATE counter SET n = n + 1")
        except OperationalError as exc:
            outcome["error"] = str(exc)
        outcome["waited"] = time.monotonic() - began
        connections[alias].close()

    a = threading.Thread(target=holder)
    b = threading.Thread(target=waiter)
    a.start()
    b.start()
    b.join(timeout=30)
    assert not b.is_alive()
    finish.set()
    a.join(timeout=30)
    assert "locked" in outcome.get("error", "")
    assert outcome["waited"] >= 3.9
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("UPDATE counter SET n = n + 1")
    assert _value(alias) == 11
