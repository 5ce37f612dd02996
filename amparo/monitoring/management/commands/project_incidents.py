"""``amparo project-incidents``: (re)write the incident fact of every threat report, for
reports filed before the projection existed or after a change of the projection rules.
Idempotent: a report has one fact, updated in place."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from amparo.monitoring.facts import project_all


class Command(BaseCommand):
    help = "Project every threat report into the incident facts the indicators count."

    def handle(self, *args: Any, **options: Any) -> None:
        count = project_all()
        self.stdout.write(f"{count} threat reports projected")
