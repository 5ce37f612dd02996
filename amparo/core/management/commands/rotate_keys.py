"""``amparo rotate-keys``: new data keys for every organisation, every sealed value
re-sealed under them; with ``--new-master-key-file`` the data keys are also re-wrapped
under a new master key. One transaction: it all happens, or nothing does."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from amparo.core import audit, crypto
from amparo.core.fields import encrypted_fields, scope_of
from amparo.core.models import DataKey


class Command(BaseCommand):
    help = "Rotate the data keys (and optionally the master key), re-sealing every value."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--new-master-key-file",
            help="Re-wrap the data keys under the master key in this file. Afterwards start "
            "Amparo with that key (AMPARO_MASTER_KEY_FILE).",
        )
        parser.add_argument(
            "--master-only",
            action="store_true",
            help="Only re-wrap the data keys under the new master key; keep data keys.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        new_master = None
        if options["new_master_key_file"]:
            path = Path(options["new_master_key_file"])
            try:
                new_master = crypto.parse_master_key(path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}") from None
            except crypto.CryptoError as exc:
                raise CommandError(str(exc)) from None
        elif options["master_only"]:
            raise CommandError("--master-only needs --new-master-key-file")

        crypto.keyring.clear()
        try:
            with transaction.atomic():
                self._check_master_key()
                resealed: Counter[str] = Counter()
                if not options["master_only"]:
                    resealed = self._rotate_data_keys()
                if new_master is not None:
                    self._rewrap(new_master)
                audit.record(
                    "cli",
                    "keys.rotated",
                    details={
                        "data_keys": not options["master_only"],
                        "new_master_key_id": crypto.master_key_id(new_master)
                        if new_master
                        else None,
                        "values": sum(resealed.values()),
                    },
                )
        except crypto.CryptoError as exc:
            raise CommandError(f"{exc}. Nothing was changed.") from None
        finally:
            crypto.keyring.clear()

        for label, count in sorted(resealed.items()):
            self.stdout.write(f"re-sealed {count} value(s) in {label}")
        if not options["master_only"]:
            self.stdout.write("data keys rotated")
        if new_master is not None:
            self.stdout.write(
                f"data keys re-wrapped under master key {crypto.master_key_id(new_master)}; "
                "restart every process with the new AMPARO_MASTER_KEY"
            )

    def _check_master_key(self) -> None:
        """Open every data key first: a wrong master key must stop us before any write."""
        for row in DataKey.objects.all():
            crypto.keyring.key(row.scope, row.version)

    def _rotate_data_keys(self) -> Counter[str]:
        scopes = sorted(set(DataKey.objects.values_list("scope", flat=True)))
        now = timezone.now()
        for scope in scopes:
            DataKey.objects.filter(scope=scope, retired_at__isnull=True).update(retired_at=now)
            crypto.keyring.create(scope)
        resealed: Counter[str] = Counter()
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if not fields:
                continue
            # Rows are locked while they are re-sealed, so an edit cannot be overwritten.
            rows = model._default_manager.select_for_update().order_by("pk")
            for instance in rows.iterator(chunk_size=500):
                updates = {}
                for field in fields:
                    raw = instance.__dict__.get(field.attname)
                    if raw is None:
                        continue
                    plaintext = getattr(instance, field.attname)  # opens with the old key
                    updates[field.attname] = field.seal_value(instance, plaintext)
                if updates:
                    scope_of(instance)  # every row must still name its scope
                    model._default_manager.filter(pk=instance.pk).update(**updates)
                    resealed[model._meta.label] += len(updates)
        return resealed

    def _rewrap(self, new_master: bytes) -> None:
        for row in DataKey.objects.all():
            data_key = crypto.keyring.key(row.scope, row.version)
            row.wrapped = crypto.wrap_data_key(new_master, row.scope, row.version, data_key)
            row.master_key_id = crypto.master_key_id(new_master)
            row.save(update_fields=["wrapped", "master_key_id"])
