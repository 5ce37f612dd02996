"""Reads of deployments. Tenancy first, then role, one condition per line; any failure is
the same 404 (DESIGN.md section 7).

- Deployment managers (coordinator, admin) see and manage every deployment of the
  organisation, and its settings.
- Signatories (the accounts named in the organisation's TravelSettings) see every
  deployment of the organisation, in their approval queue and on its page.
- A traveller (the account of the deployment's Person) sees their own deployments only.
- Anyone else sees nothing.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from amparo.core.access import not_found
from amparo.people.access import OrgContext, _uuid
from amparo.people.models import Role
from amparo.travel.actions import settings_of
from amparo.travel.models import Deployment

DEPLOYMENT_MANAGERS = frozenset({Role.COORDINATOR, Role.ADMIN})


def can_manage_deployments(ctx: OrgContext) -> bool:
    return ctx.has_any(DEPLOYMENT_MANAGERS)


def signatory_roles(ctx: OrgContext) -> set[str]:
    """The signatory roles the user holds in this organisation (may be empty)."""
    return settings_of(ctx.organisation).roles_of(ctx.user)


def is_signatory(ctx: OrgContext) -> bool:
    return bool(signatory_roles(ctx))


def deployments_visible_to(ctx: OrgContext) -> QuerySet[Deployment]:
    deployments = Deployment.objects.filter(organisation=ctx.organisation)
    if can_manage_deployments(ctx):
        return deployments
    if is_signatory(ctx):
        return deployments
    return deployments.filter(traveller__user=ctx.user)


def access_deployment_by_id(ctx: OrgContext, deployment_id: Any) -> Deployment:
    deployment = (
        Deployment.objects.select_related("organisation", "traveller", "lead")
        .filter(pk=_uuid(deployment_id))
        .first()
    )
    if deployment is None:
        not_found()
    if deployment.organisation_id != ctx.organisation.pk:
        not_found()
    if not deployments_visible_to(ctx).filter(pk=deployment.pk).exists():
        not_found()
    return deployment


def access_deployment_to_manage(ctx: OrgContext, deployment_id: Any) -> Deployment:
    deployment = access_deployment_by_id(ctx, deployment_id)
    if not can_manage_deployments(ctx):
        not_found()
    return deployment


def access_deployment_to_fill(ctx: OrgContext, deployment_id: Any) -> Deployment:
    """The records are filled in by a manager or by the traveller themself."""
    deployment = access_deployment_by_id(ctx, deployment_id)
    if can_manage_deployments(ctx):
        return deployment
    if deployment.traveller.user_id is not None and deployment.traveller.user_id == ctx.user.pk:
        return deployment
    not_found()


def access_deployment_to_sign(ctx: OrgContext, deployment_id: Any) -> Deployment:
    deployment = access_deployment_by_id(ctx, deployment_id)
    if not is_signatory(ctx):
        not_found()
    return deployment


def require_manager(ctx: OrgContext) -> None:
    if not can_manage_deployments(ctx):
        not_found()


def require_signatory(ctx: OrgContext) -> None:
    if not is_signatory(ctx):
        not_found()


def require_manager_or_signatory(ctx: OrgContext) -> None:
    if can_manage_deployments(ctx):
        return
    if is_signatory(ctx):
        return
    not_found()
