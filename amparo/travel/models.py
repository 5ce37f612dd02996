"""Duty of care for deployed staff (issue 5; DESIGN.md section 5, "Deployment"; the
reference's "Preparation of Danish personnel"): deployments, their destinations, and the
declarations and records that the readiness gates (``travel.gates``) are computed from.

Sealed: what locates the traveller or names their relatives (places, flights,
accommodation, partner contacts, next of kin, the policy and emergency numbers, the chain
of command, the purpose and the necessity reasoning). Readable: dates, countries and
regions, advisory levels, trip type and status, the yes/no facts of the records, so the
board and the gates work without opening anything.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from amparo.core.fields import EncryptedJSONField, EncryptedTextField
from amparo.people.models import Organisation, Person, User, org_scope
from amparo.travel import gates


class TripType(models.TextChoices):
    PRI = gates.PRI, _("PRI-related")
    ME_SUPERVISION = gates.ME_SUPERVISION, _("M&E and supervision")
    OTHER = gates.OTHER, _("Other")


class DeploymentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    READY = "ready", _("Ready")
    ACTIVE = "active", _("Active")
    RETURNED = "returned", _("Returned")
    CANCELLED = "cancelled", _("Cancelled")


class Advisory(models.TextChoices):
    GREEN = gates.GREEN, _("Green")
    YELLOW = gates.YELLOW, _("Yellow")
    ORANGE = gates.ORANGE, _("Orange")
    RED = gates.RED, _("Red")


class SignatoryRole(models.TextChoices):
    EXECUTIVE_DIRECTOR = gates.EXECUTIVE_DIRECTOR, _("Executive Director")
    HEAD_OF_FINANCE = gates.HEAD_OF_FINANCE, _("Head of Finance & Programmes")


class _Sealed(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class TravelSettings(_Sealed):
    """Who signs which travel declaration (reference: the Executive Director for
    PRI-related travel, the Head of Finance & Programmes for M&E and supervision), and
    the organisation's gate template (default: every gate of ``travel.gates.GATES``)."""

    executive_director = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    head_of_finance = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    other_trips_signed_by = models.CharField(
        max_length=24, choices=SignatoryRole.choices, default=SignatoryRole.EXECUTIVE_DIRECTOR
    )
    gate_template = models.JSONField(default=list, blank=True)  # empty: all of GATES

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation"], name="one_travel_settings_per_org")
        ]

    def __str__(self) -> str:
        return f"travel settings of {self.organisation_id}"

    def template(self) -> tuple[str, ...]:
        chosen = tuple(code for code in self.gate_template if code in gates.RULES)
        return chosen or gates.GATES

    def signatories(self) -> dict[str, str]:
        return {
            gates.PRI: gates.EXECUTIVE_DIRECTOR,
            gates.ME_SUPERVISION: gates.HEAD_OF_FINANCE,
            gates.OTHER: self.other_trips_signed_by,
        }

    def roles_of(self, user: User) -> set[str]:
        """The signatory roles this account holds here (in a small organisation one
        person may hold both)."""
        roles = set()
        if self.executive_director_id is not None and self.executive_director_id == user.pk:
            roles.add(gates.EXECUTIVE_DIRECTOR)
        if self.head_of_finance_id is not None and self.head_of_finance_id == user.pk:
            roles.add(gates.HEAD_OF_FINANCE)
        return roles


class CodeOfConduct(_Sealed):
    """Reference: "Staff must commit to a code of conduct"; versioned text."""

    version = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "version"], name="one_code_version")
        ]

    def __str__(self) -> str:
        return f"code of conduct v{self.version}"


class Deployment(_Sealed):
    traveller = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="deployments")
    # "Any changes must be communicated immediately to the designated lead."
    lead = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trip_type = models.CharField(max_length=16, choices=TripType.choices)
    purpose = EncryptedTextField(blank=True, default="")
    starts_on = models.DateField()
    returns_on = models.DateField()
    traveller_danish = models.BooleanField(
        default=False, help_text=_("Danish citizens also register on the Danskerliste.")
    )
    status = models.CharField(
        max_length=20,
        choices=DeploymentStatus.choices,
        default=DeploymentStatus.DRAFT,
        db_index=True,
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_on"]

    def __str__(self) -> str:
        return f"deployment {self.starts_on}..{self.returns_on} ({self.status})"


class Destination(_Sealed):
    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="destinations"
    )
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=80, blank=True)
    places = EncryptedTextField(blank=True, default="")
    advisory = models.CharField(max_length=8, choices=Advisory.choices, blank=True)
    advisory_reviewed_on = models.DateField(null=True, blank=True)
    advisory_source = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.country} {self.region}".strip()


class TravelDeclaration(_Sealed):
    """The Rejseerklæring. The travel dates are the deployment's."""

    deployment = models.OneToOneField(
        Deployment, on_delete=models.CASCADE, related_name="declaration"
    )
    international_flights = EncryptedTextField(blank=True, default="")
    domestic_flights = EncryptedTextField(blank=True, default="")
    no_domestic_flights = models.BooleanField(default=False)
    accommodation = EncryptedTextField(blank=True, default="")
    partner_contacts = EncryptedTextField(blank=True, default="")
    signed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    signed_as = models.CharField(max_length=24, choices=SignatoryRole.choices, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"travel declaration of {self.deployment_id}"


class TravelDocument(_Sealed):
    """An annex in the evidence vault (``incidents.vault``): the travel programme, or an
    external security assessment."""

    class Kind(models.TextChoices):
        PROGRAMME = "programme", _("Travel programme")
        SECURITY_ASSESSMENT = "security_assessment", _("External security assessment")

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    name = EncryptedTextField()
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file_key = EncryptedTextField()
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.kind} {self.sha256[:12]}"


class NextOfKinDeclaration(_Sealed):
    """The Pårørendeerklæring: three close relatives, sealed as one list of
    ``{"name", "relation", "phone", "email"}``."""

    deployment = models.OneToOneField(
        Deployment, on_delete=models.CASCADE, related_name="next_of_kin"
    )
    relatives = EncryptedJSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"next of kin of {self.deployment_id}"


class Insurance(_Sealed):
    deployment = models.OneToOneField(
        Deployment, on_delete=models.CASCADE, related_name="insurance"
    )
    insurer = models.CharField(max_length=120)
    policy_number = EncryptedTextField()
    emergency_number = EncryptedTextField()
    medical = models.BooleanField(default=False)
    evacuation = models.BooleanField(default=False)
    repatriation = models.BooleanField(default=False)
    kidnap_ransom = models.BooleanField(default=False)
    valid_from = models.DateField()
    valid_to = models.DateField()
    countries = models.JSONField(default=list, blank=True)  # empty: worldwide
    valid_orange_red = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"insurance of {self.deployment_id}"


class Preparation(_Sealed):
    """The other records before departure, each its own form: health, training and
    briefings, the chain of command, the necessity assessment, registrations and
    emergency contacts."""

    deployment = models.OneToOneField(
        Deployment, on_delete=models.CASCADE, related_name="preparation"
    )
    # Health.
    vaccinations_required = models.JSONField(default=list, blank=True)
    vaccinations_done = models.JSONField(default=list, blank=True)
    health_check_on = models.DateField(null=True, blank=True)
    first_aid_on = models.DateField(null=True, blank=True)
    # Training and briefings.
    training_on = models.DateField(null=True, blank=True)
    local_procedures_briefed_on = models.DateField(null=True, blank=True)
    ransom_policy_briefed_on = models.DateField(null=True, blank=True)
    # Chain of command: a sealed list of {"role", "name", "phone"}.
    chain_of_command = EncryptedJSONField(default=list, blank=True)
    # Necessity.
    strictly_necessary = models.BooleanField(null=True, blank=True)
    necessity_reason = EncryptedTextField(blank=True, default="")
    # Registrations and emergency contacts.
    embassy_registered = models.BooleanField(default=False)
    danskerliste = models.BooleanField(default=False)
    rejseklar = models.BooleanField(default=False)
    embassy_contact_saved = models.BooleanField(default=False)
    emergency_centre_contact_saved = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preparation of {self.deployment_id}"


class CodeAcceptance(_Sealed):
    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="code_acceptances"
    )
    code = models.ForeignKey(CodeOfConduct, on_delete=models.PROTECT, related_name="+")
    accepted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"code v{self.code_id} accepted"


class GateException(_Sealed):
    """A gate let through by the signatory with a written reason (audited)."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="exceptions")
    gate = models.CharField(max_length=32)
    reason = EncryptedTextField()
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    granted_as = models.CharField(max_length=24, choices=SignatoryRole.choices)
    granted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deployment", "gate"], name="one_exception_per_gate")
        ]

    def __str__(self) -> str:
        return f"exception for {self.gate}"


# Itinerary and check-ins (issue 5 points 4 and 5; DESIGN.md section 5, "Check-in")


def validate_time_zone(value: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from django.core.exceptions import ValidationError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Give an IANA time zone, such as America/Lima.")) from None


class Leg(_Sealed):
    """One stay of the itinerary. The place is sealed (it locates the traveller); the
    country, region and time zone stay readable for the board and the check-in clock."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="legs")
    position = models.PositiveSmallIntegerField(default=0)
    place = EncryptedTextField(blank=True, default="")
    country = models.CharField(max_length=2)
    region = models.CharField(max_length=80, blank=True)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    checkin_every_hours = models.PositiveSmallIntegerField(default=24)
    grace_minutes = models.PositiveSmallIntegerField(default=60)

    class Meta:
        ordering = ["starts_at", "position"]

    def __str__(self) -> str:
        return f"leg {self.position} {self.country} {self.region}".strip()


class ExpectedState(models.TextChoices):
    PENDING = "pending", _("Pending")
    CHECKED_IN = "checked_in", _("Checked in")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


class ExpectedCheckIn(_Sealed):
    """A check-in the organisation waits for: due at ``due_at``, missed after
    ``deadline`` (due plus the leg's grace)."""

    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="expected_checkins"
    )
    leg = models.ForeignKey(Leg, on_delete=models.SET_NULL, null=True, blank=True)
    due_at = models.DateTimeField()
    deadline = models.DateTimeField()
    state = models.CharField(
        max_length=12, choices=ExpectedState.choices, default=ExpectedState.PENDING
    )
    checked_in_at = models.DateTimeField(null=True, blank=True)
    alert = models.ForeignKey(
        "alerts.Alert", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_at"]
        indexes = [
            # The worker's sweep for missed check-ins (travel.checkins.sweep_missed).
            models.Index(fields=["state", "deadline"], name="expected_state_deadline"),
            # The check-in being waited for, on every check-in (checkins.current_expected).
            models.Index(fields=["deployment", "state", "due_at"], name="expected_deployment_due"),
        ]

    def __str__(self) -> str:
        return f"check-in due {self.due_at:%Y-%m-%d %H:%M} ({self.state})"


class CheckInVia(models.TextChoices):
    WEB = "web", _("Web")
    SMS = "sms", _("SMS")
    API = "api", _("API")


class CheckIn(_Sealed):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="checkins")
    at = models.DateTimeField()
    via = models.CharField(max_length=8, choices=CheckInVia.choices)
    location = EncryptedJSONField(null=True, blank=True)
    note = EncryptedTextField(blank=True, default="")
    expected = models.ForeignKey(
        ExpectedCheckIn, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"check-in {self.at:%Y-%m-%d %H:%M} by {self.via}"


class TravellerPins(_Sealed):
    """The traveller's check-in PIN and duress PIN, hashed (``checkins.PinHasher``). A duress
    check-in looks like a normal one and silently raises a high alert (DESIGN.md 7)."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="travel_pins")
    checkin_pin = models.CharField(max_length=256)
    duress_pin = models.CharField(max_length=256, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Wrong PINs (travel.checkins): how many since ``failed_since`` (the window's start),
    # and until when PIN check-ins are refused after too many.
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    failed_since = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"pins of {self.person_id}"


class LostCommsPlan(_Sealed):
    """Issue 5 point 5: what the traveller will do, and what the organisation should do,
    if they cannot check in. Sealed: it tells where they would go and whom they would
    call."""

    deployment = models.OneToOneField(
        Deployment, on_delete=models.CASCADE, related_name="lost_comms_plan"
    )
    traveller_will = EncryptedTextField()
    organisation_should = EncryptedTextField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"lost-communications plan of {self.deployment_id}"


class ProofOfLife(_Sealed):
    """Issue 5 point 6: questions and answers only the traveller knows, set before
    departure; sealed, and read only by a crisis role with a written, audited reason."""

    deployment = models.OneToOneField(
        Deployment, on_delete=models.CASCADE, related_name="proof_of_life"
    )
    questions = EncryptedJSONField(default=list)  # [{"question": ..., "answer": ...}]
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"proof of life of {self.deployment_id}"
