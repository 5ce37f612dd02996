"""The SQLite backend's writers' locks (amparo/core/db/sqlite3/base.py): the threads of
one process that write to a file database take turns on a mutex, and processes on a lock
file, instead of SQLite's sleeping busy handler; nothing is lost, the locks are released
however a transaction ends, and a transaction left open never deadlocks the others.

These tests open a file database of their own (the suite's SQLite database is in memory,
where the mutex is not used), so they run the same whichever database the suite is on."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
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


HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _hold_in_another_process(database: str, seconds: float) -> subprocess.Popen[str]:
    """Another process (as the worker or a second web process would) holding the
    writers' file lock of ``database`` for ``seconds``, then exiting."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, f"{database}-writers", str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_writers_of_other_processes_take_turns_on_the_lock_file(alias):
    """While another process holds the lock file, a writer here waits for it (and does
    not begin in SQLite); when that process ends, the kernel releases the lock and the
    writer goes on. A process killed while holding it does not block anyone."""
    database = str(connections[alias].settings_dict["NAME"])
    holder = _hold_in_another_process(database, 1.0)
    began = time.monotonic()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        waited = time.monotonic() - began
        cursor.execute("UPDATE counter SET n = n + 1")
    holder.wait(timeout=10)
    assert waited >= 0.5
    assert _value(alias) == 1

    killed = _hold_in_another_process(database, 60)
    probe = os.open(f"{database}-writers", os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free at once: no wait, no error
        fcntl.flock(probe, fcntl.LOCK_UN)
    finally:
        os.close(probe)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("UPDATE counter SET n = n + 1")
    assert _value(alias) == 2
