"""Django's ``flush``, which empties every table, with the audit log's append-only
triggers lifted for its duration and the chain's head row restored afterwards. Flushing
is an operator's deliberate act of erasing a database (and what the test runner does
between transactional tests); it is never reachable from the application."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from amparo.core import guards


class Command(DjangoFlush):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        guards.remove(connection)
        try:
            super().handle(**options)
        finally:
            guards.install(connection)
            from amparo.core.models import AuditHead

            AuditHead.objects.using(options["database"]).get_or_create(pk=1)
