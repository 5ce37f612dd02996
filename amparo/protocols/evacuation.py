"""The only writes of evacuation plans and drills (reference, Strategy 2, line 3 and
Strategy 1, line 4; issue 8, point 3). Each action validates, saves and appends its audit
entry in one transaction; audit details hold ids, counts and flags, never the sealed
routes, shelters, contacts, provisions or observations. Who may call these is checked by
the caller through ``protocols.access``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.people.models import Organisation
from amparo.protocols.models import (
    CommunityProtocol,
    Drill,
    DrillScenario,
    EvacuationPlan,
    PlanStatus,
)

MAX_TEXT = 6000
# A drill longer than a day is not an evacuation drill but a mistake in the unit.
MAX_EVACUATION_SECONDS = 24 * 3600
MAX_PEOPLE = 100_000

PLAN_TEXT_FIELDS = (
    "community",
    "safe_routes",
    "transport",
    "temporary_shelters",
    "coordination_contacts",
    "provisions_children",
    "provisions_elderly",
    "provisions_disabilities",
)
PLAN_FLAGS = ("by_local_authorities", "by_human_rights_organisations", "by_health_services")
PLAN_COUNTS = ("children", "elderly", "with_disabilities")
PLAN_FIELDS = frozenset(
    {"name", "status", "protocol", *PLAN_TEXT_FIELDS, *PLAN_FLAGS, *PLAN_COUNTS}
)


def _text(value: Any, field: str, limit: int = MAX_TEXT) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise ValidationError({field: _("Keep it under %(n)s characters.") % {"n": limit}})
    return text


def _count(value: Any, field: str) -> int:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Give a whole number.")}) from None
    if number < 0 or number > MAX_PEOPLE:
        raise ValidationError({field: _("Give a number between 0 and %(n)s.") % {"n": MAX_PEOPLE}})
    return number


def _apply_plan(plan: EvacuationPlan, fields: dict[str, Any]) -> list[str]:
    unknown = set(fields) - PLAN_FIELDS
    if unknown:
        raise ValidationError(
            _("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))}
        )
    changed = []
    for name, value in fields.items():
        if name == "name":
            value = _text(value, "name", 160)
            if not value:
                raise ValidationError({"name": _("Give the plan a name.")})
        elif name == "status":
            if value not in PlanStatus.values:
                raise ValidationError({"status": _("Choose a status.")})
        elif name == "protocol":
            if value is not None and value.organisation_id != plan.organisation_id:
                raise ValidationError({"protocol": _("Choose a protocol of this organisation.")})
        elif name in PLAN_TEXT_FIELDS:
            value = _text(value, name)
        elif name in PLAN_FLAGS:
            value = bool(value)
        else:
            value = _count(value, name)
        if getattr(plan, name) != value:
            setattr(plan, name, value)
            changed.append(name)
    return changed


def _plan_details(plan: EvacuationPlan, changed: list[str]) -> dict[str, Any]:
    # Names of changed fields and the readable counts; never a sealed value.
    return {
        "changed": sorted(changed),
        "status": plan.status,
        "children": plan.children,
        "elderly": plan.elderly,
        "with_disabilities": plan.with_disabilities,
    }


@transaction.atomic
def create_evacuation_plan(actor: Any, organisation: Organisation, **fields: Any) -> EvacuationPlan:
    plan = EvacuationPlan(
        organisation=organisation, created_by=actor if getattr(actor, "pk", None) else None
    )
    fields.setdefault("name", "")
    changed = _apply_plan(plan, fields)
    plan.save()
    audit.record(actor, "evacuation_plan.created", plan, details=_plan_details(plan, changed))
    return plan


@transaction.atomic
def update_evacuation_plan(actor: Any, plan: EvacuationPlan, **fields: Any) -> EvacuationPlan:
    changed = _apply_plan(plan, fields)
    if changed:
        plan.save()
        audit.record(actor, "evacuation_plan.updated", plan, details=_plan_details(plan, changed))
    return plan


@transaction.atomic
def record_drill(
    actor: Any,
    organisation: Organisation,
    *,
    held_on: date,
    scenario: str,
    participants: int,
    followed_protocol: int,
    evacuation_seconds: int | None = None,
    critical_errors: int = 0,
    protocol: CommunityProtocol | None = None,
    evacuation_plan: EvacuationPlan | None = None,
    notes: str = "",
) -> Drill:
    """A drill and its measures (reference, Strategy 1, line 4, KPIs)."""
    if scenario not in DrillScenario.values:
        raise ValidationError({"scenario": _("Choose the scenario the drill reproduced.")})
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": _("The date is in the future.")})
    participants = _count(participants, "participants")
    followed = _count(followed_protocol, "followed_protocol")
    if participants == 0:
        raise ValidationError({"participants": _("A drill has at least one participant.")})
    if followed > participants:
        raise ValidationError(
            {"followed_protocol": _("More people followed the protocol than took part.")}
        )
    if evacuation_seconds is not None and not 0 < evacuation_seconds <= MAX_EVACUATION_SECONDS:
        raise ValidationError({"evacuation_seconds": _("Give the time in seconds, up to a day.")})
    for linked, field in ((protocol, "protocol"), (evacuation_plan, "evacuation_plan")):
        if linked is not None and linked.organisation_id != organisation.pk:
            raise ValidationError({field: _("Choose one of this organisation.")})
    drill = Drill(
        organisation=organisation,
        held_on=held_on,
        scenario=scenario,
        participants=participants,
        followed_protocol=followed,
        evacuation_seconds=evacuation_seconds,
        critical_errors=_count(critical_errors, "critical_errors"),
        protocol=protocol,
        evacuation_plan=evacuation_plan,
        notes=_text(notes, "notes"),
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    drill.save()
    audit.record(
        actor,
        "drill.recorded",
        drill,
        details={
            "held_on": held_on.isoformat(),
            "scenario": scenario,
            "participants": participants,
            "followed_protocol": followed,
            "evacuation_seconds": evacuation_seconds,
            "critical_errors": drill.critical_errors,
            "protocol_id": str(protocol.pk) if protocol else None,
            "evacuation_plan_id": str(evacuation_plan.pk) if evacuation_plan else None,
        },
    )
    return drill
