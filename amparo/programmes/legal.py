"""Legal accompaniment (issue 8, point 6; reference, Strategy 1, line 9: "legal
representation in judicial and administrative processes, support in filing complaints,
and case follow-up until resolution"; Strategy 5, line 3, strategic litigation, and
line 5, "Track progress of cases involving threats or violence against defenders").

Coordinators and administrators open cases and assign the lawyer; the assigned lawyer
records complaints and their progress (programmes.access checks who calls). A case ends
resolved or closed without resolution; every case not resolved counts as unresolved in
the impunity share (programmes.kpis). Audit details carry ids and choices, never the
sealed summary or notes."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.people.models import Membership, Organisation, Person, Role
from amparo.programmes.models import (
    Complaint,
    ComplaintBody,
    ComplaintOutcome,
    ComplaintStatus,
    LegalCase,
    LegalCaseStatus,
    LegalMatter,
)

MAX_TEXT = 8000


def _user_id(actor: Any) -> Any:
    return actor.pk if getattr(actor, "is_authenticated", False) else None


def _text(value: str | None) -> str:
    return (value or "").strip()


def _check_lawyer(organisation_id: Any, lawyer: Any) -> None:
    if lawyer is None:
        return
    if not Membership.objects.filter(
        organisation_id=organisation_id, user=lawyer, role=Role.LAWYER
    ).exists():
        raise ValidationError(
            {"lawyer": _("Choose a lawyer who is a member of this organisation.")}
        )


def _refuse_if_closed(case: LegalCase) -> None:
    if case.status != LegalCaseStatus.OPEN:
        raise ValidationError(_("This case is closed."))


@transaction.atomic
def open_legal_case(
    actor: Any,
    organisation: Organisation,
    *,
    matter: str,
    summary: str,
    person: Person | None = None,
    threat_report: Any = None,
    lawyer: Any = None,
    strategic_litigation: bool = False,
) -> LegalCase:
    errors: dict[str, str] = {}
    if matter not in LegalMatter.values:
        errors["matter"] = _("Choose the matter of the case.")
    summary = _text(summary)
    if not summary:
        errors["summary"] = _("Summarise the case.")
    elif len(summary) > MAX_TEXT:
        errors["summary"] = _("This text is too long.")
    if person is not None and (
        person.organisation_id != organisation.pk or person.archived_at is not None
    ):
        errors["person"] = _("Choose a person of this organisation.")
    if threat_report is not None and threat_report.organisation_id != organisation.pk:
        errors["threat_report"] = _("Choose a threat report of this organisation.")
    if errors:
        raise ValidationError(errors)
    _check_lawyer(organisation.pk, lawyer)
    case = LegalCase(
        organisation=organisation,
        matter=matter,
        summary=summary,
        person=person,
        threat_report=threat_report,
        lawyer=lawyer,
        strategic_litigation=bool(strategic_litigation),
        opened_at=timezone.now(),
        opened_by_id=_user_id(actor),
    )
    case.save()
    audit.record(
        actor,
        "legal_case.opened",
        case,
        details={
            "matter": matter,
            "person": str(person.pk) if person is not None else None,
            "threat_report": str(threat_report.pk) if threat_report is not None else None,
            "lawyer": str(lawyer.pk) if lawyer is not None else None,
            "strategic_litigation": case.strategic_litigation,
        },
    )
    return case


@transaction.atomic
def assign_lawyer(actor: Any, case: LegalCase, lawyer: Any) -> LegalCase:
    _refuse_if_closed(case)
    _check_lawyer(case.organisation_id, lawyer)
    case.lawyer = lawyer
    case.save(update_fields=["lawyer", "updated_at"])
    audit.record(
        actor,
        "legal_case.lawyer_assigned",
        case,
        details={"lawyer": str(lawyer.pk) if lawyer is not None else None},
    )
    return case


@transaction.atomic
def file_complaint(
    actor: Any,
    case: LegalCase,
    *,
    body: str,
    filed_on: date,
    file_number: str = "",
    notes: str = "",
) -> Complaint:
    """A complaint filed with the police, the public prosecutor, Peru's Intersectoral
    Mechanism, the ombudsman or a court."""
    _refuse_if_closed(case)
    errors: dict[str, str] = {}
    if body not in ComplaintBody.values:
        errors["body"] = _("Choose where the complaint was filed.")
    if filed_on > timezone.localdate():
        errors["filed_on"] = _("A complaint is recorded once it is filed.")
    file_number = _text(file_number)
    if len(file_number) > 60:
        errors["file_number"] = _("This text is too long.")
    notes = _text(notes)
    if len(notes) > MAX_TEXT:
        errors["notes"] = _("This text is too long.")
    if errors:
        raise ValidationError(errors)
    complaint = Complaint(
        organisation_id=case.organisation_id,
        case=case,
        body=body,
        filed_on=filed_on,
        file_number=file_number,
        status=ComplaintStatus.FILED,
        status_on=filed_on,
        notes=notes,
        recorded_by_id=_user_id(actor),
    )
    complaint.save()
    audit.record(
        actor,
        "legal_complaint.filed",
        complaint,
        details={"case": str(case.pk), "body": body, "filed_on": filed_on.isoformat()},
    )
    return complaint


@transaction.atomic
def update_complaint(
    actor: Any,
    complaint: Complaint,
    *,
    status: str,
    status_on: date,
    outcome: str,
    sanctions: int = 0,
) -> Complaint:
    """The complaint's progress: status and since when, outcome, sanctions applied."""
    _refuse_if_closed(complaint.case)
    errors: dict[str, str] = {}
    if status not in ComplaintStatus.values:
        errors["status"] = _("Choose a status.")
    if outcome not in ComplaintOutcome.values:
        errors["outcome"] = _("Choose an outcome.")
    if status_on < complaint.filed_on or status_on > timezone.localdate():
        errors["status_on"] = _("Give a date between the filing and today.")
    if not 0 <= sanctions <= 1000:
        errors["sanctions"] = _("Give the number of sanctions applied.")
    if outcome == ComplaintOutcome.SANCTION and sanctions < 1:
        errors["sanctions"] = _("A sanction outcome counts at least one sanction.")
    if errors:
        raise ValidationError(errors)
    complaint.status = status
    complaint.status_on = status_on
    complaint.outcome = outcome
    complaint.sanctions = sanctions
    complaint.save(update_fields=["status", "status_on", "outcome", "sanctions", "updated_at"])
    audit.record(
        actor,
        "legal_complaint.updated",
        complaint,
        details={
            "case": str(complaint.case_id),
            "status": status,
            "status_on": status_on.isoformat(),
            "outcome": outcome,
            "sanctions": sanctions,
        },
    )
    return complaint


@transaction.atomic
def close_legal_case(actor: Any, case: LegalCase, *, resolved: bool) -> LegalCase:
    _refuse_if_closed(case)
    case.status = LegalCaseStatus.RESOLVED if resolved else LegalCaseStatus.CLOSED_UNRESOLVED
    case.closed_at = timezone.now()
    case.save(update_fields=["status", "closed_at", "updated_at"])
    audit.record(actor, "legal_case.closed", case, details={"status": case.status})
    return case
