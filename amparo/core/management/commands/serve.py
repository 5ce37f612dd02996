"""``amparo serve``: the web process (gunicorn: one worker process per core and one more,
each handling one request at a time unless ``--threads`` says otherwise)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web application with gunicorn."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=0, help="default: cores + 1")
        parser.add_argument(
            "--threads",
            type=int,
            default=1,
            help="threads per worker (default 1; 4 when phones reach the server without a "
            "buffering proxy in front, so that slow uploads do not hold every worker)",
        )
        parser.add_argument("--access-log", action="store_true", help="log every request")

    def handle(self, *args: Any, **options: Any) -> None:
        # One request at a time per process: threads of one process take turns at the
        # GIL, and a thread that holds SQLite's write lock (or the audit chain's head row
        # on PostgreSQL) waited for the GIL while its siblings compiled queries, so every
        # other writer waited too. With four threads per process check-ins ran at 251/s
        # and with one at 356/s on SQLite, 164/s and 203/s on PostgreSQL (2026-11-28).
        # One process per core and one more to run while another waits for the
        # database: on 2 cores, 3 processes against 4 gave 266 and 237 reports/s on
        # SQLite, 217 and 183 on PostgreSQL; 525 and 417 check-ins/s on SQLite, 330 and
        # 356 on PostgreSQL; 2 or 6 processes were slower (bench/README.md, 2026-11-29).
        cores = os.cpu_count() or 1
        workers = options["workers"] or cores + 1
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "amparo.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(workers),
            "--threads",
            str(options["threads"]),
            "--graceful-timeout",
            "10",
        ]
        # No access log unless asked: paths carry invitation and acknowledgement tokens.
        if options["access_log"]:
            argv += ["--access-logfile", "-"]
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn
