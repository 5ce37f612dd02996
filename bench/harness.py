"""What the benchmarks share: an isolated database with fresh secrets, the ``amparo``
command in a subprocess, a loopback webhook receiver, and percentiles.

Everything listens on and talks to 127.0.0.1 only. The benchmarks are run by hand
(bench/README.md, bench/run_all); the test suite imports only this module and
bench/scaleout.py, for its small scale-out run (tests/scaleout/test_scaleout.py).
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
IDEMPOTENCY_HEADER = "X-Amparo-Idempotency-Key"
RESULT_MARKER = "BENCH-RESULT "
# The PostgreSQL server the benchmark databases are made on (and dropped from).
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# How the benchmark databases are named: the prefix, then 8 random hex digits.
# BENCH_POSTGRES_PREFIX changes it (a shared server may reserve a prefix per user).
DEFAULT_POSTGRES_PREFIX = "amparo_bench_"

# Settings the benchmark must not inherit from the shell it is started from.
_INHERITED_SECRETS = (
    "DATABASE_URL",
    "DATABASE_URL_FILE",
    "AMPARO_DATA_DIR",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "AMPARO_MASTER_KEY",
    "AMPARO_MASTER_KEY_FILE",
    "AMPARO_WEBHOOK_URL",
    "AMPARO_SMS_URL",
    "AMPARO_EMAIL_URL",
    "AMPARO_SIGNAL_URL",
    "AMPARO_TELEGRAM_URL",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def machine() -> str:
    cores = os.cpu_count() or 0
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{cores} cores, load average before the run {load}"


# The database


@dataclass
class Database:
    """A fresh database with its own secrets; ``env`` runs the ``amparo`` command on it."""

    kind: str  # "sqlite" or "postgresql"
    env: dict[str, str]
    workdir: Path
    name: str
    logs: list[Path] = field(default_factory=list)

    def amparo(
        self, *args: str, timeout: float = 300, extra_env: dict[str, str] | None = None
    ) -> str:
        """Run ``python -m amparo.cli <args>`` to completion; its standard output."""
        env = dict(self.env, **(extra_env or {}))
        done = subprocess.run(
            [sys.executable, "-m", "amparo.cli", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"amparo {' '.join(args[:2])} failed ({done.returncode}):\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
            )
        return done.stdout

    def shell(self, code: str, timeout: float = 300, **spec: Any) -> Any:
        """Run Python in ``amparo shell -c`` with ``BENCH_SPEC`` set to ``spec`` (JSON);
        the JSON the code prints after RESULT_MARKER."""
        out = self.amparo(
            "shell", "-c", code, timeout=timeout, extra_env={"BENCH_SPEC": json.dumps(spec)}
        )
        for line in out.splitlines():
            if line.startswith(RESULT_MARKER):
                return json.loads(line[len(RESULT_MARKER) :])
        raise RuntimeError(f"no result from the shell script:\n{out[-2000:]}")

    def start(self, name: str, *args: str) -> subprocess.Popen[str]:
        """Start ``python -m amparo.cli <args>`` in the background, its output in a log."""
        log_path = self.workdir / f"{name}.log"
        self.logs.append(log_path)
        log: IO[str] = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(
            [sys.executable, "-m", "amparo.cli", *args],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def scalar(self, sql: str) -> Any:
        """One value read straight from the database (plain DB-API, no Django), for
        polling progress while the workers run."""
        if self.kind == "sqlite":
            import sqlite3

            with contextlib.closing(
                sqlite3.connect(f"file:{self.name}?mode=ro", uri=True, timeout=30)
            ) as conn:
                return conn.execute(sql).fetchone()[0]
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"]) as conn:
            return conn.execute(sql).fetchone()[0]

    def log_problems(self) -> Counter[str]:
        """How many tracebacks and 'database busy' warnings the processes logged."""
        found: Counter[str] = Counter()
        for path in self.logs:
            text = path.read_text(encoding="utf-8", errors="replace")
            found["tracebacks"] += text.count("Traceback (most recent call last)")
            found["database busy"] += text.count("database busy")
        return found


def _fresh_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "AMPARO_MASTER_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"benchmarks talk to 127.0.0.1 only, not {host!r}")


@contextlib.contextmanager
def isolated_database(
    postgres: bool,
    postgres_url: str = DEFAULT_POSTGRES_URL,
    prefix: str | None = None,
    **extra_env: str,
) -> Iterator[Database]:
    """A migrated, empty database of its own: a fresh AMPARO_DATA_DIR for SQLite, or a fresh
    ``<prefix><random>`` PostgreSQL database (``amparo_bench_`` unless ``prefix`` or
    BENCH_POSTGRES_PREFIX says otherwise), dropped afterwards. The secrets are generated
    here and never written anywhere but the child processes' environment."""
    workdir = Path(tempfile.mkdtemp(prefix="amparo-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED_SECRETS}
    env.update(_fresh_secrets())
    env["AMPARO_DATA_DIR"] = str(workdir / "data")
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("AMPARO_SECURE_COOKIES", "false")
    # The benchmarks drive the API and the SMS paths at hundreds of requests a second from
    # 127.0.0.1: the per-address rate limits (issue 10) would measure the limiter instead.
    env.setdefault("AMPARO_RATE_LIMITS", "false")
    env.update(extra_env)
    name = str(workdir / "data" / "amparo.sqlite3")
    admin = None
    if postgres:
        import psycopg

        _check_loopback(postgres_url)
        prefix = prefix or os.environ.get("BENCH_POSTGRES_PREFIX") or DEFAULT_POSTGRES_PREFIX
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", prefix):
            raise SystemExit(f"not a usable database name prefix: {prefix!r}")
        name = f"{prefix}{secrets.token_hex(4)}"
        admin = psycopg.connect(postgres_url, autocommit=True)
        admin.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(postgres_url)
        env["DATABASE_URL"] = parts._replace(path=f"/{name}").geturl()
    db = Database(kind="postgresql" if postgres else "sqlite", env=env, workdir=workdir, name=name)
    try:
        db.amparo("migrate", "--noinput")
        yield db
    finally:
        if admin is not None:
            with contextlib.suppress(Exception):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        if os.environ.get("BENCH_KEEP"):
            print(f"(kept {workdir})")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def stop(process: subprocess.Popen[str], grace: float = 25.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; the whole process group."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for_line(path: Path, needle: str, timeout: float, process: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in path.read_text(encoding="utf-8", errors="replace"):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.05)
    return False


# The loopback webhook


@dataclass(frozen=True)
class Arrival:
    key: str
    wall: float  # time.time() when the request arrived
    mono: float  # time.monotonic() when the request arrived
    payload: dict[str, Any]


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 for Apprise ``json://`` URLs: answers 200 and records
    each request's idempotency key and arrival time."""

    def __init__(self) -> None:
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                wall, mono = time.time(), time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    payload = json.loads(raw or b"{}")
                except ValueError:
                    payload = {}
                with receiver._lock:
                    receiver.arrivals.append(
                        Arrival(self.headers.get(IDEMPOTENCY_HEADER, ""), wall, mono, payload)
                    )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def snapshot(self) -> list[Arrival]:
        with self._lock:
            return list(self.arrivals)

    def unique_keys(self) -> int:
        with self._lock:
            return len({a.key for a in self.arrivals})

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def fmt_seconds(value: float) -> str:
    if value != value:  # NaN
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def write_json(path: str | None, payload: dict[str, Any]) -> None:
    """The figures of a run, machine-readable, for ``bench/run_all.py`` (``--json PATH``).
    NaN (no value measured) becomes null."""
    if not path:
        return

    def clean(value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    Path(path).write_text(json.dumps(clean(payload), indent=2) + "\n", encoding="utf-8")


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([line, rule, *body])
