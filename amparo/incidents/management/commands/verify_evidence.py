"""``amparo verify-evidence``: re-hash every file of the evidence vault and name each one
that is missing, altered or no longer matches its intake SHA-256 (DESIGN.md section 7).

The vault holds three kinds of file, each encrypted and hashed at intake the same way
(``incidents.vault``): threat reports' evidence, hotspot photos and travel documents.
Each check of an evidence file is appended to its custody log: VERIFY when it matches,
MISMATCH when not. Hotspot photos and travel documents have no custody log; a problem
with one is written to the audit log (``vault.mismatch``), and each run ends with one
audit entry that counts what was checked (``vault.verified``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import QuerySet

from amparo.core import audit
from amparo.incidents import actions
from amparo.incidents.models import CustodyAction, EvidenceFile
from amparo.monitoring.models import HotspotPhoto
from amparo.people.models import Organisation
from amparo.travel.models import TravelDocument

ACTOR = "cli"
CHUNK = 200


class Command(BaseCommand):
    help = (
        "Re-hash every file of the evidence vault (threat reports' evidence, hotspot "
        "photos, travel documents) against its intake SHA-256; exit 1 and name the files "
        "that are missing, altered or different."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organisation", help="Only this organisation (its short name).")
        parser.add_argument(
            "--report",
            help="Only the evidence files of this report (its receipt); no photos or documents.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = None
        if options["organisation"]:
            organisation = Organisation.objects.filter(slug=options["organisation"]).first()
            if organisation is None:
                raise CommandError(f"no organisation has the short name {options['organisation']}")
        receipt = ""
        if options["report"]:
            receipt = actions.normalise_receipt(options["report"])
            if not receipt:
                raise CommandError(f"{options['report']} is not a receipt code")

        files = EvidenceFile.objects.select_related("report").order_by("uploaded_at", "id")
        photos = HotspotPhoto.objects.order_by("uploaded_at", "id")
        documents = TravelDocument.objects.order_by("uploaded_at", "id")
        if organisation is not None:
            files = files.filter(organisation=organisation)
            photos = photos.filter(organisation=organisation)
            documents = documents.filter(organisation=organisation)
        if receipt:
            files = files.filter(report__receipt=receipt)

        counts = {"evidence": 0, "hotspot_photos": 0, "travel_documents": 0}
        problems = 0
        # Each file is streamed chunk by chunk (actions.verify_evidence); rows are fetched
        # in batches, so neither a large file nor a large store is held in memory.
        for evidence in files.iterator(chunk_size=CHUNK):
            counts["evidence"] += 1
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
        if not receipt:
            for kind, label, rows in (
                ("hotspot_photos", "hotspot photo", _rows(photos)),
                ("travel_documents", "travel document", _rows(documents)),
            ):
                for row in rows:
                    counts[kind] += 1
                    problem = actions.verify_evidence(row)
                    if problem:
                        problems += 1
                        audit.record(
                            ACTOR,
                            "vault.mismatch",
                            row,
                            details={"problem": problem, "sha256": row.sha256},
                        )
                        self.stderr.write(f"PROBLEM {label} {row.pk}: {problem}")
        checked = sum(counts.values())
        audit.record(
            ACTOR,
            "vault.verified",
            organisation_id=organisation.pk if organisation is not None else None,
            details={**counts, "problems": problems, "report": receipt},
        )
        summary = (
            f"{checked} files verified, {problems} problems ({counts['evidence']} evidence, "
            f"{counts['hotspot_photos']} hotspot photos, "
            f"{counts['travel_documents']} travel documents)"
        )
        if problems:
            self.stderr.write(summary)
            sys.exit(1)
        self.stdout.write(summary)


def _rows(queryset: QuerySet[Any]) -> Iterator[Any]:
    return queryset.iterator(chunk_size=CHUNK)
