from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from amparo.core.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only, and holds ids and codes, never plaintext."""

    list_display = ["seq", "at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["action", "object_id", "actor"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
