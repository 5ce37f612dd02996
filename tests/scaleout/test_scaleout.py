"""Scale-out keeps exactly once (issue 10, point 7): two web processes (`amparo serve`,
gunicorn) and three `amparo worker` processes on one PostgreSQL database, under a small
version of the intake load (a few dozen threat reports over HTTP, alternating between
the two web processes) and of the escalation load (200 steps falling due over a few
seconds), at the same time. Every report answered 201 is stored once with one alert,
every step that fell due ran once and none was lost, every executed step wrote its
messages to the outbox once, and every message reached the loopback receiver once.

The run is bench/scaleout.py's own (``scaleout.run``), on a fresh database of its own on
the server of ``DATABASE_URL`` (named after that URL's database, with ``_so_`` and a
random suffix), migrated by ``amparo migrate`` and dropped afterwards; the pytest-django
test database is not used, since every process that writes is a separate one. The ports
are free ports picked at run time, so the suite can run under pytest-xdist.

PostgreSQL only: the multi-node deployment (docs/operations.md, "Multi-node deployment")
is defined on PostgreSQL; on SQLite every write goes through one lock on one machine.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

BENCH = Path(__file__).resolve().parents[2] / "bench"

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the scale-out deployment (several web and worker processes sharing one "
    "database) is defined on PostgreSQL; SQLite serialises every write through one lock "
    "on one machine. Run the suite with DATABASE_URL=postgres://... to include this test.",
)


def _bench_modules():
    """bench/harness.py and bench/scaleout.py (bench/ is scripts, not a package)."""
    sys.path.insert(0, str(BENCH))
    try:
        import harness
        import scaleout
    finally:
        sys.path.remove(str(BENCH))
    return harness, scaleout


def _server_and_prefix() -> tuple[str, str]:
    """The maintenance database of DATABASE_URL's server, and a name prefix for the
    scratch database made from DATABASE_URL's own database name."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        pytest.skip("the scale-out run talks to a PostgreSQL server on the loopback only")
    base = re.sub(r"[^a-z0-9_]", "_", parts.path.lstrip("/").lower())[:30] or "amparo"
    if not base[0].isalpha():
        base = f"amparo_{base}"[:30]
    return urlunsplit(parts._replace(path="/postgres")), f"{base}_so_"


def test_two_web_and_three_worker_processes_keep_exactly_once(tmp_path):
    harness, scaleout = _bench_modules()
    server, prefix = _server_and_prefix()
    options = scaleout.Options(
        web=2,
        web_workers=1,
        threads=4,
        workers=3,
        clients=4,
        seconds=8.0,
        reports=36,
        steps=200,
        interval=0.05,
        drain=60.0,
        startup=120.0,
        escalation_alerts=20,
    )
    # The processes run as deployed: persistent connections (tests.testenv turns them off
    # for the test process only).
    with (
        harness.WebhookReceiver() as receiver,
        harness.isolated_database(True, server, prefix=prefix, AMPARO_CONN_MAX_AGE="600") as db,
    ):
        result = scaleout.run(db, receiver, options)

    run, checks = result["run"], result["checks"]
    summary = {k: v for k, v in result.items() if k != "options"}
    assert result["exactly_once"], summary
    assert all(v == 0 for v in checks.values()), checks
    assert result["requests"] == 36 and result["requests_failed"] == 0, summary
    # The load really was shared: both web processes answered, and more than one worker
    # ran steps (each step by exactly one of them, as checked above).
    assert len(result["requests_by_web"]) == 2, summary
    assert "-1" not in result["steps_by_worker"], summary
    assert sum(1 for n in result["steps_by_worker"].values() if n) >= 2, summary
    assert result["steps_due"] >= 200 + 36, summary  # the window's and each report's first
    assert run["all_processes_alive"] and run["unsettled_at_end"] == 0, summary
    assert run["log_problems"].get("tracebacks", 0) == 0, summary
