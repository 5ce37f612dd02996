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
