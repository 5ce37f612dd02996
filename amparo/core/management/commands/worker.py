"""``amparo worker``: the background worker (the task queue; the escalation clock and the
outbox sender join it with the alerts issue). Stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command(
            "db_worker",
            queue_name="*",
            interval=options["interval"],
            reload=False,
            verbosity=options["verbosity"],
        )
