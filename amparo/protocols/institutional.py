"""The only writes of an organisation's institutional security policy and its compliance
checks (reference, Strategy 3, line 3; issue 8, point 2). Each action validates, saves
and appends its audit entry in one transaction; audit details hold flags, dates and
statuses, never the sealed standards, chain of command or findings. Who may call these
is checked by the caller through ``protocols.access``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.people.models import Membership, Organisation
from amparo.protocols.models import ComplianceCheck, ComplianceStatus, InstitutionalPolicy

MAX_TEXT = 12000
MIN_FINDINGS = 10


def _text(value: Any, field: str) -> str:
    text = str(value or "").strip()
    if len(text) > MAX_TEXT:
        raise ValidationError({field: _("Keep it under %(n)s characters.") % {"n": MAX_TEXT}})
    return text


def _not_future(value: date | None, field: str) -> date | None:
    if value is not None and value > timezone.localdate():
        raise ValidationError({field: _("The date is in the future.")})
    return value


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@transaction.atomic
def update_institutional_policy(
    actor: Any,
    organisation: Organisation,
    *,
    has_security_manual: bool,
    security_manual_adopted_on: date | None = None,
    risk_plan_updated_on: date | None = None,
    digital_security_standards: str = "",
    chain_of_command: str = "",
) -> InstitutionalPolicy:
    policy, _created = InstitutionalPolicy.objects.select_for_update().get_or_create(
        organisation=organisation
    )
    if security_manual_adopted_on is not None and not has_security_manual:
        raise ValidationError(
            {"security_manual_adopted_on": _("A manual that does not exist has no date.")}
        )
    policy.has_security_manual = bool(has_security_manual)
    policy.security_manual_adopted_on = _not_future(
        security_manual_adopted_on, "security_manual_adopted_on"
    )
    policy.risk_plan_updated_on = _not_future(risk_plan_updated_on, "risk_plan_updated_on")
    policy.digital_security_standards = _text(
        digital_security_standards, "digital_security_standards"
    )
    policy.chain_of_command = _text(chain_of_command, "chain_of_command")
    policy.updated_by = actor if getattr(actor, "pk", None) else None
    policy.save()
    audit.record(
        actor,
        "institutional_policy.updated",
        policy,
        details={
            "has_security_manual": policy.has_security_manual,
            "security_manual_adopted_on": _iso(policy.security_manual_adopted_on),
            "risk_plan_updated_on": _iso(policy.risk_plan_updated_on),
            "digital_security_standards": bool(policy.digital_security_standards),
            "chain_of_command": bool(policy.chain_of_command),
        },
    )
    return policy


@transaction.atomic
def record_compliance_check(
    actor: Any,
    organisation: Organisation,
    *,
    checked_on: date,
    status: str,
    findings: str = "",
    checker: Any = None,
) -> ComplianceCheck:
    """One internal compliance check. The checker is a member of the organisation (the
    actor unless another is named); gaps must be written down."""
    if status not in (ComplianceStatus.COMPLIANT, ComplianceStatus.GAPS_FOUND):
        raise ValidationError({"status": _("A new check is compliant or has gaps.")})
    checker = checker or (actor if getattr(actor, "pk", None) else None)
    if (
        checker is not None
        and not Membership.objects.filter(organisation=organisation, user=checker).exists()
    ):
        raise ValidationError({"checker": _("Choose a member of this organisation.")})
    text = _text(findings, "findings")
    if status == ComplianceStatus.GAPS_FOUND and len(text) < MIN_FINDINGS:
        raise ValidationError({"findings": _("Write down the gaps found.")})
    _not_future(checked_on, "checked_on")
    check = ComplianceCheck(
        organisation=organisation,
        checked_on=checked_on,
        checker=checker,
        findings=text,
        status=status,
    )
    check.save()
    audit.record(
        actor,
        "compliance_check.recorded",
        check,
        details={
            "checked_on": checked_on.isoformat(),
            "status": status,
            "checker": audit.actor_label(checker),
        },
    )
    return check


@transaction.atomic
def resolve_compliance_check(
    actor: Any, check: ComplianceCheck, *, resolved_on: date
) -> ComplianceCheck:
    if check.status != ComplianceStatus.GAPS_FOUND:
        raise ValidationError(_("Only a check with open gaps can be resolved."))
    if resolved_on < check.checked_on:
        raise ValidationError({"resolved_on": _("The gaps were resolved before the check.")})
    check.status = ComplianceStatus.GAPS_RESOLVED
    check.resolved_on = _not_future(resolved_on, "resolved_on")
    check.save(update_fields=["status", "resolved_on"])
    audit.record(
        actor,
        "compliance_check.resolved",
        check,
        details={"resolved_on": resolved_on.isoformat()},
    )
    return check
