"""Crisis response (issue 6; DESIGN.md section 5, "Crisis"; the reference's "Crisis
scenarios" and Strategy 6): versioned playbooks, crisis cases with their role-assigned
tasks, the append-only timeline, international advocacy alerts and the after-action
review.

Sealed: whatever names, locates or narrates (the case's title, exact place and summary,
task notes, timeline entries, the advocacy text and override reason, the review). Readable:
kinds, states, roles, due and done times, the blackout flag and the activation figures, so
lists, deadlines and KPIs work without opening anything. Playbooks are organisational
procedure, not personal data, and stay readable.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from amparo.alerts.models import Alert
from amparo.core.fields import EncryptedTextField
from amparo.people.models import Organisation, Person, User, org_scope
from amparo.travel.models import Deployment


class CrisisKind(models.TextChoices):
    # Reference, "Crisis scenarios" and Strategy 6, line 1 ("scenario planning").
    KIDNAPPING = "kidnapping", _("Kidnapping or hostage-taking")
    FRAUD = "fraud", _("Fraud or deception")
    DETENTION = "detention", _("Unlawful detention")
    ATTACK = "attack", _("Violent or armed attack")
    EVICTION = "eviction", _("Forced eviction")
    DEATH_ABROAD = "death_abroad", _("Death abroad and repatriation")


class CrisisRole(models.TextChoices):
    # Strategy 6, line 1: "Chain of command: identify roles and responsibilities".
    LEAD = "lead", _("Crisis lead")
    COMMUNICATOR = "communicator", _("Communicator")
    FAMILY_LIAISON = "family_liaison", _("Family liaison")
    LEGAL = "legal", _("Legal")
    LOGISTICS = "logistics", _("Logistics")
    MEDIA = "media", _("Media")


class CaseState(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class ContinuityStatus(models.TextChoices):
    # Strategy 6, line 5: "Continuity plans: develop organisational strategies to ensure
    # activities resume safely".
    NONE = "none", _("No continuity plan")
    DRAFTING = "drafting", _("Being drafted")
    IN_PLACE = "in_place", _("In place")
    ACTIVATED = "activated", _("Activated: work is resuming")


class TimelineKind(models.TextChoices):
    OPENED = "opened", _("Case opened")
    NOTE = "note", _("Note")
    TASK_DONE = "task_done", _("Task done")
    BLACKOUT = "blackout", _("Media blackout")
    ADVOCACY = "advocacy", _("Advocacy alert")
    OVERRIDE = "override", _("Blackout override")
    REVIEW = "review", _("After-action review")


def in_language(texts: dict[str, str] | None, language: str | None = None) -> str:
    """A text stored in several languages, in the user's language, else English."""
    if not texts:
        return ""
    language = (language or translation.get_language() or "en")[:2]
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


class _Scoped(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class Playbook(_Scoped):
    """One version of an organisation's playbook for one kind of crisis. A version is
    never changed: an edit writes the next version, and running cases keep theirs."""

    kind = models.CharField(max_length=20, choices=CrisisKind.choices)
    version = models.PositiveIntegerField(default=1)
    # {"es": ..., "en": ...}: shown in the user's language, else English.
    title = models.JSONField(default=dict)
    summary = models.JSONField(default=dict, blank=True)
    # Reference panels, e.g. what the ministry and embassies can and cannot do:
    # [{"title": {"es", "en"}, "items": [{"es", "en"}, ...]}].
    panels = models.JSONField(default=list, blank=True)
    media_blackout = models.BooleanField(
        default=False, help_text=_("Cases of this kind start under a media blackout.")
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "version"], name="one_playbook_version"
            )
        ]

    def __str__(self) -> str:
        return f"playbook {self.kind} v{self.version}"

    @property
    def title_text(self) -> str:
        return in_language(self.title)

    @property
    def summary_text(self) -> str:
        return in_language(self.summary)

    def panels_text(self) -> list[dict[str, Any]]:
        return [
            {
                "title": in_language(panel.get("title")),
                "items": [in_language(item) for item in panel.get("items", [])],
            }
            for panel in self.panels
        ]


class PlaybookTask(models.Model):
    """A task of a playbook version: who does it, by when after activation, how, whom to
    call (directory categories) and its sub-checklist."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=20, choices=CrisisRole.choices)
    offset_minutes = models.PositiveIntegerField(
        help_text=_("Minutes after activation by which the task is due.")
    )
    title = models.JSONField(default=dict)
    guidance = models.JSONField(default=dict, blank=True)
    contact_categories = models.JSONField(default=list, blank=True)
    checklist = models.JSONField(default=list, blank=True)  # [{"es", "en"}, ...]

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "position"], name="one_task_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.role} +{self.offset_minutes} min"

    @property
    def title_text(self) -> str:
        return in_language(self.title)

    @property
    def guidance_text(self) -> str:
        return in_language(self.guidance)

    def checklist_text(self) -> list[str]:
        return [in_language(item) for item in self.checklist]


class CrisisCase(_Scoped):
    kind = models.CharField(max_length=20, choices=CrisisKind.choices, db_index=True)
    playbook = models.ForeignKey(Playbook, on_delete=models.PROTECT, related_name="cases")
    title = EncryptedTextField(_("title"))
    summary = EncryptedTextField(_("what happened"), blank=True, default="")
    # Coarse (a region) is readable; the exact place is sealed and never leaves unless
    # a coordinator includes it in an advocacy alert.
    region = models.CharField(_("region"), max_length=120, blank=True)
    exact_place = EncryptedTextField(_("exact place"), blank=True, default="")
    alert = models.ForeignKey(
        Alert, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lead = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=8, choices=CaseState.choices, default=CaseState.OPEN, db_index=True
    )
    # Reference, "Confidentiality and media": for hostages, publicity raises the ransom.
    media_blackout = models.BooleanField(_("media blackout"), default=False)
    # Strategy 6, line 1, KPI "time to activate emergency protocols": alert raised, case
    # opened, first task done; stored so the KPIs read them without recomputing.
    alert_raised_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(db_index=True)
    first_task_done_at = models.DateTimeField(null=True, blank=True)
    seconds_to_open = models.PositiveIntegerField(null=True, blank=True)
    seconds_to_first_task = models.PositiveIntegerField(null=True, blank=True)
    opened_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"crisis {self.kind} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state == CaseState.OPEN

    @property
    def seconds_to_activate(self) -> int | None:
        """From the alert (or the opening, by hand) to the first task done."""
        if self.first_task_done_at is None:
            return None
        start = self.alert_raised_at or self.opened_at
        return max(0, int((self.first_task_done_at - start).total_seconds()))


class CrisisTask(_Scoped):
    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="tasks")
    # The playbook version's task: its texts are never changed, so the case keeps them.
    template = models.ForeignKey(PlaybookTask, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=20, choices=CrisisRole.choices)
    due_at = models.DateTimeField()
    assignee = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="crisis_tasks"
    )
    checked = models.JSONField(default=list, blank=True)  # indexes of checklist items done
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["due_at", "position"]

    def __str__(self) -> str:
        return f"crisis task {self.role} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class TimelineEntry(_Scoped):
    """Append-only (core.guards triggers refuse UPDATE and DELETE): what happened in the
    case, in order. Every entry is also in the audit log."""

    case = models.ForeignKey(CrisisCase, on_delete=models.PROTECT, related_name="timeline")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=TimelineKind.choices)
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = EncryptedTextField()

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="one_timeline_seq")]

    def __str__(self) -> str:
        return f"timeline #{self.seq} ({self.kind})"


class AdvocacyState(models.TextChoices):
    SENT = "sent", _("Queued for sending")
    BLOCKED = "blocked", _("Blocked by the media blackout")


class AdvocacyAlert(_Scoped):
    """Strategy 6, line 6: an emergency alert to international human-rights bodies and
    diplomatic missions. ``body`` is exactly the text that left the organisation."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="advocacy")
    body = EncryptedTextField()
    included = models.JSONField(default=list, blank=True)  # which identifying parts went out
    recipients = models.JSONField(default=list, blank=True)  # directory entry ids
    state = models.CharField(max_length=8, choices=AdvocacyState.choices)
    override_reason = EncryptedTextField(blank=True, default="")
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"advocacy alert ({self.state})"


class AfterActionReview(_Scoped):
    """Strategy 6, line 5: what worked and what failed, lessons and protocol changes, and
    the continuity plan. Filing it closes the case."""

    case = models.OneToOneField(CrisisCase, on_delete=models.CASCADE, related_name="review")
    what_worked = EncryptedTextField(_("what worked"))
    what_failed = EncryptedTextField(_("what failed"))
    lessons = EncryptedTextField(_("lessons"))
    protocol_changes = EncryptedTextField(_("protocol changes"), blank=True, default="")
    continuity_status = models.CharField(
        _("continuity plan"), max_length=12, choices=ContinuityStatus.choices
    )
    filed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filed_at = models.DateTimeField()

    class Meta:
        ordering = ["-filed_at"]

    def __str__(self) -> str:
        return f"after-action review of {self.case_id}"
