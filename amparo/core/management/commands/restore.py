"""``amparo restore``: bring an archive of ``amparo backup`` back into an empty database
and evidence store, then verify the audit chain and every stored file
(amparo/core/backup.py; docs/operations.md section 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from amparo.core import backup


class Command(BaseCommand):
    help = (
        "Restore an archive of `amparo backup` into this installation's (empty) database "
        "and evidence store, then verify the audit chain and the evidence hashes. Stop "
        "`amparo serve` and `amparo worker` first."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("archive", help="The archive written by `amparo backup`.")
        parser.add_argument(
            "--key-file",
            help="The backup key (AMPARO_BACKUP_KEY's value) in a file, instead of the "
            "installation's settings.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Restore even though the database or the evidence store is not empty: "
            "the database's contents are replaced and files of the same name overwritten.",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only authenticate the whole archive and show its manifest; change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        archive = Path(options["archive"])
        key_file = Path(options["key_file"]) if options["key_file"] else None
        progress = backup.Progress(self.stdout.write if options["verbosity"] > 0 else None)
        try:
            if options["check"]:
                self._check(archive, key_file, progress)
                return
            result = backup.restore_backup(
                archive, key_file=key_file, force=options["force"], progress=progress
            )
        except backup.BackupError as exc:
            raise CommandError(f"{exc}. Nothing was restored.") from None
        for line in result.lines:
            self.stdout.write(line)
        if result.problems:
            for problem in result.problems:
                self.stderr.write(f"PROBLEM {problem}")
            raise CommandError(
                f"restored, but verification FAILED: {len(result.problems)} problem(s), "
                "listed above"
            )
        self.stdout.write("restore complete and verified")

    def _check(self, archive: Path, key_file: Path | None, progress: backup.Progress) -> None:
        unpacked = backup.check_archive(archive, key_file=key_file, progress=progress)
        manifest = unpacked.manifest
        evidence = manifest.get("evidence", [])
        audit = manifest.get("audit", {})
        described = unpacked.key.described if unpacked.key else ""
        self.stdout.write(
            f"archive authenticated: made {manifest.get('created_at')} by Amparo "
            f"{manifest.get('amparo_version')}, encrypted with {described}"
        )
        self.stdout.write(
            f"database: {manifest.get('vendor')}, "
            f"{backup.size_text(manifest.get('database', {}).get('bytes', 0))}, "
            f"{len(manifest.get('migrations', []))} migration(s) applied"
        )
        self.stdout.write(
            f"audit chain head: #{audit.get('head_seq')} ({audit.get('entries')} entries)"
        )
        self.stdout.write(
            f"evidence: {len(evidence)} file(s), "
            f"{backup.size_text(sum(e['bytes'] for e in evidence))}; "
            f"{manifest.get('unreferenced', 0)} not referenced by the database"
        )
        missing = manifest.get("missing", [])
        for entry in missing:
            self.stderr.write(
                f"MISSING {entry['model']} {entry['id']}: {entry['path']} was not in the "
                "evidence store when the backup was made"
            )
        if missing:
            raise CommandError(
                f"the archive is whole, but {len(missing)} file(s) the database refers to "
                "were missing when it was made"
            )
