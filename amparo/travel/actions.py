"""Writes of deployments and their records; every one audited (core.audit). The gates
are computed from the records (``facts_of`` then ``travel.gates``), never ticked."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.people.models import Organisation, Person, User
from amparo.travel import gates
from amparo.travel.models import (
    CodeAcceptance,
    CodeOfConduct,
    Deployment,
    DeploymentStatus,
    Destination,
    GateException,
    Insurance,
    NextOfKinDeclaration,
    Preparation,
    TravelDeclaration,
    TravelSettings,
    TripType,
)

# Status changes a person can ask for; ready and active also need the gates.
TRANSITIONS: dict[str, set[str]] = {
    DeploymentStatus.DRAFT: {DeploymentStatus.AWAITING_APPROVAL, DeploymentStatus.CANCELLED},
    DeploymentStatus.AWAITING_APPROVAL: {
        DeploymentStatus.READY,
        DeploymentStatus.DRAFT,
        DeploymentStatus.CANCELLED,
    },
    DeploymentStatus.READY: {
        DeploymentStatus.ACTIVE,
        DeploymentStatus.DRAFT,
        DeploymentStatus.CANCELLED,
    },
    DeploymentStatus.ACTIVE: {DeploymentStatus.RETURNED},
    DeploymentStatus.RETURNED: set(),
    DeploymentStatus.CANCELLED: set(),
}
NEEDS_GATES: set[str] = {DeploymentStatus.READY, DeploymentStatus.ACTIVE}


def settings_of(organisation: Organisation) -> TravelSettings:
    found = TravelSettings.objects.filter(organisation=organisation).first()
    return found or TravelSettings(organisation=organisation)


def current_code(organisation: Organisation) -> CodeOfConduct | None:
    return CodeOfConduct.objects.filter(organisation=organisation).order_by("-version").first()


def facts_of(deployment: Deployment) -> gates.TripFacts:
    """What the records say, as the gates read it."""
    settings = settings_of(deployment.organisation)
    declaration = TravelDeclaration.objects.filter(deployment=deployment).first()
    kin = NextOfKinDeclaration.objects.filter(deployment=deployment).first()
    policy = Insurance.objects.filter(deployment=deployment).first()
    prep = Preparation.objects.filter(deployment=deployment).first() or Preparation()
    code = current_code(deployment.organisation)
    accepted = (
        CodeAcceptance.objects.filter(deployment=deployment)
        .order_by("-code__version")
        .values_list("code__version", flat=True)
        .first()
    )
    has_programme = deployment.documents.filter(kind="programme").exists()
    return gates.TripFacts(
        trip_type=deployment.trip_type,
        starts_on=deployment.starts_on,
        returns_on=deployment.returns_on,
        destinations=tuple(
            gates.Destination(d.country, d.advisory, d.advisory_reviewed_on)
            for d in deployment.destinations.all()
        ),
        traveller_danish=deployment.traveller_danish,
        declaration=gates.Declaration(
            international_flights=bool(declaration.international_flights.strip()),
            domestic_flights_or_none=bool(
                declaration.no_domestic_flights or declaration.domestic_flights.strip()
            ),
            accommodation=bool(declaration.accommodation.strip()),
            partner_contacts=bool(declaration.partner_contacts.strip()),
            programme_annex=has_programme,
            signed_as=declaration.signed_as,
        )
        if declaration is not None
        else None,
        signatories=settings.signatories(),
        relatives=tuple(
            gates.Relative(str(r.get("name", "")), str(r.get("phone") or r.get("email") or ""))
            for r in (kin.relatives if kin is not None else []) or []
            if isinstance(r, dict)
        ),
        insurance=gates.Insurance(
            valid_from=policy.valid_from,
            valid_to=policy.valid_to,
            medical=policy.medical,
            evacuation=policy.evacuation,
            repatriation=policy.repatriation,
            kidnap_ransom=policy.kidnap_ransom,
            countries=frozenset(policy.countries or []),
            valid_orange_red=policy.valid_orange_red,
        )
        if policy is not None
        else None,
        vaccinations_required=frozenset(prep.vaccinations_required or []),
        vaccinations_done=frozenset(prep.vaccinations_done or []),
        health_check_on=prep.health_check_on,
        first_aid_on=prep.first_aid_on,
        training_on=prep.training_on,
        local_procedures_briefed_on=prep.local_procedures_briefed_on,
        ransom_policy_briefed_on=prep.ransom_policy_briefed_on,
        code_of_conduct_version=code.version if code is not None else 0,
        code_of_conduct_accepted=accepted or 0,
        chain_of_command=len(prep.chain_of_command or []),
        strictly_necessary=prep.strictly_necessary,
        necessity_reason=prep.necessity_reason or "",
        embassy_registered=prep.embassy_registered,
        danskerliste=prep.danskerliste,
        rejseklar=prep.rejseklar,
        embassy_contact_saved=prep.embassy_contact_saved,
        emergency_centre_contact_saved=prep.emergency_centre_contact_saved,
    )


def gate_report(deployment: Deployment) -> list[tuple[gates.Gate, GateException | None]]:
    """Every gate of the organisation's template, with the exception that lets it
    through, if any."""
    template = settings_of(deployment.organisation).template()
    exceptions = {e.gate: e for e in GateException.objects.filter(deployment=deployment)}
    return [
        (gate, None if gate.passed else exceptions.get(gate.code))
        for gate in gates.evaluate(facts_of(deployment), template)
    ]


def blocking(deployment: Deployment) -> list[gates.Gate]:
    """The gates that fail and have no exception."""
    return [
        gate for gate, exception in gate_report(deployment) if not gate.passed and not exception
    ]


@transaction.atomic
def create_deployment(
    actor: Any,
    organisation: Organisation,
    *,
    traveller: Person,
    trip_type: str,
    starts_on: date,
    returns_on: date,
    purpose: str = "",
    lead: Person | None = None,
    traveller_danish: bool = False,
    destinations: list[dict[str, Any]] | None = None,
) -> Deployment:
    if traveller.organisation_id != organisation.pk:
        raise ValidationError({"traveller": _("That person is not in this organisation.")})
    if lead is not None and lead.organisation_id != organisation.pk:
        raise ValidationError({"lead": _("That person is not in this organisation.")})
    if trip_type not in TripType.values:
        raise ValidationError({"trip_type": _("Unknown kind of trip.")})
    if returns_on < starts_on:
        raise ValidationError({"returns_on": _("The return is before the departure.")})
    deployment = Deployment.objects.create(
        organisation=organisation,
        traveller=traveller,
        lead=lead,
        trip_type=trip_type,
        purpose=purpose.strip()[:4000],
        starts_on=starts_on,
        returns_on=returns_on,
        traveller_danish=traveller_danish,
        created_by=actor if isinstance(actor, User) else None,
    )
    for position, d in enumerate(destinations or []):
        _destination(deployment, position, d)
    audit.record(
        actor,
        "deployment.created",
        deployment,
        details={"trip_type": trip_type, "destinations": len(destinations or [])},
    )
    return deployment


def _destination(deployment: Deployment, position: int, d: dict[str, Any]) -> Destination:
    country = str(d.get("country", "")).strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ValidationError({"country": _("Give the country as two letters (PE, BO).")})
    advisory = d.get("advisory") or ""
    if advisory and advisory not in gates.ADVISORIES:
        raise ValidationError({"advisory": _("Choose green, yellow, orange or red.")})
    return Destination.objects.create(
        organisation_id=deployment.organisation_id,
        deployment=deployment,
        position=position,
        country=country,
        region=str(d.get("region", ""))[:80],
        places=str(d.get("places", ""))[:2000],
        advisory=advisory,
        advisory_reviewed_on=d.get("advisory_reviewed_on"),
        advisory_source=str(d.get("advisory_source", ""))[:200],
    )


def _editable(deployment: Deployment) -> None:
    if deployment.status in (DeploymentStatus.RETURNED, DeploymentStatus.CANCELLED):
        raise ValidationError(_("This deployment is closed."))


def _record(
    actor: Any, deployment: Deployment, model: Any, kind: str, values: dict[str, Any]
) -> Any:
    """Create or update one of the deployment's one-to-one records; audited with the
    names of the fields that changed, never their values."""
    _editable(deployment)
    row = model.objects.filter(deployment=deployment).first()
    if row is None:
        row = model(organisation_id=deployment.organisation_id, deployment=deployment)
    changed = sorted(k for k, v in values.items() if getattr(row, k, None) != v)
    for key, value in values.items():
        setattr(row, key, value)
    row.full_clean(exclude=["organisation", "deployment"])
    row.save()
    audit.record(actor, f"deployment.{kind}", deployment, details={"fields": changed})
    return row


@transaction.atomic
def save_declaration(actor: Any, deployment: Deployment, **values: Any) -> TravelDeclaration:
    """Any change to a signed declaration undoes the signature: the signatory signed
    what they read."""
    allowed = {
        "international_flights",
        "domestic_flights",
        "no_domestic_flights",
        "accommodation",
        "partner_contacts",
    }
    values = {k: v for k, v in values.items() if k in allowed}
    existing = TravelDeclaration.objects.filter(deployment=deployment).first()
    if existing is not None and any(getattr(existing, k) != v for k, v in values.items()):
        values.update(signed_by=None, signed_as="", signed_at=None)
    row: TravelDeclaration = _record(actor, deployment, TravelDeclaration, "declaration", values)
    return row


@transaction.atomic
def sign_declaration(actor: User, deployment: Deployment) -> TravelDeclaration:
    """The right signatory signs: the Executive Director for PRI-related trips, the Head
    of Finance & Programmes for M&E and supervision (the organisation's mapping)."""
    _editable(deployment)
    declaration = (
        TravelDeclaration.objects.select_for_update().filter(deployment=deployment).first()
    )
    if declaration is None:
        raise ValidationError(_("The travel declaration is not filled in yet."))
    settings = settings_of(deployment.organisation)
    wanted = settings.signatories().get(deployment.trip_type, gates.EXECUTIVE_DIRECTOR)
    if wanted not in settings.roles_of(actor):
        raise ValidationError(_("Only the signatory for this kind of trip can sign it."))
    role = wanted
    declaration.signed_by = actor
    declaration.signed_as = role
    declaration.signed_at = timezone.now()
    declaration.save(update_fields=["signed_by", "signed_as", "signed_at", "updated_at"])
    audit.record(actor, "deployment.declaration_signed", deployment, details={"as": role})
    return declaration


@transaction.atomic
def save_next_of_kin(
    actor: Any, deployment: Deployment, relatives: list[dict[str, str]]
) -> NextOfKinDeclaration:
    cleaned = [
        {k: str(r.get(k, "")).strip()[:200] for k in ("name", "relation", "phone", "email")}
        for r in relatives
        if any(str(r.get(k, "")).strip() for k in ("name", "phone", "email"))
    ]
    row: NextOfKinDeclaration = _record(
        actor, deployment, NextOfKinDeclaration, "next_of_kin", {"relatives": cleaned}
    )
    return row


@transaction.atomic
def save_insurance(actor: Any, deployment: Deployment, **values: Any) -> Insurance:
    """Only the fields given change; the dates are checked against what they make
    together with those already recorded."""
    existing = Insurance.objects.filter(deployment=deployment).first()
    valid_from = values.get("valid_from", existing.valid_from if existing else None)
    valid_to = values.get("valid_to", existing.valid_to if existing else None)
    if valid_from and valid_to and valid_to < valid_from:
        raise ValidationError({"valid_to": _("The policy ends before it starts.")})
    if "countries" in values:
        values["countries"] = sorted(
            {str(c).strip().upper() for c in values["countries"] or [] if str(c).strip()}
        )
    row: Insurance = _record(actor, deployment, Insurance, "insurance", values)
    return row


PREPARATION_FIELDS = {
    "vaccinations_required",
    "vaccinations_done",
    "health_check_on",
    "first_aid_on",
    "training_on",
    "local_procedures_briefed_on",
    "ransom_policy_briefed_on",
    "chain_of_command",
    "strictly_necessary",
    "necessity_reason",
    "embassy_registered",
    "danskerliste",
    "rejseklar",
    "embassy_contact_saved",
    "emergency_centre_contact_saved",
}


@transaction.atomic
def save_preparation(actor: Any, deployment: Deployment, **values: Any) -> Preparation:
    unknown = set(values) - PREPARATION_FIELDS
    if unknown:
        raise ValueError(f"unknown preparation fields: {sorted(unknown)}")
    row: Preparation = _record(actor, deployment, Preparation, "preparation", values)
    return row


@transaction.atomic
def accept_code(actor: User, deployment: Deployment) -> CodeAcceptance:
    """The traveller accepts the organisation's current code of conduct."""
    _editable(deployment)
    if deployment.traveller.user_id != actor.pk:
        raise ValidationError(_("Only the traveller accepts the code of conduct."))
    code = current_code(deployment.organisation)
    if code is None:
        raise ValidationError(_("The organisation has no code of conduct yet."))
    acceptance = CodeAcceptance.objects.create(
        organisation_id=deployment.organisation_id,
        deployment=deployment,
        code=code,
        accepted_by=actor,
        accepted_at=timezone.now(),
    )
    audit.record(actor, "deployment.code_accepted", deployment, details={"version": code.version})
    return acceptance


@transaction.atomic
def grant_exception(actor: User, deployment: Deployment, gate: str, reason: str) -> GateException:
    """A failing gate let through: only a signatory, with a written reason."""
    _editable(deployment)
    if gate not in gates.RULES:
        raise ValidationError({"gate": _("Unknown gate.")})
    roles = settings_of(deployment.organisation).roles_of(actor)
    if not roles:
        raise ValidationError(_("Only a signatory can let a gate through."))
    role = sorted(roles)[0]
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": _("Write why the trip may go without it.")})
    exception, _created = GateException.objects.update_or_create(
        deployment=deployment,
        gate=gate,
        defaults={
            "organisation_id": deployment.organisation_id,
            "reason": reason[:4000],
            "granted_by": actor,
            "granted_as": role,
            "granted_at": timezone.now(),
        },
    )
    audit.record(actor, "deployment.gate_exception", deployment, details={"gate": gate, "as": role})
    return exception


def _label(status: str) -> str:
    return str(dict(DeploymentStatus.choices).get(status, status))


@transaction.atomic
def set_status(actor: Any, deployment: Deployment, status: str) -> None:
    """Move a deployment on. Ready and active need every gate to pass or to have an
    exception (DESIGN.md section 5: it cannot be marked ready, and its check-ins cannot
    start, until every gate passes)."""
    locked = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if status not in TRANSITIONS.get(locked.status, set()):
        raise ValidationError(
            {
                "status": _("A deployment cannot go from %(a)s to %(b)s.")
                % {"a": _label(locked.status), "b": _label(status)}
            }
        )
    if status in NEEDS_GATES:
        failing = blocking(locked)
        if failing:
            raise ValidationError(
                {
                    "status": _("Gates still failing: %(gates)s.")
                    % {"gates": ", ".join(g.title for g in failing)}
                }
            )
    before = locked.status
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    deployment.status = status
    # Expected check-ins start when the trip becomes active and stop when it ends.
    from amparo.travel import checkins

    checkins.on_status_change(locked)
    audit.record(actor, "deployment.status", locked, details={"from": before, "to": status})
