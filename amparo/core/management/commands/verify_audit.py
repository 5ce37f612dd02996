"""``amparo verify-audit``: recompute the audit chain and name every entry that breaks it."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from amparo.core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the hash-chained audit log; exit 1 and name the entries if it is broken."

    def handle(self, *args: Any, **options: Any) -> None:
        count, breaks = verify_chain()
        if breaks:
            for chain_break in breaks:
                self.stderr.write(f"BROKEN {chain_break}")
            self.stderr.write(
                f"audit chain NOT verified: {len(breaks)} problem(s) in {count} entries"
            )
            sys.exit(1)
        self.stdout.write(f"audit chain verified: {count} entries")
