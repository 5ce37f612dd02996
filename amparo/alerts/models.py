"""Alerts, escalation policies, the step clock and the notification outbox (DESIGN.md
sections 5 and 6; reference, Strategy 2, line 2 and Strategy 6, lines 1 and 2)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from amparo.core.fields import EncryptedJSONField, EncryptedTextField
from amparo.core.ids import time_ordered_id
from amparo.people.models import Organisation, Person, User, org_scope


class Level(models.TextChoices):
    """Reference, Strategy 2, line 2: escalate from local to regional and national levels;
    Strategy 6: to international networks."""

    LOCAL = "local", _("Local")
    REGIONAL = "regional", _("Regional")
    NATIONAL = "national", _("National")
    INTERNATIONAL = "international", _("International")


class AlertKind(models.TextChoices):
    PANIC = "panic", _("Panic")
    DURESS = "duress", _("Duress")
    THREAT = "threat", _("Threat")
    MISSED_CHECKIN = "missed_checkin", _("Missed check-in")
    COMMUNITY = "community", _("Community alert")
    MANUAL = "manual", _("Manual")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")
    SIGNAL = "signal", _("Signal")
    TELEGRAM = "telegram", _("Telegram")


def is_life_safety(kind: str, severity: str) -> bool:
    """DESIGN.md section 6: quiet hours never mute panic, duress, missed check-in or a
    high threat."""
    if kind in (AlertKind.PANIC, AlertKind.DURESS, AlertKind.MISSED_CHECKIN):
        return True
    return severity == Severity.HIGH


class EscalationPolicy(models.Model):
    """Ordered tiers of whom to notify, how and when. Edited by coordinators; an alert
    keeps a snapshot, so a later edit never changes a running alert."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="escalation_policies"
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kinds = models.JSONField(_("alert kinds"), default=list, blank=True)
    severities = models.JSONField(_("severities"), default=list, blank=True)
    priority = models.PositiveSmallIntegerField(default=100)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return self.name

    def matches(self, kind: str, severity: str) -> bool:
        return (not self.kinds or kind in self.kinds) and (
            not self.severities or severity in self.severities
        )

    def snapshot(self) -> dict[str, Any]:
        """The policy as an alert keeps it. Cached per process by id, version and time of
        the last change: every edit goes through ``alerts.actions.save_policy``, which
        raises the version and the time, so a cached snapshot is never stale (an edit
        rolled back and redone gets another time). A copy is returned, made from the
        cached JSON text (a quarter of the time of a deep copy)."""
        key = (self.pk, self.version, self.updated_at)
        cached = _SNAPSHOTS.get(key)
        if cached is None:
            cached = json.dumps(
                {
                    "policy_id": str(self.pk),
                    "name": self.name,
                    "version": self.version,
                    "tiers": [tier.snapshot() for tier in self.tiers.order_by("position")],
                }
            )
            if len(_SNAPSHOTS) > 1000:
                _SNAPSHOTS.clear()
            _SNAPSHOTS[key] = cached
        snapshot: dict[str, Any] = json.loads(cached)
        return snapshot


_SNAPSHOTS: dict[tuple[Any, int, Any], str] = {}


class PolicyTier(models.Model):
    """One tier: targets, channels, a delay from raising, and repeats.

    A target is ``{"type": "role", "role": "coordinator"}``,
    ``{"type": "person", "id": "<uuid>"}``, ``{"type": "directory", "id": "<uuid>"}`` or
    ``{"type": "partner", "slug": "<organisation>"}``."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="tiers")
    position = models.PositiveSmallIntegerField()
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    targets = models.JSONField(_("targets"), default=list)
    channels = models.JSONField(_("channels"), default=list)
    delay_minutes = models.PositiveIntegerField(_("delay after raising (minutes)"), default=0)
    repeat_count = models.PositiveSmallIntegerField(_("repeats"), default=0)
    repeat_interval_minutes = models.PositiveIntegerField(_("minutes between repeats"), default=5)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="tier_unique_position")
        ]

    def __str__(self) -> str:
        return f"{self.policy} #{self.position} {self.level}"

    def snapshot(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "level": self.level,
            "targets": self.targets,
            "channels": self.channels,
            "delay_minutes": self.delay_minutes,
            "repeat_count": self.repeat_count,
            "repeat_interval_minutes": self.repeat_interval_minutes,
        }


class AlertState(models.TextChoices):
    RAISED = "raised", _("Raised")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class Alert(models.Model):
    # Indexes: every alert writes each of them, so only those a query uses: lists and
    # dashboards read per organisation (the indexes in Meta lead with it), the links to
    # users are indexed only once set (empty when raised).
    id = models.UUIDField(primary_key=True, default=time_ordered_id, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="alerts", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=AlertState.choices, default=AlertState.RAISED
    )
    # A short code people type to acknowledge by SMS ("OK 7K2M9Q").
    code = models.CharField(max_length=12)
    message = EncryptedTextField(_("message"), blank=True, default="")
    location = EncryptedJSONField(_("location"), null=True, blank=True)
    # What the alert is about, in the app that raised it ("incidents.threatreport", id).
    subject_type = models.CharField(max_length=80, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    raised_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=20, default="web")
    # Raised from a number nobody knows: acted upon, and marked as unverified.
    unverified = models.BooleanField(default=False)
    policy_snapshot = models.JSONField(default=dict)
    raised_at = models.DateTimeField(db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    acknowledged_by_label = EncryptedTextField(blank=True, default="")
    acknowledged_role = models.CharField(max_length=40, blank=True)
    acknowledged_via = models.CharField(max_length=20, blank=True)
    acknowledged_level = models.CharField(max_length=16, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    resolution_note = EncryptedTextField(_("resolution"), blank=True, default="")

    class Meta:
        ordering = ["-raised_at"]
        indexes = [
            models.Index(fields=["organisation", "state", "raised_at"]),
            # Covers the dashboard's alerts raised and times to acknowledge per tier
            # (monitoring.dashboard): read from the index alone.
            models.Index(
                fields=["organisation", "raised_at", "acknowledged_level", "acknowledged_at"],
                name="alert_response_cover",
            ),
            # Acknowledgement by the code ("OK 7K2M9Q"): equality only.
            models.Index(fields=["code"], name="alert_code"),
            models.Index(
                fields=["acknowledged_by"],
                name="alert_acknowledged_by",
                condition=Q(acknowledged_by__isnull=False),
            ),
            models.Index(
                fields=["resolved_by"],
                name="alert_resolved_by",
                condition=Q(resolved_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.severity} {self.code}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)

    @property
    def life_safety(self) -> bool:
        return is_life_safety(self.kind, self.severity)

    @property
    def response_seconds(self) -> float | None:
        if self.acknowledged_at is None:
            return None
        return (self.acknowledged_at - self.raised_at).total_seconds()


class StepState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class AlertStep(models.Model):
    """One notification round of one tier, due at a fixed instant computed at raise time.

    Twelve of these per threat report: the alert is indexed by the unique constraint,
    which leads with it, not by an index of its own."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="steps", db_index=False)
    tier_position = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=16, choices=Level.choices)
    repeat_index = models.PositiveSmallIntegerField(default=0)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=12, choices=StepState.choices, default=StepState.PENDING)
    claimed_by = models.CharField(max_length=64, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    skipped_quiet = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["state", "due_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "tier_position", "repeat_index"], name="step_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} tier {self.tier_position} #{self.repeat_index}"


class OutboxState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class OutboxMessage(models.Model):
    """One message to one recipient on one channel. Delivered at least once, never twice
    for the same idempotency key (which the receiver also sees)."""

    id = models.UUIDField(primary_key=True, default=time_ordered_id, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="outbox")
    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    step = models.ForeignKey(
        AlertStep, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    idempotency_key = models.CharField(max_length=200)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    recipient_label = EncryptedTextField()
    address = EncryptedTextField(blank=True, default="")
    body = EncryptedTextField()
    language = models.CharField(max_length=8, default="es")
    state = models.CharField(
        max_length=12, choices=OutboxState.choices, default=OutboxState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        # Looked up by equality only: no pattern index beside the unique one.
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="outbox_idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} message ({self.state})"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class DeliveryChannel(models.Model):
    """How an organisation sends on one channel: an Apprise URL, sealed because it holds
    gateway credentials. ``{to}`` in the URL is replaced by the recipient's address."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="delivery_channels"
    )
    channel = models.CharField(max_length=12, choices=Channel.choices)
    url = EncryptedTextField(_("Apprise URL"))
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "channel"], name="delivery_channel_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.channel}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class AckLink(models.Model):
    """A signed, single-use, expiring acknowledgement link sent in a message."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="ack_links")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, null=True, blank=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True)
    label = EncryptedTextField()
    role = models.CharField(max_length=40, blank=True)
    level = models.CharField(max_length=16, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ack link {self.pk}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class AlertShare(models.Model):
    """An alert shared explicitly with a partner organisation (audited)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="shares")
    partner = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="shared_alerts"
    )
    shared_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    shared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "partner"], name="alert_share_unique")
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} -> {self.partner_id}"


class WorkerHeartbeat(models.Model):
    """The last sign of life of each worker loop, for the heartbeat URL."""

    # The loops a healthy worker keeps beating (alerts.views.heartbeat, core.ops);
    # "checkins" is the missed check-in sweep, a life-safety loop of its own.
    WATCHED_LOOPS = ("clock", "outbox", "auditor", "checkins")

    name = models.CharField(max_length=80, primary_key=True)
    beat_at = models.DateTimeField()
    details = models.JSONField(default=dict)

    def __str__(self) -> str:
        return self.name
