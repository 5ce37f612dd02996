"""What the fault injection tests share (issue 10, point 2): databases of their own for
real ``amparo worker`` and ``amparo serve`` processes, a loopback gateway that can be told
to answer 200, answer 500 or hang, and the hook that kills a worker at a chosen point.

Databases. Migrating Amparo's schema takes 20 s to over a minute on a busy machine, so it
is done once per run into a template (``Template``), shared by the pytest-xdist workers
under a file lock, and each test gets a copy: a copied SQLite file, or on PostgreSQL a
``CREATE DATABASE ... TEMPLATE`` on the server of ``DATABASE_URL``. The test's processes
use that copy only; the pytest-django test database is not touched.

Everything listens on 127.0.0.1 (CONVENTIONS.md point 8: no network but loopback).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.alerts.loopback import IDEMPOTENCY_HEADER, REPO, wait_until

__all__ = ["REPO", "wait_until"]

MIGRATE_TIMEOUT = 600  # seconds; a loaded 2-core machine needs over a minute


# Environment of the processes under test


def base_env(keys: dict[str, str]) -> dict[str, str]:
    """The environment of a worker or web process: the template's keys, no channel of the
    installation (only what a test configures may receive a message), production mode,
    persistent connections as deployed."""
    env = dict(os.environ)
    for name in (
        "AMPARO_SMS_URL",
        "AMPARO_EMAIL_URL",
        "AMPARO_WEBHOOK_URL",
        "AMPARO_SIGNAL_URL",
        "AMPARO_TELEGRAM_URL",
        "AMPARO_TEST_SQLITE_NAME",
        "AMPARO_DEBUG",
        "AMPARO_CONN_MAX_AGE",
        "AMPARO_EVIDENCE_DIR",
        "DATABASE_URL",
        "PYTHONPATH",
    ):
        env.pop(name, None)
    env.update(keys)
    env["PYTHONUNBUFFERED"] = "1"
    env["AMPARO_LOG_FORMAT"] = "text"
    return env


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m amparo.cli ARGS``; fails loudly."""
    result = subprocess.run(
        [sys.executable, "-m", "amparo.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"amparo {args[0]} exited {result.returncode}\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-3000:]}"
    )
    return result


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def parse_time(value: Any) -> datetime:
    """A timestamp read with plain DB-API: text on SQLite (UTC), aware on PostgreSQL."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


# The schema template and the databases copied from it


@dataclass(frozen=True)
class Template:
    vendor: str  # "sqlite" or "postgresql"
    keys: dict[str, str]  # SECRET_KEY and AMPARO_MASTER_KEY the template was made with
    sqlite_path: str = ""
    server_url: str = ""  # DATABASE_URL of the suite (its database need not exist)
    name: str = ""  # the template database on that server

    def maintenance_url(self) -> str:
        return urlunsplit(urlsplit(self.server_url)._replace(path="/postgres"))

    def url_of(self, name: str) -> str:
        return urlunsplit(urlsplit(self.server_url)._replace(path=f"/{name}"))


def _server_prefix(server_url: str) -> str:
    """Names of this suite's databases start with the name in DATABASE_URL (amparo_h7):
    several suites share the server."""
    name = urlsplit(server_url).path.lstrip("/") or "amparo"
    return name[:30]


def _migrate(env: dict[str, str]) -> None:
    run_cli(
        {**env, "AMPARO_SQLITE_SYNCHRONOUS": "NORMAL"},
        "migrate",
        "--no-input",
        "-v0",
        timeout=MIGRATE_TIMEOUT,
    )


def template_for_run(root: Path, owner: str) -> Template:
    """The run's template for the suite's database, made by the first xdist worker that
    needs it; ``owner`` (the xdist worker) is counted as a user until ``release``."""
    server_url = os.environ.get("DATABASE_URL", "")
    vendor = "postgresql" if server_url else "sqlite"
    marker = root / f"amparo-faults-template-{vendor}.json"
    with file_lock(root / "amparo-faults.lock"):
        users = root / f"amparo-faults-template-{vendor}.users"
        if marker.exists():
            template = Template(**json.loads(marker.read_text()))
        else:
            keys = {
                "SECRET_KEY": os.environ["SECRET_KEY"],
                "AMPARO_MASTER_KEY": os.environ["AMPARO_MASTER_KEY"],
            }
            env = base_env(keys)
            if vendor == "sqlite":
                data_dir = root / "amparo-faults-template-sqlite"
                shutil.rmtree(data_dir, ignore_errors=True)
                data_dir.mkdir()
                env["AMPARO_DATA_DIR"] = str(data_dir)
                _migrate(env)
                template = Template(vendor, keys, sqlite_path=str(data_dir / "amparo.sqlite3"))
            else:
                import psycopg

                name = f"{_server_prefix(server_url)}_ftpl_{secrets.token_hex(4)}"
                template = Template(vendor, keys, server_url=server_url, name=name)
                with psycopg.connect(template.maintenance_url(), autocommit=True) as admin:
                    admin.execute(f'CREATE DATABASE "{name}"')
                try:
                    env["AMPARO_DATA_DIR"] = str(root)
                    env["DATABASE_URL"] = template.url_of(name)
                    _migrate(env)
                except BaseException:
                    with psycopg.connect(template.maintenance_url(), autocommit=True) as admin:
                        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    raise
            marker.write_text(json.dumps(template.__dict__))
        with users.open("a") as handle:
            handle.write(owner + "\n")
    return template


def release_template(root: Path, template: Template, owner: str) -> None:
    """The last user of a PostgreSQL template drops it (a SQLite one goes with the run's
    temporary directory)."""
    if template.vendor != "postgresql":
        return
    with file_lock(root / "amparo-faults.lock"):
        users = root / f"amparo-faults-template-{template.vendor}.users"
        left = [u for u in users.read_text().splitlines() if u and u != owner]
        users.write_text("".join(u + "\n" for u in left))
        if left:
            return
        import psycopg

        with psycopg.connect(template.maintenance_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{template.name}" WITH (FORCE)')
        (root / f"amparo-faults-template-{template.vendor}.json").unlink(missing_ok=True)


class FaultDatabase:
    """A copy of the template for one test's processes, read back with plain DB-API."""

    def __init__(
        self, template: Template, tmp_path: Path, lock: Path | None = None, existing: str = ""
    ) -> None:
        """A copy of ``template``; or, with ``existing``, that database on the template's
        server, used as it is (and not dropped)."""
        self.template = template
        self._owned = not existing
        self.vendor = template.vendor
        self.data_dir = tmp_path / "data"
        self.data_dir.mkdir()
        self.env = base_env(template.keys)
        self.env["AMPARO_DATA_DIR"] = str(self.data_dir)
        self.sqlite_path = self.data_dir / "amparo.sqlite3"
        self.name = ""
        self.url = ""
        if self.vendor == "sqlite":
            shutil.copyfile(template.sqlite_path, self.sqlite_path)
        elif existing:
            self.name = existing
            self.url = template.url_of(existing)
            self.env["DATABASE_URL"] = self.url
        else:
            assert lock is not None
            import psycopg

            self.name = f"{_server_prefix(template.server_url)}_flt_{secrets.token_hex(5)}"
            self.url = template.url_of(self.name)
            # Two copies of one template at once may be refused ("being accessed by other
            # users"): one at a time.
            with (
                file_lock(lock),
                psycopg.connect(template.maintenance_url(), autocommit=True) as admin,
            ):
                admin.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{template.name}"')
            self.env["DATABASE_URL"] = self.url

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    def drop(self) -> None:
        if self.vendor == "postgresql" and self._owned:
            import psycopg

            with psycopg.connect(self.template.maintenance_url(), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read or write (``%s`` placeholders) from outside every process under test."""
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                cursor = conn.execute(sql, params)  # type: ignore[arg-type]
                return list(cursor.fetchall()) if cursor.description else []
        lite = sqlite3.connect(self.sqlite_path, timeout=20, isolation_level=None)
        try:
            return list(lite.execute(sql.replace("%s", "?"), params).fetchall())
        finally:
            lite.close()

    def db_time(self, at: datetime) -> Any:
        """A timestamp as Django stores it (SQLite: naive UTC text)."""
        if self.vendor == "postgresql":
            return at
        return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    def cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return run_cli({**self.env, **(env or {})}, *args, timeout=timeout)


# Seeding an organisation whose escalation reaches loopback gateways

SEED = r"""
import json, os
from datetime import timedelta

from django.utils import timezone

from amparo.alerts import actions as alerts
from amparo.alerts.models import AlertStep, DeliveryChannel
from amparo.people import actions as people

spec = json.loads(os.environ["AMPARO_FAULT_SEED"])
org = people.create_organisation(
    "seed", name="Federación Fallos", slug="faults", kind="indigenous_federation",
    country="PE",
)
user = people.create_user("seed", email="ana.login@faults.example", password=None)
people.add_membership("seed", org, user, "coordinator")
people.create_person(
    "seed", org, given_names="Ana", family_names="Quispe", user=user,
    phone_numbers=["+51982000001"], email="ana@faults.example",
)
targets = [{"type": "role", "role": "coordinator"}]
for i in range(spec["contacts"]):
    people.create_directory_entry(
        "seed", org, category="watch_group", region="Madre de Dios",
        name=f"Vigilancia {i}", phone=f"+5198210{i:04d}", email=f"vigilancia{i}@faults.example",
    )
if spec["contacts"]:
    targets.append({"type": "directory", "category": "watch_group"})
for name, url in spec["channels"].items():
    DeliveryChannel.objects.create(organisation=org, channel=name, url=url)
tiers = [
    {"level": level, "targets": targets, "channels": list(spec["channels"]),
     "delay_minutes": delay, "repeat_count": repeats, "repeat_interval_minutes": 1}
    for level, delay, repeats in spec["tiers"]
]
policy = alerts.save_policy(
    "seed", org, policy=None, name="Fallos", description="", kinds=[], severities=[],
    priority=1, tiers=tiers,
)
groups = []
for i in range(spec["alerts"]):
    alert = alerts.raise_alert(
        "seed", org, kind="threat", severity="high", message=f"Amenaza {i}", policy=policy
    )
    groups.append(list(alert.steps.order_by("due_at", "id").values_list("id", flat=True)))
# Parked until the test releases them (release_steps).
AlertStep.objects.update(due_at=timezone.now() + timedelta(days=1))
print(json.dumps({"steps": groups}))
"""


def seed_escalation(
    database: FaultDatabase,
    *,
    alerts: int,
    contacts: int,
    channels: dict[str, str],
    tiers: list[tuple[str, int, int]],
) -> list[list[int]]:
    """An organisation, its coordinator (SMS and e-mail), ``contacts`` directory entries
    and ``alerts`` raised high threats whose steps are parked a day ahead. ``tiers``: (level,
    delay in minutes, repeats). Returns the step ids of each alert."""
    spec = {"alerts": alerts, "contacts": contacts, "channels": channels, "tiers": tiers}
    result = database.cli("shell", "-c", SEED, env={"AMPARO_FAULT_SEED": json.dumps(spec)})
    groups: list[list[int]] = json.loads(result.stdout.strip().splitlines()[-1])["steps"]
    return groups


def release_steps(database: FaultDatabase, steps: list[int], start: float, spread: float) -> None:
    """Make parked steps fall due ``start`` seconds from now, spread over ``spread`` seconds
    (a plain UPDATE: no process start on the way)."""
    now = time.time()
    for n, step in enumerate(steps):
        due = datetime.fromtimestamp(now + start + spread * n / max(1, len(steps)), tz=UTC)
        database.query(
            "UPDATE alerts_alertstep SET due_at = %s WHERE id = %s", (database.db_time(due), step)
        )


def steps_of(database: FaultDatabase) -> dict[int, tuple[str, str, Any, Any]]:
    """id -> (state, claimed_by, due_at, executed_at)."""
    rows = database.query("SELECT id, state, claimed_by, due_at, executed_at FROM alerts_alertstep")
    return {int(pk): (state, by, due, done) for pk, state, by, due, done in rows}


@dataclass(frozen=True)
class Row:
    key: str
    channel: str
    state: str
    attempts: int
    step: int
    last_error: str
    next_attempt_at: Any


def messages_of(database: FaultDatabase) -> dict[str, Row]:
    rows = database.query(
        "SELECT idempotency_key, channel, state, attempts, step_id, last_error, "
        "next_attempt_at FROM alerts_outboxmessage"
    )
    return {
        key: Row(key, channel, state, int(attempts), int(step), error, next_at)
        for key, channel, state, attempts, step, error, next_at in rows
    }


def executions_of(database: FaultDatabase) -> list[int]:
    """The step of every 'alert.step_executed' audit entry (one per execution that
    committed)."""
    rows = database.query(
        "SELECT details FROM core_auditentry WHERE action = %s", ("alert.step_executed",)
    )
    out = []
    for (details,) in rows:
        parsed = json.loads(details) if isinstance(details, str) else details
        out.append(int(parsed["step"]))
    return out


def beats_of(database: FaultDatabase) -> dict[str, datetime]:
    rows = database.query("SELECT name, beat_at FROM alerts_workerheartbeat")
    return {name: parse_time(at) for name, at in rows}


# A loopback gateway with a switch


@dataclass(frozen=True)
class Hit:
    path: str
    key: str
    mode: str  # what the gateway did: "ok", "fail" or "hang"
    at: float  # time.time() when it arrived

    @property
    def answered_ok(self) -> bool:
        return self.mode == "ok"


class Gateway:
    """An HTTP server for Apprise's ``json://`` URLs. ``mode`` says what it does with each
    request, and may change while it runs: "ok" answers 200, "fail" answers 500, "hang"
    reads the request and then neither answers nor closes until ``hang_seconds`` have
    passed (longer than any client timeout) or the gateway stops. Every request is
    recorded with its ``X-Amparo-Idempotency-Key`` and what was done with it."""

    def __init__(self, mode: str = "ok", hang_seconds: float = 60.0) -> None:
        self.mode = mode
        self.hang_seconds = hang_seconds
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                mode = gateway.mode
                hit = Hit(self.path, self.headers.get(IDEMPOTENCY_HEADER, ""), mode, time.time())
                with gateway._lock:
                    gateway.hits.append(hit)
                if mode == "hang":
                    gateway._stopping.wait(gateway.hang_seconds)
                    self.close_connection = True
                    return
                self.send_response(200 if mode == "ok" else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str, query: str = "") -> str:
        return f"json://127.0.0.1:{self.port}/{path}" + (f"?{query}" if query else "")

    def requests(self, path: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if path is None or h.path.startswith(f"/{path}")]

    def __enter__(self) -> Gateway:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()


def until(predicate: Callable[[], Any], timeout: float, what: str, step: float = 0.05) -> Any:
    """``wait_until`` that fails with ``what`` when time runs out."""
    value = wait_until(predicate, timeout, step)
    assert value, f"timed out after {timeout:.0f}s waiting for {what}"
    return value
