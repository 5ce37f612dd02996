"""The only writes of relocations and their costs (reference, Strategy 6, line 3). Each
action validates, saves and appends its audit entry in one transaction. Audit details
hold ids, codes, flags and amounts, never the sealed reason, destination or notes.

Who may call which action is checked by the caller through ``protocols.access``; the
rules here are the domain's:

- Four eyes on approval. The reference is silent on who approves; a move that hides a
  person and spends the emergency fund should not rest on one judgement when it need
  not. A coordinator may not approve a request they made while the organisation has
  another security coordinator. With only one, they approve it themselves, with their
  written note, and the entry says ``self_approved``: imminent risk cannot wait.
- Every decision, refusal and closure carries a written note.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.people.models import Membership, Person, Role, SafeHouse
from amparo.protocols.models import (
    CostCategory,
    RelocationCost,
    RelocationRequest,
    RelocationStatus,
    RiskLevel,
)

MIN_NOTE = 10
# A relocation that will not run its course may be closed at any open step.
CLOSABLE = (RelocationStatus.REQUESTED, RelocationStatus.APPROVED, RelocationStatus.RELOCATED)
MAX_TEXT = 4000
MAX_AMOUNT = Decimal("9999999999.99")


def _user_id(actor: Any) -> Any:
    return getattr(actor, "pk", None) if not isinstance(actor, str) else None


def _actor_user(actor: Any) -> Any:
    return actor if _user_id(actor) is not None else None


def _note(value: str, field: str, *, required: bool) -> str:
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise ValidationError({field: _("Keep it under %(n)s characters.") % {"n": MAX_TEXT}})
    if required and len(text) < MIN_NOTE:
        raise ValidationError(
            {field: _("Write down why, in at least %(n)s characters.") % {"n": MIN_NOTE}}
        )
    return text


def _country(value: str) -> str:
    country = (value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ValidationError(
            {"destination_country": _("Give the country as two letters (CO, BR).")}
        )
    return country


def _location(value: Any) -> dict[str, float] | None:
    if value in (None, {}, ""):
        return None
    try:
        lat, lon = float(value["lat"]), float(value["lon"])
    except (KeyError, TypeError, ValueError):
        raise ValidationError(
            {"destination_location": _("Give a latitude and a longitude.")}
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError({"destination_location": _("That is not a place on Earth.")})
    return {"lat": lat, "lon": lon}


def _require_status(relocation: RelocationRequest, *allowed: str) -> None:
    if relocation.status not in allowed:
        raise ValidationError(
            _("This relocation is %(status)s: that step is not possible now.")
            % {"status": relocation.get_status_display().lower()}
        )


def other_coordinator_exists(relocation: RelocationRequest, actor: Any) -> bool:
    """Whether the organisation has a security coordinator besides ``actor``."""
    return (
        Membership.objects.filter(
            organisation_id=relocation.organisation_id,
            role=Role.COORDINATOR,
            user__is_active=True,
        )
        .exclude(user_id=_user_id(actor))
        .exists()
    )


@transaction.atomic
def request_relocation(
    actor: Any,
    person: Person,
    *,
    reason: str,
    risk_level: str,
    cross_border: bool = False,
    destination_country: str = "",
    expected_end_on: date | None = None,
    crisis_case_id: UUID | None = None,
) -> RelocationRequest:
    if risk_level not in RiskLevel.values:
        raise ValidationError({"risk_level": _("Choose how close the danger is.")})
    if person.archived_at is not None:
        raise ValidationError({"person": _("Choose a person of this organisation.")})
    relocation = RelocationRequest(
        organisation_id=person.organisation_id,
        person=person,
        requested_by=_actor_user(actor),
        reason=_note(reason, "reason", required=True),
        risk_level=risk_level,
        cross_border=bool(cross_border),
        destination_country=_country(destination_country) if cross_border else "",
        expected_end_on=expected_end_on,
        crisis_case_id=crisis_case_id,
    )
    relocation.save()
    audit.record(
        actor,
        "relocation.requested",
        relocation,
        details={
            "risk_level": risk_level,
            "cross_border": relocation.cross_border,
            "crisis_case_id": str(crisis_case_id) if crisis_case_id else None,
        },
    )
    return relocation


@transaction.atomic
def decide_relocation(
    actor: Any, relocation: RelocationRequest, *, approve: bool, note: str
) -> RelocationRequest:
    """Approve or refuse a request, with a written note (see the module's four-eyes rule)."""
    relocation = RelocationRequest.objects.select_for_update().get(pk=relocation.pk)
    _require_status(relocation, RelocationStatus.REQUESTED)
    text = _note(note, "note", required=True)
    own_request = relocation.requested_by_id is not None and (
        relocation.requested_by_id == _user_id(actor)
    )
    if approve and own_request and other_coordinator_exists(relocation, actor):
        raise ValidationError(
            _("Another security coordinator must approve a relocation you asked for.")
        )
    relocation.approved = approve
    relocation.status = RelocationStatus.APPROVED if approve else RelocationStatus.REFUSED
    relocation.decided_by = _actor_user(actor)
    relocation.decided_at = timezone.now()
    relocation.decision_note = text
    relocation.self_approved = approve and own_request
    relocation.save()
    audit.record(
        actor,
        "relocation.approved" if approve else "relocation.refused",
        relocation,
        details={"self_approved": relocation.self_approved},
    )
    return relocation


@transaction.atomic
def relocate(
    actor: Any,
    relocation: RelocationRequest,
    *,
    starts_on: date,
    safe_house: SafeHouse | None = None,
    destination_address: str = "",
    destination_location: Any = None,
    expected_end_on: date | None = None,
) -> RelocationRequest:
    """The person has been moved: to one of the organisation's safe houses, or to a place
    written down here (sealed), or both."""
    relocation = RelocationRequest.objects.select_for_update().get(pk=relocation.pk)
    _require_status(relocation, RelocationStatus.APPROVED)
    address = _note(destination_address, "destination_address", required=False)
    location = _location(destination_location)
    if safe_house is None and not address:
        raise ValidationError(
            {"destination_address": _("Choose a safe house or write where the person stays.")}
        )
    if safe_house is not None and (
        safe_house.organisation_id != relocation.organisation_id
        or safe_house.archived_at is not None
    ):
        raise ValidationError({"safe_house": _("Choose a safe house of this organisation.")})
    if expected_end_on is not None and expected_end_on < starts_on:
        raise ValidationError({"expected_end_on": _("The return cannot come before the move.")})
    relocation.status = RelocationStatus.RELOCATED
    relocation.safe_house = safe_house
    relocation.destination_address = address
    relocation.destination_location = location
    relocation.starts_on = starts_on
    if expected_end_on is not None:
        relocation.expected_end_on = expected_end_on
    relocation.relocated_by = _actor_user(actor)
    relocation.save()
    # Where to is sealed; the entry only says which kind of place.
    audit.record(
        actor,
        "relocation.relocated",
        relocation,
        details={
            "safe_house": safe_house is not None,
            "address": bool(address),
            "location": location is not None,
            "starts_on": starts_on.isoformat(),
        },
    )
    return relocation


@transaction.atomic
def mark_returned(
    actor: Any, relocation: RelocationRequest, *, ends_on: date, note: str = ""
) -> RelocationRequest:
    relocation = RelocationRequest.objects.select_for_update().get(pk=relocation.pk)
    _require_status(relocation, RelocationStatus.RELOCATED)
    if relocation.starts_on is not None and ends_on < relocation.starts_on:
        raise ValidationError({"ends_on": _("The return cannot come before the move.")})
    relocation.status = RelocationStatus.RETURNED
    relocation.ends_on = ends_on
    relocation.closing_note = _note(note, "note", required=False)
    relocation.save()
    audit.record(
        actor,
        "relocation.returned",
        relocation,
        details={"ends_on": ends_on.isoformat(), "days": relocation.days_relocated},
    )
    return relocation


@transaction.atomic
def close_relocation(actor: Any, relocation: RelocationRequest, *, note: str) -> RelocationRequest:
    """End a relocation that will not run its course: withdrawn before the move, or the
    person stays on (resettled, or moved on by another organisation)."""
    relocation = RelocationRequest.objects.select_for_update().get(pk=relocation.pk)
    _require_status(relocation, *CLOSABLE)
    previous = relocation.status
    relocation.status = RelocationStatus.CLOSED
    relocation.ends_on = timezone.localdate()
    if relocation.starts_on is not None and relocation.ends_on < relocation.starts_on:
        relocation.ends_on = relocation.starts_on
    relocation.closing_note = _note(note, "note", required=True)
    relocation.save()
    audit.record(actor, "relocation.closed", relocation, details={"from": previous})
    return relocation


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": _("Give the amount as a number, e.g. 120.50.")}) from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise ValidationError({"amount": _("Give an amount above zero.")})
    return amount


@transaction.atomic
def record_cost(
    actor: Any,
    relocation: RelocationRequest,
    *,
    category: str,
    amount: Any,
    currency: str,
    incurred_on: date,
    note: str = "",
    emergency_fund: bool = True,
    fund_reference: str = "",
) -> RelocationCost:
    """An expense of an approved relocation, for the emergency fund's accounts."""
    if relocation.approved is not True:
        raise ValidationError(_("Costs are recorded once the relocation is approved."))
    if category not in CostCategory.values:
        raise ValidationError({"category": _("Choose a category.")})
    code = (currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValidationError({"currency": _("Give the currency as three letters (PEN, USD).")})
    reference = (fund_reference or "").strip()
    if len(reference) > 60:
        raise ValidationError({"fund_reference": _("Keep it under 60 characters.")})
    cost = RelocationCost(
        organisation_id=relocation.organisation_id,
        relocation=relocation,
        category=category,
        amount=_amount(amount),
        currency=code,
        incurred_on=incurred_on,
        note=_note(note, "note", required=False),
        emergency_fund=bool(emergency_fund),
        fund_reference=reference,
        recorded_by=_actor_user(actor),
    )
    cost.save()
    audit.record(
        actor,
        "relocation.cost_recorded",
        cost,
        details={
            "relocation": str(relocation.pk),
            "category": category,
            "amount": str(cost.amount),
            "currency": code,
            "emergency_fund": cost.emergency_fund,
        },
    )
    return cost
