"""``amparo demo``: migrate, build the demo world, write demo.json, then serve the web
application and the worker on one machine until Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from amparo.demo.data import build


class Command(BaseCommand):
    help = "Run Amparo with demo data: web on --host:--port plus the worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="prepare only, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Creating the demo organisations, users and map layers…")
        demo = build()
        path = settings.DATA_DIR / "demo.json"
        # The demo is the only place where passwords are written down.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(demo, out, ensure_ascii=False, indent=2)
        base = f"http://{options['host']}:{options['port']}"
        coordinator = next(u for u in demo["users"] if u["roles"] == ["coordinator"])
        self.stdout.write(
            f"Demo ready: {len(demo['users'])} users in {len(demo['organisations'])} "
            f"organisations. Users, passwords and TOTP secrets: {path}\n"
            f"Try {coordinator['email']} / {coordinator['password']} "
            f"(TOTP secret {coordinator['totp_secret']})"
        )
        if options["no_serve"]:
            return
        self._serve(options["host"], options["port"], base)

    def _serve(self, host: str, port: int, base: str) -> None:
        amparo = [sys.executable, "-m", "amparo.cli"]
        # Phones reach the demo directly, with no proxy buffering their uploads.
        serve = [*amparo, "serve", "--host", host, "--port", str(port), "--threads", "4"]
        processes = [
            subprocess.Popen(serve),  # noqa: S603
            subprocess.Popen([*amparo, "worker"]),  # noqa: S603
        ]
        self.stdout.write(f"Serving on {base}/ with a worker. Ctrl-C stops both.")

        def stop(*_args: Any) -> None:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        failed = [p.returncode for p in processes if p.returncode not in (0, -signal.SIGTERM, None)]
        if failed:
            self.stderr.write(f"a demo process stopped with status {failed[0]}")
