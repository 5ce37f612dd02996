"""``amparo backup``: one encrypted, consistent archive of the database and the evidence
store (amparo/core/backup.py; docs/operations.md section 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from amparo.core import backup


class Command(BaseCommand):
    help = (
        "Write an encrypted, consistent backup of the database and the evidence store to "
        "DESTINATION (a new file, or a directory to put a dated file in)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "destination",
            help="The archive to write, or an existing directory for "
            "amparo-<UTC time>.amparo-backup. An existing file is never overwritten.",
        )
        parser.add_argument(
            "--key-file",
            help="Encrypt with the backup key in this file instead of AMPARO_BACKUP_KEY (or "
            "the key derived from the master key).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        destination = Path(options["destination"])
        if destination.is_dir():
            destination = destination / backup.default_name()
        progress = backup.Progress(self.stdout.write if options["verbosity"] > 0 else None)
        try:
            key = backup.configured_key(Path(options["key_file"]) if options["key_file"] else None)
            result = backup.create_backup(destination, key=key, progress=progress)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        quiet = options["verbosity"] == 0
        if not quiet:
            self.stdout.write(
                f"backup written: {result.path} ({backup.size_text(result.size)}): "
                f"{result.vendor} database ({backup.size_text(result.database_bytes)}), "
                f"{result.evidence_files} evidence file(s) "
                f"({backup.size_text(result.evidence_bytes)}), audit chain head "
                f"#{result.audit_seq}; encrypted with {result.key.described}"
            )
        for warning in result.warnings:
            self.stderr.write(f"WARNING {warning}")
        if result.unreferenced and not quiet:
            self.stdout.write(
                f"{result.unreferenced} file(s) of the store are not referenced by the "
                "database snapshot (written after it, or held by an unfinished upload); "
                "they are in the archive"
            )
        if result.missing:
            for entry in result.missing:
                self.stderr.write(
                    f"MISSING {entry['model']} {entry['id']}: {entry['path']} is not in the "
                    "evidence store"
                )
            raise CommandError(
                f"the backup is written, but {len(result.missing)} file(s) that the database "
                "refers to are missing from the evidence store (listed above); "
                "`amparo verify-evidence` shows the state of every evidence file"
            )
