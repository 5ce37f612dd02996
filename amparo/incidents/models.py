"""Threat reports: the reference's Section 1, "Procedure for responding to a threat"
(Step 1 assess, Step 2 document, Step 3 psychological support, Step 4 protect
communications), the evidence vault, and the personal security plan ("Recommendations to
safeguard security"). DESIGN.md section 5, "Threat report".

What identifies or locates a person is sealed (verbatim words, perpetrator, place,
community, map point, file names, notes). The Step 1 answers, the level, the channel,
dates and the coarse region stay readable: the case list filters on them and the
monitoring pages count them.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from amparo.core.fields import EncryptedJSONField, EncryptedTextField
from amparo.core.ids import time_ordered_id
from amparo.people.models import DirectoryEntry, Organisation, Person, User, org_scope


class Level(models.TextChoices):
    """Reference, Section 1, Step 1: low, medium or high risk."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


LEVEL_ORDER = {Level.LOW: 0, Level.MEDIUM: 1, Level.HIGH: 2}


class ThreatChannel(models.TextChoices):
    """Reference, Section 1, Step 2: "the channel through which the threat was received
    (in person, phone, email, text, written note, etc.)"."""

    IN_PERSON = "in_person", _("In person")
    PHONE_CALL = "phone_call", _("Phone call")
    EMAIL = "email", _("E-mail")
    TEXT_MESSAGE = "text_message", _("Text message")
    WRITTEN_NOTE = "written_note", _("Written note")
    SOCIAL_MEDIA = "social_media", _("Social media")
    OTHER = "other", _("Other")


class HarmSign(models.TextChoices):
    """Reference, Section 1, Step 1 ("credible signs of imminent harm") and its
    surveillance list: unknown vehicles, suspicious motorcycles."""

    WEAPONS_SHOWN = "weapons_shown", _("Weapons were shown")
    SURVEILLANCE = "surveillance", _("Surveillance of home or work")
    DEADLINE_GIVEN = "deadline_given", _("A deadline was given")
    VEHICLES_WATCHING = "vehicles_watching", _("Vehicles or motorcycles watching")
    OTHER = "other", _("Another sign of imminent harm")


class IllicitActivity(models.TextChoices):
    """Reference, Section 1, Step 1 (medium risk: "individuals connected to illicit
    activities in your area") and DESIGN.md section 5."""

    NONE = "none", _("Not linked to an illicit activity")
    ILLEGAL_MINING = "illegal_mining", _("Illegal mining")
    ILLEGAL_LOGGING = "illegal_logging", _("Illegal logging")
    DRUG_TRAFFICKING = "drug_trafficking", _("Drug trafficking")
    LAND_TRAFFICKING = "land_trafficking", _("Land trafficking")
    OTHER = "other", _("Another illicit activity")
    UNKNOWN = "unknown", _("I do not know")


ILLICIT = frozenset(
    {
        IllicitActivity.ILLEGAL_MINING,
        IllicitActivity.ILLEGAL_LOGGING,
        IllicitActivity.DRUG_TRAFFICKING,
        IllicitActivity.LAND_TRAFFICKING,
        IllicitActivity.OTHER,
    }
)


class Status(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    RESPONDING = "responding", _("Responding")
    CLOSED = "closed", _("Closed")


class Source(models.TextChoices):
    WEB = "web", _("Web form")
    ANONYMOUS = "anonymous", _("Anonymous web form")
    API = "api", _("API")
    PUBLIC_API = "public_api", _("Anonymous API")
    SMS = "sms", _("SMS")
    OPENROSA = "openrosa", _("Offline form (OpenRosa)")


class ThreatReport(models.Model):
    # Indexes: every report writes each of them, so only those a query uses. Every
    # list is read per organisation, newest first (the index in Meta); the receipt is
    # looked up by equality only (no pattern index beside the unique one).
    id = models.UUIDField(primary_key=True, default=time_ordered_id, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="threat_reports", db_index=False
    )
    # The code the reporter follows the case with, without an account. It reveals the
    # status only (incidents.access.status_by_receipt).
    receipt = models.CharField(max_length=20)
    person = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="threat_reports",
        help_text=_("The person threatened, when known."),
    )
    reported_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="threat_reports"
    )
    source = models.CharField(max_length=12, choices=Source.choices)
    language = models.CharField(max_length=8, default="es")
    # Step 2: the record.
    occurred_at = models.DateTimeField(null=True, blank=True)
    region = models.CharField(_("region"), max_length=80, blank=True)
    place = EncryptedTextField(blank=True, default="")
    location = EncryptedJSONField(null=True, blank=True)
    community = EncryptedTextField(blank=True, default="")
    channel = models.CharField(
        max_length=16, choices=ThreatChannel.choices, default=ThreatChannel.OTHER
    )
    verbatim = EncryptedTextField(blank=True, default="")
    perpetrator_description = EncryptedTextField(blank=True, default="")
    # Step 1: the answers as given (None: not answered), and what they make.
    answers = models.JSONField(default=dict)
    reported_level = models.CharField(max_length=8, choices=Level.choices, blank=True)
    rules_level = models.CharField(max_length=8, choices=Level.choices)
    reasons = models.JSONField(default=list)  # codes of incidents.classify.REASONS
    level = models.CharField(max_length=8, choices=Level.choices)
    level_reason = EncryptedTextField(blank=True, default="")  # a coordinator's change
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    alert = models.ForeignKey(
        "alerts.Alert", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organisation", "-created_at"])]
        constraints = [models.UniqueConstraint(fields=["receipt"], name="threat_receipt_unique")]

    def __str__(self) -> str:
        return f"threat report {self.receipt}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class ItemStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    NOT_APPLICABLE = "not_applicable", _("Does not apply")


class Owner(models.TextChoices):
    REPORTER = "reporter", _("The person threatened")
    SUPERVISOR = "supervisor", _("Supervisor")
    COORDINATOR = "coordinator", _("Security coordinator")
    RELATIVES = "relatives", _("Direct relatives")


class ChecklistItem(models.Model):
    """One action of the response (incidents.checklist.ITEMS, from the reference).

    A report writes eleven of these: read by report (the unique index on report and
    code serves), and the links to users, empty when written, indexed only when set."""

    id = models.UUIDField(primary_key=True, default=time_ordered_id, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    report = models.ForeignKey(
        ThreatReport, on_delete=models.CASCADE, related_name="checklist", db_index=False
    )
    code = models.CharField(max_length=40)
    step = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField()
    owner = models.CharField(max_length=12, choices=Owner.choices)
    assignee = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    status = models.CharField(max_length=16, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    due_at = models.DateTimeField(null=True, blank=True)
    notes = EncryptedTextField(blank=True, default="")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    # An item of an earlier level, kept (with its progress) when a coordinator changed
    # the level and the new checklist no longer has it.
    superseded = models.BooleanField(default=False)

    class Meta:
        ordering = ["step", "position"]
        constraints = [models.UniqueConstraint(fields=["report", "code"], name="one_item_per_code")]
        indexes = [
            models.Index(
                fields=["assignee"], name="checklist_assignee", condition=Q(assignee__isnull=False)
            ),
            models.Index(
                fields=["done_by"], name="checklist_done_by", condition=Q(done_by__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class EvidenceFile(models.Model):
    """A file in the evidence vault (incidents.vault): encrypted at rest, hashed at
    intake, every access in its custody log."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    report = models.ForeignKey(ThreatReport, on_delete=models.PROTECT, related_name="evidence")
    name = EncryptedTextField()  # the file name as uploaded
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    file_key = EncryptedTextField()  # the file's own key, sealed by the organisation's
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"evidence {self.sha256[:12]}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class CustodyAction(models.TextChoices):
    INTAKE = "intake", _("Received and hashed")
    VIEW = "view", _("Viewed")
    DOWNLOAD = "download", _("Downloaded")
    EXPORT = "export", _("Exported in a dossier")
    VERIFY = "verify", _("Hash verified")
    MISMATCH = "mismatch", _("Hash mismatch found")


class CustodyEvent(models.Model):
    """The chain of custody of one file: append-only (core.guards)."""

    id = models.BigAutoField(primary_key=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    evidence = models.ForeignKey(EvidenceFile, on_delete=models.PROTECT, related_name="custody")
    at = models.DateTimeField()
    actor = models.CharField(max_length=80)  # core.audit.actor_label
    action = models.CharField(max_length=12, choices=CustodyAction.choices)
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor}"


class Measure(models.TextChoices):
    """Reference, "Recommendations to safeguard security": the thirteen measures."""

    DIRECTORY = "directory", _("Keep an updated directory of co-workers, supervisors first")
    SECURITY_CONTACTS = (
        "security_contacts",
        _("Keep the contacts of the police, local watch groups or security posts"),
    )
    HOUSING = (
        "housing",
        _("Have the landlord's and an alternative emergency contact; live in a safe area"),
    )
    HEALTH_SERVICES = "health_services", _("Know the nearby health services and their contacts")
    ROUTES_SCHEDULES = (
        "routes_schedules",
        _("Use several commuting routes and vary schedules; work remotely when possible"),
    )
    SECURE_TRANSPORT = "secure_transport", _("Use secure transport or a trusted driver")
    ROUTES_HOME = (
        "routes_home",
        _(
            "Know more than one route home; if followed, change direction, alert a colleague "
            "and report to the police"
        ),
    )
    NOT_ALONE = "not_alone", _("Do not go alone to restaurants or entertainment venues")
    MEETING_POINT = "meeting_point", _("Agree a safe meeting point in case of emergency")
    SOCIAL_MEDIA = (
        "social_media",
        _(
            "Do not share location, activities or travel plans on social media; keep accounts "
            "private"
        ),
    )
    FIRST_AID = "first_aid", _("Take basic first aid and self-protection training")
    SUPPORT_NETWORK = (
        "support_network",
        _("Build a local support network with neighbours for early warning and mutual help"),
    )
    HOME_CHECKS = "home_checks", _("Check locks, lighting and access at home and at work regularly")


class SecurityPlan(models.Model):
    """A person's plan: the thirteen measures with their state, and periodic reminders
    through the outbox."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="security_plan")
    reminder_days = models.PositiveSmallIntegerField(default=90)
    next_reminder_at = models.DateTimeField(null=True, blank=True, db_index=True)
    police = models.ForeignKey(
        DirectoryEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    health_service = models.ForeignKey(
        DirectoryEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    meeting_point = models.ForeignKey(
        DirectoryEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"security plan of {self.person_id}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class PlanMeasure(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(SecurityPlan, on_delete=models.CASCADE, related_name="measures")
    code = models.CharField(max_length=24, choices=Measure.choices)
    position = models.PositiveSmallIntegerField()
    done = models.BooleanField(default=False)
    checked_at = models.DateTimeField(null=True, blank=True)
    notes = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="one_measure_per_code")
        ]

    def __str__(self) -> str:
        return self.code

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)
