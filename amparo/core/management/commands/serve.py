"""``amparo serve``: the web process (gunicorn, sync workers with threads)."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web application with gunicorn."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers", type=int, default=0, help="default: 2 per core, 1 per core on SQLite"
        )
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--access-log", action="store_true", help="log every request")

    def handle(self, *args: Any, **options: Any) -> None:
        sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        # SQLite has one write lock: more processes than cores only queue for it. One per
        # core lets request handling run in parallel while the writes take turns
        # (amparo/core/db/sqlite3; bench/README.md, "Writers' locks on SQLite").
        cores = os.cpu_count() or 1
        workers = options["workers"] or (cores if sqlite else 2 * cores)
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
