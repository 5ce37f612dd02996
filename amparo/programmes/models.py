"""Psychological first aid and referral (issue 6, point 4; reference, Section 1, Step 3
"Seek psychological support", and Strategy 6, line of action 4, "Psychological first aid
and trauma support").

A referral connects a defender to a mental-health professional of the directory. Its
reason, the culturally relevant healing practices and every session's clinical notes
are sealed (DESIGN.md section 7: medical data). Session dates, durations and attendance
stay plain: they are what is counted (reference, Strategy 6, line 4, KPIs: "Number of
defenders receiving psychosocial support")."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from amparo.core.fields import EncryptedTextField
from amparo.people.models import DirectoryEntry, Organisation, Person, org_scope


class ReferralUrgency(models.TextChoices):
    # Strategy 6, line 4: "urgent psychosocial care after crisis incidents".
    URGENT = "urgent", _("Urgent: within 24 hours")
    PRIORITY = "priority", _("Priority: within a week")
    ROUTINE = "routine", _("Routine")


class ReferralStatus(models.TextChoices):
    OPEN = "open", _("Referred, no session yet")
    ACTIVE = "active", _("In support")
    CLOSED = "closed", _("Closed")


class PsychosocialReferral(models.Model):
    """A defender referred to a mental-health professional (reference, Strategy 6, line
    4: "Referral pathways: connect defenders to professional mental health services")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="psychosocial_referrals"
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="psychosocial_referrals",
        verbose_name=_("person referred"),
    )
    professional = models.ForeignKey(
        DirectoryEntry,
        on_delete=models.PROTECT,
        related_name="psychosocial_referrals",
        verbose_name=_("mental-health professional"),
    )
    # The organisation's own psychologist who follows the case (need to know: only they
    # read the clinical notes). Optional: an outside professional may hold the case alone.
    psychologist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="psychosocial_referrals",
        verbose_name=_("assigned psychologist"),
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    referred_at = models.DateTimeField()
    reason = EncryptedTextField(_("reason for the referral"))
    urgency = models.CharField(
        _("urgency"), max_length=12, choices=ReferralUrgency.choices, default=ReferralUrgency.URGENT
    )
    status = models.CharField(
        max_length=8, choices=ReferralStatus.choices, default=ReferralStatus.OPEN, db_index=True
    )
    # Reference, Strategy 6, line 4: "Collective healing: incorporate culturally relevant
    # and community-based healing practices".
    community_healing_practices = EncryptedTextField(
        _("culturally relevant, community-based healing practices"), blank=True, default=""
    )
    # Plain, so that the KPI "integration of cultural healing practices" can be counted
    # without opening the sealed text.
    includes_healing_practices = models.BooleanField(default=False)
    # The person agreed to be referred; an action refuses a referral without it.
    consent_recorded_at = models.DateTimeField()
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # What led to the referral. The crisis app is built apart and not imported here:
    # its case is referred to by id only.
    crisis_case_id = models.UUIDField(null=True, blank=True, db_index=True)
    threat_report = models.ForeignKey(
        "incidents.ThreatReport",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    next_session_at = models.DateTimeField(_("next session"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-referred_at"]
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return f"psychosocial referral {self.pk}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class PsychosocialSession(models.Model):
    """One session of a referral. Counted by date and attendance; its clinical notes are
    sealed and read only by the assigned psychologist."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    referral = models.ForeignKey(
        PsychosocialReferral, on_delete=models.CASCADE, related_name="sessions"
    )
    held_on = models.DateField(_("date"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60)
    attended = models.BooleanField(_("the person attended"), default=True)
    clinical_notes = EncryptedTextField(_("clinical notes"), blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["held_on", "created_at"]
        indexes = [models.Index(fields=["organisation", "held_on"])]

    def __str__(self) -> str:
        return f"session {self.held_on} of {self.referral_id}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)
