"""Shared mechanisms with no domain: data keys and the audit chain."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class DataKey(models.Model):
    """One data key of a scope (an organisation), wrapped by the master key."""

    scope = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    wrapped = models.BinaryField()
    master_key_id = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "version"], name="datakey_scope_version")
        ]

    def __str__(self) -> str:
        return f"{self.scope} v{self.version}"


class AppendOnlyError(Exception):
    pass


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("the audit log is append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("the audit log is append-only")


class AuditEntry(models.Model):
    """One entry of the append-only, hash-chained audit log (DESIGN.md section 7).

    ``entry_hash`` is SHA-256 over the previous entry's hash and this entry's canonical
    content, so changing, removing or reordering any entry breaks the chain from there on.
    Details never hold plaintext of sealed fields: only ids, codes and field names.
    """

    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=80)
    organisation_id = models.UUIDField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("the audit log is append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("the audit log is append-only")


class AuditHead(models.Model):
    """The single row that holds the end of the chain. Writers lock it, so entries get
    consecutive sequence numbers and each links to the one before; it also lets
    verification notice entries cut from the end."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class BenchPing(models.Model):
    """The baseline of bench/intake.py: the row a bare one-insert endpoint writes
    (``POST /api/v1/bench/ping``, routed only with ``AMPARO_BENCH_ENDPOINTS=true``)."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(auto_now_add=True)
    body = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"ping {self.pk}"
