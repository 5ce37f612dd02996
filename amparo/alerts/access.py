"""Reads of alerts: an organisation sees its own alerts and those a partner shared with it
explicitly. Coordinators, admins and supervisors see the board; a defender sees the
alerts they raised or that are about them."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from amparo.alerts.models import Alert, EscalationPolicy
from amparo.core.access import not_found
from amparo.people.access import OrgContext, _uuid, own_profile
from amparo.people.models import Role

BOARD_READERS = frozenset({Role.COORDINATOR, Role.ADMIN, Role.SUPERVISOR, Role.PARTNER})
RESPONDERS = frozenset(
    {Role.COORDINATOR, Role.ADMIN, Role.SUPERVISOR, Role.FOCAL_POINT, Role.PARTNER}
)
POLICY_EDITORS = frozenset({Role.COORDINATOR, Role.ADMIN})


def can_see_board(ctx: OrgContext) -> bool:
    return ctx.has_any(BOARD_READERS)


def can_respond(ctx: OrgContext) -> bool:
    return ctx.has_any(RESPONDERS)


def can_edit_policies(ctx: OrgContext) -> bool:
    return ctx.has_any(POLICY_EDITORS)


def alerts_visible_to(ctx: OrgContext) -> QuerySet[Alert]:
    mine = Q(organisation=ctx.organisation)
    shared = Q(shares__partner=ctx.organisation)
    alerts = Alert.objects.filter(mine | shared).distinct()
    if can_see_board(ctx) or ctx.has_any(frozenset({Role.FOCAL_POINT})):
        return alerts
    profile = own_profile(ctx)
    own = Q(raised_by=ctx.user)
    if profile is not None:
        own |= Q(person=profile)
    return alerts.filter(mine).filter(own)


def access_alert_by_id(ctx: OrgContext, alert_id: Any) -> Alert:
    alert = (
        Alert.objects.select_related("organisation", "person").filter(pk=_uuid(alert_id)).first()
    )
    if alert is None:
        not_found()
    if not alerts_visible_to(ctx).filter(pk=alert.pk).exists():
        not_found()
    return alert


def is_own_alert(ctx: OrgContext, alert: Alert) -> bool:
    return alert.organisation_id == ctx.organisation.pk


def access_policy_by_id(ctx: OrgContext, policy_id: Any) -> EscalationPolicy:
    policy = EscalationPolicy.objects.filter(pk=_uuid(policy_id)).first()
    if policy is None:
        not_found()
    if policy.organisation_id != ctx.organisation.pk:
        not_found()
    if not can_edit_policies(ctx):
        not_found()
    return policy
