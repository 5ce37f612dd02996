"""The Django admin is for platform administrators (superusers) who finished MFA. It
shows accounts, organisations and memberships, read-only: every change goes through the
pages and commands that call the audited actions (an organisation made here would have
no data key, a role granted here would leave no audit entry). It never shows sealed
fields, because an installation's administrators are not members of every organisation."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from amparo.people.models import ApiToken, Invitation, Membership, Organisation, User


def _platform_admin_only(request: HttpRequest) -> bool:
    user: Any = request.user
    return bool(user.is_active and user.is_superuser and user.is_staff and user.is_verified())


admin.site.has_permission = _platform_admin_only  # type: ignore[method-assign]
admin.site.site_header = "Amparo"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "kind", "country", "region"]
    search_fields = ["name", "slug"]
    readonly_fields = ["id", "created_at"]
    inlines = [MembershipInline]


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["email", "language", "is_active", "is_staff", "date_joined"]
    search_fields = ["email"]
    fields = ["email", "language", "time_zone", "is_active", "is_staff", "is_superuser"]
    readonly_fields = ["email"]


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "organisation", "role", "expires_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]
    readonly_fields = ["organisation", "email", "role", "created_by", "accepted_by"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]
    readonly_fields = ["user", "prefix", "name", "created_at", "last_used_at"]
