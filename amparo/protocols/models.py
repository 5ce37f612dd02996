"""Emergency relocation and safe houses (reference, Strategy 6, line 3; issue 6, point 3).

A relocation request moves through requested -> approved | refused -> relocated ->
returned, and may be closed at any open step. Who is relocated, why and where to are
for the organisation's security coordinator only (DESIGN.md section 7): the reason, the
destination and every note are sealed, and only ``protocols.access`` reads these rows.
Costs are kept per relocation so that the emergency fund (reference, Strategy 6, line 2:
"Secure funding for urgent relocation") can sum them.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from amparo.core.fields import EncryptedJSONField, EncryptedTextField
from amparo.people.models import Organisation, Person, SafeHouse, User, org_scope


class RiskLevel(models.TextChoices):
    """How close the harm is. Relocation is for defenders "at imminent risk" (reference,
    Strategy 6, line 3); a high risk may justify a preventive move."""

    HIGH = "high", _("High")
    IMMINENT = "imminent", _("Imminent")


class RelocationStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    RELOCATED = "relocated", _("Relocated")
    RETURNED = "returned", _("Returned")
    CLOSED = "closed", _("Closed")


# Still in hand: the coordinator's list shows these first.
OPEN_STATUSES = (
    RelocationStatus.REQUESTED,
    RelocationStatus.APPROVED,
    RelocationStatus.RELOCATED,
)


class RelocationRequest(models.Model):
    """A defender at imminent risk moved to a safe house or another sealed place, within
    the country or, temporarily, across a border (reference, Strategy 6, line 3)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="relocation_requests"
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="relocation_requests",
        verbose_name=_("person to relocate"),
    )
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    reason = EncryptedTextField(_("why the person must be moved"))
    risk_level = models.CharField(_("risk"), max_length=16, choices=RiskLevel.choices)
    cross_border = models.BooleanField(_("temporary relocation abroad"), default=False)
    # Sealed: even the country says where a relocated person is.
    destination_country = EncryptedTextField(
        _("destination country"), blank=True, default="", help_text=_("ISO 3166 code, e.g. CO")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RelocationStatus.choices,
        default=RelocationStatus.REQUESTED,
    )
    # The decision: approved (True), refused (False) or not yet taken (None).
    approved = models.BooleanField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = EncryptedTextField(_("decision note"), blank=True, default="")
    # Approved by the coordinator who asked, because the organisation has no other one.
    self_approved = models.BooleanField(default=False)
    safe_house = models.ForeignKey(
        SafeHouse,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="relocations",
        verbose_name=_("safe house"),
    )
    destination_address = EncryptedTextField(_("where the person stays"), blank=True, default="")
    destination_location = EncryptedJSONField(
        _("location"), null=True, blank=True, help_text=_("Latitude and longitude")
    )
    relocated_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    starts_on = models.DateField(_("relocated on"), null=True, blank=True)
    expected_end_on = models.DateField(_("expected return"), null=True, blank=True)
    ends_on = models.DateField(_("returned or closed on"), null=True, blank=True)
    closing_note = EncryptedTextField(_("closing note"), blank=True, default="")
    # The crisis case this relocation belongs to, if any. A plain id: the crisis app
    # reads relocations, never the other way round.
    crisis_case_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["organisation", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="relocation_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        # No name: this string may reach logs and the admin.
        return f"relocation {self.pk} ({self.status})"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def days_relocated(self) -> int | None:
        """How long the person has been, or was, away (reference, Strategy 6, line 3 KPI:
        "duration and effectiveness of relocations")."""
        if self.starts_on is None:
            return None
        until = self.ends_on or timezone.localdate()
        return (until - self.starts_on).days


class CostCategory(models.TextChoices):
    TRANSPORT = "transport", _("Transport")
    ACCOMMODATION = "accommodation", _("Accommodation")
    FOOD = "food", _("Food")
    OTHER = "other", _("Other")


class RelocationCost(models.Model):
    """One expense of a relocation. ``emergency_fund`` marks what the emergency fund pays
    (reference, Strategy 6, line 2 KPI: "availability and use of emergency funds"); the
    programmes app sums these rows by organisation, month and currency."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="relocation_costs"
    )
    relocation = models.ForeignKey(
        RelocationRequest, on_delete=models.PROTECT, related_name="costs"
    )
    category = models.CharField(_("category"), max_length=16, choices=CostCategory.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217 code, e.g. PEN"))
    incurred_on = models.DateField(_("date"))
    # Sealed: a receipt's note easily names a place or a person.
    note = EncryptedTextField(_("note"), blank=True, default="")
    emergency_fund = models.BooleanField(_("paid by the emergency fund"), default=True)
    fund_reference = models.CharField(
        _("fund reference"),
        max_length=60,
        blank=True,
        help_text=_("The emergency fund's grant or ledger code. No names or places."),
    )
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["incurred_on", "recorded_at"]
        indexes = [models.Index(fields=["organisation", "incurred_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="relocation_cost_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.category})"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


# Community security protocols, evacuation plans and drills, and the institutional
# security policy (issue 8, points 1-3). What locates or identifies people (routes,
# shelters, gathering points, contacts, alert codes, findings) is sealed; what the KPIs
# count (flags, dates, counts, times) stays readable.


class CoCreator(models.TextChoices):
    """Who the reference asks to co-create a protocol (Strategy 2, line 1: "co-created
    with Indigenous leaders, women, youth, and community authorities")."""

    INDIGENOUS_LEADERS = "indigenous_leaders", _("Indigenous leaders")
    WOMEN = "women", _("Women")
    YOUTH = "youth", _("Youth")
    COMMUNITY_AUTHORITIES = "community_authorities", _("Community authorities")


class ProtocolStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ADOPTED = "adopted", _("Adopted")
    RETIRED = "retired", _("Retired")


class CommunityProtocol(models.Model):
    """A community's own security protocol (reference, Strategy 2, line 1). Its content
    lives in versions: every save is a new ``ProtocolVersion`` and the old ones stay
    readable. This row carries what lists and KPIs need: title, language, who co-created
    it, status and the current version's number."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="community_protocols"
    )
    title = models.CharField(
        _("title"), max_length=160, help_text=_("No names of people or places.")
    )
    # Sealed: the community's name says where its people live.
    community = EncryptedTextField(_("community"), blank=True, default="")
    language = models.CharField(
        _("language"),
        max_length=16,
        help_text=_("Language code: es, en, pt, or an Indigenous language's code (ese, hrk)"),
    )
    # One flag per co-creating group: the KPIs count protocols co-created with each.
    with_indigenous_leaders = models.BooleanField(_("Indigenous leaders"), default=False)
    with_women = models.BooleanField(_("women"), default=False)
    with_youth = models.BooleanField(_("youth"), default=False)
    with_community_authorities = models.BooleanField(_("community authorities"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ProtocolStatus.choices, default=ProtocolStatus.DRAFT
    )
    adopted_on = models.DateField(_("adopted on"), null=True, blank=True)
    current_version = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "created_at"]
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return f"protocol {self.pk} v{self.current_version}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)

    @property
    def co_creators(self) -> list[str]:
        flags = (
            (self.with_indigenous_leaders, CoCreator.INDIGENOUS_LEADERS),
            (self.with_women, CoCreator.WOMEN),
            (self.with_youth, CoCreator.YOUTH),
            (self.with_community_authorities, CoCreator.COMMUNITY_AUTHORITIES),
        )
        return [str(choice) for flag, choice in flags if flag]


class ProtocolVersion(models.Model):
    """One saved state of a protocol: the reference's content sections (Strategy 2, line 1:
    "Risk identification, preventive measures, safe travel routes, community alert systems,
    emergency contacts, safe gathering points, and procedures for external coordination"),
    sealed as one document, with the title, language and co-creators as saved."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    protocol = models.ForeignKey(
        CommunityProtocol, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=160)
    language = models.CharField(max_length=16)
    co_creators = models.JSONField(default=list)
    sections = EncryptedJSONField(_("sections"), default=dict)
    change_note = models.CharField(
        _("what changed"), max_length=300, blank=True, help_text=_("No names or places.")
    )
    saved_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["protocol", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "number"], name="protocol_version_unique")
        ]

    def __str__(self) -> str:
        return f"protocol {self.protocol_id} v{self.number}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class ProtocolTraining(models.Model):
    """A member trained in a protocol (reference, Strategy 2, line 1 KPI: "% of community
    members trained in their use"). ``workshop_id`` is the programmes app's workshop, a
    plain id: protocols does not import programmes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    protocol = models.ForeignKey(
        CommunityProtocol, on_delete=models.CASCADE, related_name="trainings"
    )
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    trained_on = models.DateField(_("trained on"))
    workshop_id = models.UUIDField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-trained_on"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "person"], name="protocol_training_once")
        ]

    def __str__(self) -> str:
        return f"training in {self.protocol_id}"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPERATIONAL = "operational", _("Operational")
    RETIRED = "retired", _("Retired")


class EvacuationPlan(models.Model):
    """A community's evacuation plan (reference, Strategy 2, line 3: "Identify safe
    routes, transport means, and temporary shelters"; coordinated by "local authorities,
    human rights organizations, and health services"; "Ensure inclusion of children,
    elderly, and people with disabilities"). Routes, transport, shelters, contacts and
    provisions are sealed; the counts and coordinating bodies are the plan's summary."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="evacuation_plans"
    )
    name = models.CharField(_("name"), max_length=160, help_text=_("No names of places."))
    community = EncryptedTextField(_("community"), blank=True, default="")
    protocol = models.ForeignKey(
        CommunityProtocol,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="evacuation_plans",
        verbose_name=_("community protocol"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    safe_routes = EncryptedTextField(_("safe routes"), blank=True, default="")
    transport = EncryptedTextField(_("transport"), blank=True, default="")
    temporary_shelters = EncryptedTextField(_("temporary shelters"), blank=True, default="")
    by_local_authorities = models.BooleanField(_("local authorities"), default=False)
    by_human_rights_organisations = models.BooleanField(
        _("human rights organisations"), default=False
    )
    by_health_services = models.BooleanField(_("health services"), default=False)
    coordination_contacts = EncryptedTextField(_("coordination contacts"), blank=True, default="")
    children = models.PositiveIntegerField(_("children"), default=0)
    elderly = models.PositiveIntegerField(_("elderly people"), default=0)
    with_disabilities = models.PositiveIntegerField(_("people with disabilities"), default=0)
    provisions_children = EncryptedTextField(_("provisions for children"), blank=True, default="")
    provisions_elderly = EncryptedTextField(
        _("provisions for elderly people"), blank=True, default=""
    )
    provisions_disabilities = EncryptedTextField(
        _("provisions for people with disabilities"), blank=True, default=""
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "created_at"]
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return f"evacuation plan {self.pk}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)

    @property
    def coordinating_bodies(self) -> list[str]:
        flags = (
            (self.by_local_authorities, _("local authorities")),
            (self.by_human_rights_organisations, _("human rights organisations")),
            (self.by_health_services, _("health services")),
        )
        return [str(label) for flag, label in flags if flag]


class DrillScenario(models.TextChoices):
    """The threats a drill reproduces (reference, Strategy 1, line 4: "incursions by
    illegal actors, armed harassment, direct threats, forced eviction, arbitrary
    detention")."""

    INCURSION = "incursion", _("Incursion by illegal actors")
    ARMED_HARASSMENT = "armed_harassment", _("Armed harassment")
    DIRECT_THREAT = "direct_threat", _("Direct threat")
    FORCED_EVICTION = "forced_eviction", _("Forced eviction")
    ARBITRARY_DETENTION = "arbitrary_detention", _("Arbitrary detention")
    OTHER = "other", _("Other")


class Drill(models.Model):
    """An evacuation or protocol drill and its measures (reference, Strategy 1, line 4:
    "average evacuation time, percentage of participants following protocols correctly,
    reduction of critical errors in successive simulations"; Strategy 2, line 1:
    "frequency of drills to test protocols")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="drills")
    held_on = models.DateField(_("held on"))
    scenario = models.CharField(_("scenario"), max_length=24, choices=DrillScenario.choices)
    protocol = models.ForeignKey(
        CommunityProtocol,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="drills",
        verbose_name=_("protocol tested"),
    )
    evacuation_plan = models.ForeignKey(
        EvacuationPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="drills",
        verbose_name=_("evacuation plan tested"),
    )
    participants = models.PositiveIntegerField(_("participants"))
    followed_protocol = models.PositiveIntegerField(_("participants who followed the protocol"))
    evacuation_seconds = models.PositiveIntegerField(
        _("evacuation time (seconds)"), null=True, blank=True
    )
    critical_errors = models.PositiveIntegerField(_("critical errors"), default=0)
    # Sealed: observations name people and places.
    notes = EncryptedTextField(_("observations"), blank=True, default="")
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-recorded_at"]
        indexes = [models.Index(fields=["organisation", "held_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(followed_protocol__lte=models.F("participants")),
                name="drill_followed_within_participants",
            )
        ]

    def __str__(self) -> str:
        return f"drill {self.held_on}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)

    @property
    def share_following(self) -> float | None:
        if not self.participants:
            return None
        return self.followed_protocol / self.participants


class InstitutionalPolicy(models.Model):
    """An organisation's internal security and risk management framework (reference,
    Strategy 3, line 3: formal security manuals and risk management protocols, digital
    security standards, chain-of-command procedures for emergencies). One per
    organisation; the texts are sealed, the flags and dates are what the KPIs read."""

    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.PROTECT,
        related_name="institutional_policy",
        primary_key=True,
    )
    has_security_manual = models.BooleanField(_("a security manual exists"), default=False)
    security_manual_adopted_on = models.DateField(
        _("security manual adopted on"), null=True, blank=True
    )
    risk_plan_updated_on = models.DateField(
        _("risk management plan last updated"), null=True, blank=True
    )
    digital_security_standards = EncryptedTextField(
        _("digital security standards"), blank=True, default=""
    )
    chain_of_command = EncryptedTextField(
        _("crisis chain of command and staff responsibilities"), blank=True, default=""
    )
    updated_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"institutional policy of {self.organisation_id}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class ComplianceStatus(models.TextChoices):
    COMPLIANT = "compliant", _("Compliant")
    GAPS_FOUND = "gaps_found", _("Gaps found")
    GAPS_RESOLVED = "gaps_resolved", _("Gaps resolved")


class ComplianceCheck(models.Model):
    """One internal compliance check (reference, Strategy 3, line 3 KPI: "frequency of
    internal compliance checks"; Strategy 2, line 4: "level of compliance with minimum
    safety standards"). The findings are sealed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="compliance_checks"
    )
    checked_on = models.DateField(_("checked on"))
    checker = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked by"),
    )
    findings = EncryptedTextField(_("findings"), blank=True, default="")
    status = models.CharField(_("status"), max_length=16, choices=ComplianceStatus.choices)
    resolved_on = models.DateField(_("gaps resolved on"), null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-checked_on", "-recorded_at"]
        indexes = [models.Index(fields=["organisation", "checked_on"])]

    def __str__(self) -> str:
        return f"compliance check {self.checked_on} ({self.status})"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)
