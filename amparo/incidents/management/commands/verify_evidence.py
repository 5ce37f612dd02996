"""``amparo verify-evidence``: re-hash every evidence file and name each one that is
missing, altered or no longer matches its intake SHA-256 (DESIGN.md section 7). Each
check is appended to the file's custody log: VERIFY when it matches, MISMATCH when not."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from amparo.incidents import actions
from amparo.incidents.models import CustodyAction, EvidenceFile
from amparo.people.models import Organisation

ACTOR = "cli"


class Command(BaseCommand):
    help = (
        "Re-hash every evidence file against its intake SHA-256; exit 1 and name the "
        "files that are missing, altered or different."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organisation", help="Only this organisation (its short name).")
        parser.add_argument("--report", help="Only the files of this report (its receipt).")

    def handle(self, *args: Any, **options: Any) -> None:
        files = EvidenceFile.objects.select_related("report").order_by("uploaded_at", "id")
        if options["organisation"]:
            organisation = Organisation.objects.filter(slug=options["organisation"]).first()
            if organisation is None:
                raise CommandError(f"no organisation has the short name {options['organisation']}")
            files = files.filter(organisation=organisation)
        if options["report"]:
            receipt = actions.normalise_receipt(options["report"])
            if not receipt:
                raise CommandError(f"{options['report']} is not a receipt code")
            files = files.filter(report__receipt=receipt)

        checked = problems = 0
        # Each file is streamed chunk by chunk (actions.verify_evidence); rows are fetched
        # in batches, so neither a large file nor a large store is held in memory.
        for evidence in files.iterator(chunk_size=200):
            checked += 1
            problem = actions.verify_evidence(evidence)
            if problem:
                problems += 1
                actions.record_custody(
                    ACTOR, evidence, CustodyAction.MISMATCH, {"problem": problem}
                )
                self.stderr.write(
                    f"PROBLEM evidence {evidence.pk} of report {evidence.report.receipt}: {problem}"
                )
            else:
                actions.record_custody(
                    ACTOR, evidence, CustodyAction.VERIFY, {"sha256": evidence.sha256}
                )
        summary = f"{checked} files verified, {problems} problems"
        if problems:
            self.stderr.write(summary)
            sys.exit(1)
        self.stdout.write(summary)
