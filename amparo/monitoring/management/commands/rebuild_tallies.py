"""``amparo rebuild-tallies``: recount the incident tallies (monitoring.tallies) from the
facts, after facts were loaded around the application (a raw load, a restore of an old
backup), or ``--check`` that the tallies match the facts without changing anything. A
recount is one transaction, with its audit entry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from amparo.core import audit
from amparo.monitoring import tallies
from amparo.people.models import Organisation


class Command(BaseCommand):
    help = "Recount the incident tallies from the incident facts (or --check them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", help="the organisation's slug (default: all)")
        parser.add_argument(
            "--check", action="store_true", help="only compare; exit 1 on a difference"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organisation_id = None
        if options["organisation"]:
            found = Organisation.objects.filter(slug=options["organisation"]).first()
            if found is None:
                raise CommandError(f"no organisation {options['organisation']!r}")
            organisation_id = found.pk
        if options["check"]:
            wrong = tallies.differences(organisation_id)
            for row in wrong[:20]:
                self.stdout.write(f"differs: {row}")
            if wrong:
                raise CommandError(f"{len(wrong)} tally rows differ from the facts")
            self.stdout.write("the tallies match the facts")
            return
        with transaction.atomic():
            written = tallies.rebuild(organisation_id)
            # The recount changes what every dashboard shows: in the audit log with it.
            audit.record(
                "cli",
                "tallies.rebuilt",
                organisation_id=organisation_id,
                details={"rows": written},
            )
        self.stdout.write(f"{written} tally rows written")
