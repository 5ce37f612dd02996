"""PostgreSQL restarted in the middle of an escalation (issue 10, point 2).

The shared server is never touched (other suites use it): the test makes a PostgreSQL
cluster of its own with ``initdb`` and ``pg_ctl`` in a fresh directory on a free port (as
the ``postgres`` user when the tests run as root, since initdb refuses root), so it runs
in the SQLite suite as much as in the PostgreSQL one. A missing initdb fails the test
with a message: CI installs PostgreSQL.

One real ``amparo worker`` (every loop, the task queue included) escalates six alerts to a
loopback gateway while the cluster is restarted twice: ``pg_ctl restart -m fast`` (the
server ends every session and stops cleanly) and then ``-m immediate`` (a crash: the
server restarts through WAL recovery). Asserted:

- the worker process survives both and reconnects: it is still running, each of its
  loops (clock, outbox, auditor, check-ins) beats after the last restart, and its task
  queue thread still runs a task enqueued afterwards;
- nothing is lost: every step is done and every message sent and received;
- nothing is done twice: one ``alert.step_executed`` audit entry per step, one outbox row
  per (step, recipient, channel), each recorded sent after one attempt, and each key
  received exactly once. (The outbox's documented repeat needs a sender's lease to run
  out while its message is in hand; the outages here are far shorter than the lease.)
- the audit chain verifies.

Then, deterministically, what a restart does when it falls inside one of the worker's
turns: the connection of a turn that is recording delivery outcomes is cut (the server
ends its backend). The turn must give up at once and leave the outcomes for the next one
(``clock.record`` used to retry inside the dead transaction for ~50 s, holding the clock
loop); the same cut outside a transaction (the senders' shutdown) is recovered by a new
connection.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.alerts.loopback import WorkerProcess, free_port
from tests.faults.support import (
    MIGRATE_TIMEOUT,
    FaultDatabase,
    Gateway,
    Template,
    beats_of,
    executions_of,
    messages_of,
    release_steps,
    seed_escalation,
    steps_of,
    until,
)

DEADLINE = MIGRATE_TIMEOUT + 150  # the schema is migrated into the new cluster
ALERTS = 6
CONTACTS = 1
STEPS_PER_ALERT = 3
MESSAGES_PER_STEP = 2 * (1 + CONTACTS) + 1
LEASE_SECONDS = 15
WORKER_ARGS = ("--interval", "0.05", "--lease-seconds", str(LEASE_SECONDS))


CUT_CONNECTION = r"""
import json, os, time, uuid

import psycopg
from django.db import connection, transaction
from django.db.utils import Error
from django.utils import timezone

from amparo.alerts import clock
from amparo.alerts.delivery import DeliveryResult
from amparo.alerts.models import OutboxMessage

outcome = clock.Outcome(
    OutboxMessage(pk=uuid.uuid4(), attempts=0), DeliveryResult(True), timezone.now()
)


def cut():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with psycopg.connect(os.environ["AMPARO_FAULT_ADMIN_URL"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    time.sleep(0.3)


result = {}
started = time.monotonic()
try:
    with transaction.atomic():  # as clock.cycle records, inside the turn's transaction
        cut()
        started = time.monotonic()
        clock.record([outcome])
    result["in_turn"] = "recorded"
except Error as exc:
    result["in_turn"] = type(exc).__name__
result["in_turn_seconds"] = time.monotonic() - started
cut()
started = time.monotonic()
clock.record([outcome])  # as the senders' shutdown records, on its own
result["alone_seconds"] = time.monotonic() - started
print(json.dumps(result))
"""


def postgres_bin() -> Path:
    """The directory of initdb and pg_ctl: Debian's /usr/lib/postgresql/<version>/bin
    (15 first, as CI installs), else wherever PATH finds initdb."""
    candidates = ["/usr/lib/postgresql/15/bin"] + sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), reverse=True
    )
    for directory in candidates:
        if Path(directory, "initdb").exists() and Path(directory, "pg_ctl").exists():
            return Path(directory)
    found = shutil.which("initdb")
    if found and Path(found).resolve().with_name("pg_ctl").exists():
        return Path(found).resolve().parent
    pytest.fail(
        "initdb and pg_ctl were not found (looked in /usr/lib/postgresql/*/bin and PATH): "
        "this test starts a PostgreSQL cluster of its own; install the postgresql package",
        pytrace=False,
    )


class PrivateCluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1:<free port>, trust authentication."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        # Under /tmp, not pytest's directories: those are private to the test's user,
        # and the cluster may belong to "postgres".
        self.root = Path(tempfile.mkdtemp(prefix="amparo-faults-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, user="postgres", group="postgres")

    def run(self, *args: str, timeout: float = 90) -> str:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root
        )
        assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}\n"
        return result.stdout

    def start(self) -> None:
        self.run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-locale", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            # Speed for the migration; no test here depends on the disk surviving a
            # power cut, and -m fast and -m immediate keep what the OS was handed.
            "-c fsync=off -c full_page_writes=off -c max_connections=50"
        )
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip

    def restart(self, mode: str) -> None:
        # With its log file again, or the server would keep this call's pipes open.
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-m", mode,
            "-w", "-t", "60", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    private = PrivateCluster()
    try:
        private.start()
        yield private
    finally:
        private.stop()


def database_on(cluster: PrivateCluster, tmp_path: Path) -> FaultDatabase:
    """A migrated database ``amparo`` on the private cluster."""
    import psycopg

    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute('CREATE DATABASE "amparo"')
    keys = {
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "AMPARO_MASTER_KEY": os.environ["AMPARO_MASTER_KEY"],
    }
    template = Template("postgresql", keys, server_url=cluster.url("amparo"))
    database = FaultDatabase(template, tmp_path, existing="amparo")
    database.cli("migrate", "--no-input", "-v0", timeout=MIGRATE_TIMEOUT)
    return database


def test_it_loses_and_repeats_nothing_when_postgresql_restarts_mid_escalation(
    cluster: PrivateCluster, tmp_path: Path
) -> None:
    database = database_on(cluster, tmp_path)
    with Gateway() as gateway:
        groups = seed_escalation(
            database,
            alerts=ALERTS,
            contacts=CONTACTS,
            channels={
                "sms": gateway.url("sms", "+X-To={to}"),
                "email": gateway.url("email", "+X-To={to}"),
                "webhook": gateway.url("webhook"),
            },
            tiers=[("local", 0, 1), ("regional", 2, 0)],
        )
        steps = [step for group in groups for step in group]
        assert len(steps) == ALERTS * STEPS_PER_ALERT
        worker = WorkerProcess.start("pg-restart", database.env, *WORKER_ARGS, log_dir=tmp_path)
        try:
            worker.wait_running(timeout=60)
            release_steps(database, steps, start=0.5, spread=12.0)

            def done_count() -> int:
                return sum(state == "done" for state, *_ in steps_of(database).values())

            until(lambda: done_count() >= 3 and gateway.requests(), 30, "the first steps")
            cluster.restart("fast")  # every session ended, a clean stop and start
            until(lambda: done_count() >= len(steps) // 2, 60, "steps after the fast restart")
            cluster.restart("immediate")  # a crash: WAL recovery at start
            restarted = datetime.now(tz=UTC)
            assert worker.process.poll() is None, worker.output()[-3000:]

            def everything_done() -> bool:
                if done_count() != len(steps):
                    return False
                messages = messages_of(database)
                return (
                    len(messages) == len(steps) * MESSAGES_PER_STEP
                    and all(r.state == "sent" for r in messages.values())
                    and {h.key for h in gateway.requests()} >= set(messages)
                )

            until(everything_done, 90, f"every step and message\n{worker.output()[-3000:]}")

            # The task queue thread is alive too: it runs a task enqueued now.
            enqueued = database.cli(
                "shell", "-c", "from tests.faults.probe import probe; print(probe.enqueue().id)"
            )
            task_id = enqueued.stdout.strip().splitlines()[-1]
            until(
                lambda: (
                    database.query(
                        "SELECT status FROM django_tasks_database_dbtaskresult WHERE id::text = %s",
                        (task_id,),
                    )
                    == [("SUCCESSFUL",)]
                ),
                30,
                f"the probe task to run\n{worker.output()[-3000:]}",
            )
            # Every loop beat after the last restart: each reconnected.
            until(
                lambda: all(
                    beats_of(database).get(loop, restarted) > restarted
                    for loop in ("clock", "outbox", "auditor", "checkins")
                ),
                10,
                f"every loop to beat after the restart: {beats_of(database)}",
            )
            assert worker.process.poll() is None
            code = worker.terminate(timeout=20)
            assert code == 0, f"worker exited {code}:\n{worker.output()[-3000:]}"
        finally:
            worker.reap()
        arrivals = Counter(h.key for h in gateway.requests())

    output = worker.output()
    assert "Exception in thread" not in output, output[-3000:]
    # The restarts really cut the worker off: its loops met the errors and went on.
    assert "trying again" in output, output[-3000:]
    states = steps_of(database)
    assert Counter(state for state, *_ in states.values()) == {"done": len(steps)}
    assert Counter(executions_of(database)) == dict.fromkeys(steps, 1)
    messages = messages_of(database)
    assert Counter(r.step for r in messages.values()) == dict.fromkeys(steps, MESSAGES_PER_STEP)
    assert {(r.state, r.attempts) for r in messages.values()} == {("sent", 1)}
    assert arrivals == dict.fromkeys(messages, 1), {k: n for k, n in arrivals.items() if n > 1}
    assert "audit chain verified" in database.cli("verify_audit").stdout

    # A connection cut inside a turn ends the turn at once; on its own, it is replaced.
    cut = database.cli(
        "shell", "-c", CUT_CONNECTION, env={"AMPARO_FAULT_ADMIN_URL": cluster.url("postgres")}
    )
    figures = json.loads(cut.stdout.strip().splitlines()[-1])
    assert figures["in_turn"] == "OperationalError", figures
    assert figures["in_turn_seconds"] < 2, figures
    assert figures["alone_seconds"] < 5, figures
