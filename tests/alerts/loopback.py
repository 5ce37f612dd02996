"""Loopback receivers and real worker processes for the delivery and exactly-once tests.

Everything listens on 127.0.0.1 only (CONVENTIONS.md point 8: no network but loopback):

- ``SMTPSink``: a real SMTP server (aiosmtpd) that keeps every message it is handed;
- ``WebhookReceiver``: an HTTP server for Apprise's ``json://`` URLs that answers a chosen
  status and records each request with its ``X-Amparo-Idempotency-Key``;
- ``SilentServer``: accepts connections and never answers (a hanging gateway);
- ``IsolatedDatabase``: a fresh SQLite file or PostgreSQL database for worker processes,
  read back with plain DB-API queries;
- ``WorkerProcess``: ``python -m amparo.cli worker`` in a subprocess, its output collected.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parents[2]
IDEMPOTENCY_HEADER = "X-Amparo-Idempotency-Key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float, step: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; that value, or None."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


# E-mail


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, self.message.as_string()[:500]
        return str(part.get_content())  # type: ignore[attr-defined]


class SMTPSink:
    """A plain (no TLS, no login) SMTP server on loopback, as Apprise's ``mailto://`` sees
    a local relay."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[ReceivedMail] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.received.append(
                ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
            )
        return "250 OK"

    def url(self, sender: str = "amparo@example.org") -> str:
        """The Apprise URL of a DeliveryChannel sending through this server."""
        return f"mailto://127.0.0.1:{self.port}?from={sender}&to={{to}}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        wait_until(lambda: len(self.received) >= count, timeout)
        with self._lock:
            return list(self.received)

    def __enter__(self) -> SMTPSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


# Webhooks


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    payload: dict[str, Any]
    at: float  # time.monotonic() when it arrived
    status: int  # what the receiver answered

    @property
    def key(self) -> str:
        return self.headers.get(IDEMPOTENCY_HEADER, "")


class WebhookReceiver:
    """An HTTP server for Apprise ``json://`` URLs. ``status`` (or ``respond(path)``) sets
    what it answers; every request is recorded, answered or not."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.respond: Callable[[str], int] | None = None
        self.received: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status = receiver.respond(self.path) if receiver.respond else receiver.status
                try:
                    payload = json.loads(raw or b"{}")
                except ValueError:
                    payload = {"raw": raw.decode("utf-8", "replace")}
                with receiver._lock:
                    receiver.received.append(
                        ReceivedRequest(
                            self.path, dict(self.headers), payload, time.monotonic(), status
                        )
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str = "hook", query: str = "") -> str:
        return f"json://127.0.0.1:{self.port}/{path}" + (f"?{query}" if query else "")

    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self.received)

    def delivered(self) -> list[ReceivedRequest]:
        """Requests answered with success: what the sender counts as delivered."""
        return [r for r in self.requests() if 200 <= r.status < 300]

    def key_counts(self) -> Counter[str]:
        return Counter(r.key for r in self.delivered())

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        wait_until(lambda: len(self.received) >= count, timeout)
        return self.requests()

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class SilentServer:
    """Accepts TCP connections and never reads or answers: a gateway that hangs."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)  # held open, never answered

    def url(self, path: str = "hook", query: str = "") -> str:
        return f"json://127.0.0.1:{self.port}/{path}" + (f"?{query}" if query else "")

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self._sock.close()


# Isolated databases for worker processes


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    # No installation-wide channel may catch a message the test did not route.
    for name in (
        "AMPARO_SMS_URL",
        "AMPARO_EMAIL_URL",
        "AMPARO_WEBHOOK_URL",
        "AMPARO_SIGNAL_URL",
        "AMPARO_TELEGRAM_URL",
        "AMPARO_TEST_SQLITE_NAME",
        "AMPARO_DEBUG",
    ):
        env.pop(name, None)
    # The worker runs as deployed: persistent connections (tests.testenv turns them off
    # for the test process only).
    env.pop("AMPARO_CONN_MAX_AGE", None)
    env["PYTHONUNBUFFERED"] = "1"
    env["SECRET_KEY"] = os.environ["SECRET_KEY"]
    env["AMPARO_MASTER_KEY"] = os.environ["AMPARO_MASTER_KEY"]
    return env


class IsolatedDatabase:
    """One database of its own for a test's worker processes: a SQLite file in a fresh
    ``AMPARO_DATA_DIR``, or, when ``DATABASE_URL`` is set, a fresh PostgreSQL database
    ``amparo_wk_<random>`` on the same server, dropped afterwards."""

    def __init__(self, tmp_path: Path) -> None:
        self.env = _base_env()
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        self.env["AMPARO_DATA_DIR"] = str(data_dir)
        server_url = os.environ.get("DATABASE_URL", "")
        self.vendor = "postgresql" if server_url else "sqlite"
        self.sqlite_path = data_dir / "amparo.sqlite3"
        self._server_url = server_url
        self.name = ""
        self.url = ""
        if server_url:
            import psycopg

            self.name = f"amparo_wk_{secrets.token_hex(6)}"
            parts = urlsplit(server_url)
            self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
            # The database DATABASE_URL names need not exist (the suite runs on test_*):
            # create and drop from the server's maintenance database, as Django does.
            self._server_url = urlunsplit(parts._replace(path="/postgres"))
            with psycopg.connect(self._server_url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self.name}"')
            self.env["DATABASE_URL"] = self.url
        else:
            self.env.pop("DATABASE_URL", None)

    def drop(self) -> None:
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect(self._server_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read with plain DB-API (``%s`` placeholders), from outside every worker."""
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]
        lite = sqlite3.connect(self.sqlite_path, timeout=10, isolation_level=None)
        try:
            return list(lite.execute(sql.replace("%s", "?"), params).fetchall())
        finally:
            lite.close()

    def cli(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m amparo.cli ARGS`` against this database; fail loudly."""
        result = subprocess.run(
            [sys.executable, "-m", "amparo.cli", *args],
            cwd=REPO,
            env={**self.env, **(env or {})},
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
def isolated_database(tmp_path: Path) -> Iterator[IsolatedDatabase]:
    database = IsolatedDatabase(tmp_path)
    try:
        yield database
    finally:
        database.drop()


# Worker processes


@dataclass
class WorkerProcess:
    """``python -m amparo.cli worker`` with its output read line by line in threads."""

    label: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, label: str, env: dict[str, str], *args: str, log_dir: Path) -> WorkerProcess:
        process = subprocess.Popen(
            [sys.executable, "-m", "amparo.cli", "worker", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a Ctrl-C of the test run does not reach it twice
        )
        worker = cls(label, process)
        log = (log_dir / f"worker-{label}.log").open("w", encoding="utf-8")

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                worker.lines.append(line.rstrip("\n"))
                log.write(line)
                log.flush()
            log.close()

        threading.Thread(target=read, daemon=True).start()
        return worker

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def name_prefix(self) -> str:
        """How the worker names itself in ``claimed_by``: ``<host>:<pid>/``."""
        return f"{socket.gethostname()}:{self.pid}/"

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_running(self, timeout: float = 30) -> None:
        running = wait_until(
            lambda: (
                self.process.poll() is not None or any(" running: " in line for line in self.lines)
            ),
            timeout,
        )
        assert running and self.process.poll() is None, (
            f"worker {self.label} did not start:\n{self.output()[-3000:]}"
        )

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 20) -> int | None:
        """SIGTERM; the exit code, or None when it did not stop in time."""
        os.kill(self.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def reap(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


# Fault injection for one worker process


# Installed as ``sitecustomize`` for ONE worker process only (through PYTHONPATH), so that
# the kill lands at a known point instead of wherever a timer happens to fall. It wraps two
# functions of the real code, changing nothing else:
# - ``actions.execute_step``: on the Nth step this process executes, after the step has
#   written its outbox rows and ack links but before the claiming transaction (the batch
#   of steps, with their audit entries) commits, it reports "paused <step id>" and
#   sleeps: the test kills it there, mid-step.
# - ``clock.attempt`` reports "sending <key>" before a delivery and ``clock.record``
#   "marked <key>" once the outcome is committed, so the test knows which messages the
#   process had in hand (sent, maybe, but not yet marked).
# Reports are appended with O_APPEND writes, one line each, visible to the test at once.
FAULT_HOOK = """
import os

_EVENTS = os.environ.get("AMPARO_TEST_EVENTS")
if _EVENTS:
    import django.core.management as _management

    _original_entry = _management.execute_from_command_line

    def _install():
        import threading
        import time

        from amparo.alerts import actions, clock

        fd = os.open(_EVENTS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        pause_at = int(os.environ.get("AMPARO_TEST_PAUSE_AT_STEP", "0"))
        lock = threading.Lock()
        executed = [0]

        def report(line):
            os.write(fd, (line + "\\n").encode())

        execute_step = actions.execute_step
        attempt = clock.attempt
        record = clock.record

        def paused_execute_step(step, worker="", batch=None):
            created = execute_step(step, worker, batch)
            with lock:
                executed[0] += 1
                number = executed[0]
            if number == pause_at:
                report(f"paused {step.pk}")
                time.sleep(60)
            report(f"executed {step.pk}")
            return created

        def reported_attempt(message, template):
            report(f"sending {message.idempotency_key}")
            return attempt(message, template)

        def reported_record(outcomes):
            from django.db import transaction

            record(outcomes)
            keys = [outcome.message.idempotency_key for outcome in outcomes]
            # Reported once the outcome is committed (the worker records inside its turn's
            # transaction; a kill before the commit leaves the message in hand).
            transaction.on_commit(lambda: [report(f"marked {key}") for key in keys])

        actions.execute_step = paused_execute_step
        clock.attempt = reported_attempt
        clock.record = reported_record

    def _entry(argv=None):
        _install()
        return _original_entry(argv)

    _management.execute_from_command_line = _entry
"""


def fault_hook_env(tmp_path: Path, events: Path, pause_at_step: int) -> dict[str, str]:
    """Environment that installs ``FAULT_HOOK`` in one worker process."""
    hook_dir = tmp_path / "fault-hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(FAULT_HOOK, encoding="utf-8")
    return {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(hook_dir), str(REPO)])),
        "AMPARO_TEST_EVENTS": str(events),
        "AMPARO_TEST_PAUSE_AT_STEP": str(pause_at_step),
    }


def read_events(events: Path) -> list[tuple[str, str]]:
    if not events.exists():
        return []
    pairs = []
    for line in events.read_text(encoding="utf-8").splitlines():
        kind, _, value = line.partition(" ")
        pairs.append((kind, value))
    return pairs
