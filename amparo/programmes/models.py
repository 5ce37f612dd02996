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


# Trainings (issue 8, point 4; reference, Strategy 1, "Training and awareness-raising").


class TrainingLine(models.TextChoices):
    """The nine lines of action of the reference's Strategy 1, in its order and words."""

    RIGHTS_AND_REPORTING = (
        "s1_l1",
        _(
            "Line 1: environmental and human rights for Indigenous communities, and mechanisms "
            "for reporting threats"
        ),
    )
    DEFENDER_RIGHTS = "s1_l2", _("Line 2: the specific rights of environmental defenders")
    SECURITY = "s1_l3", _("Line 3: personal and organisational security")
    DRILLS = (
        "s1_l4",
        _("Line 4: emergency drills, self-protection and peaceful conflict resolution"),
    )
    LEADERSHIP = (
        "s1_l5",
        _("Line 5: leadership and organisational management, with a focus on women"),
    )
    TECHNOLOGY = "s1_l6", _("Line 6: the use of technology for protection")
    PUBLIC_AWARENESS = "s1_l7", _("Line 7: public awareness of the role of defenders")
    ESCAZU = "s1_l8", _("Line 8: the Escazú Agreement")
    LEGAL_PSYCHOSOCIAL = (
        "s1_l9",
        _("Line 9: legal and psychosocial assistance for defenders at risk"),
    )


class Gender(models.TextChoices):
    WOMAN = "woman", _("Woman")
    MAN = "man", _("Man")
    OTHER = "other", _("Another identity")
    NOT_SAID = "not_said", _("Prefers not to say")


class AgeBand(models.TextChoices):
    # Youth is under 30, as Peru's Ley 27802 (15 to 29) and Bolivia's Ley 342 (16 to 28)
    # count it; the two bands below 30 are what the KPI "youth trained" adds up.
    UNDER_18 = "under_18", _("Under 18")
    FROM_18_TO_29 = "18_29", _("18 to 29")
    FROM_30_TO_44 = "30_44", _("30 to 44")
    FROM_45_TO_59 = "45_59", _("45 to 59")
    FROM_60 = "60_plus", _("60 or more")
    NOT_SAID = "not_said", _("Not said")


YOUTH_BANDS = (AgeBand.UNDER_18, AgeBand.FROM_18_TO_29)


class IndigenousIdentity(models.TextChoices):
    YES = "yes", _("Indigenous")
    NO = "no", _("Not Indigenous")
    NOT_SAID = "not_said", _("Not said")


class ParticipantRole(models.TextChoices):
    # The reference's target audiences (Strategy 1, lines 1, 2 and 8).
    COMMUNITY_MEMBER = "community_member", _("Community member")
    COMMUNITY_LEADER = "community_leader", _("Community leader")
    COMMUNITY_AUTHORITY = "community_authority", _("Community authority")
    PARK_RANGER = "park_ranger", _("Park ranger or forest monitor")
    JOURNALIST = "journalist", _("Journalist or communicator")
    PUBLIC_OFFICIAL = "public_official", _("Public official or justice operator")
    NGO_STAFF = "ngo_staff", _("NGO or civil-society staff")
    OTHER = "other", _("Other")


class Workshop(models.Model):
    """One training workshop of a Strategy 1 line of action. What is counted (line,
    dates, hours, language, community) stays plain; the facilitator's name is sealed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    line = models.CharField(_("line of action"), max_length=8, choices=TrainingLine.choices)
    topic = models.CharField(_("topic"), max_length=200)
    held_on = models.DateField(_("date"))
    # Reference, Strategy 1, line 1: "Each workshop should last 6-8 hours".
    duration_hours = models.DecimalField(_("duration (hours)"), max_digits=4, decimal_places=1)
    language = models.CharField(
        _("language"),
        max_length=60,
        help_text=_("The language it was given in, e.g. Spanish, Shipibo-Konibo, Harakbut."),
    )
    community = models.CharField(_("community"), max_length=120)
    facilitator = EncryptedTextField(_("facilitator"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-created_at"]
        indexes = [models.Index(fields=["organisation", "held_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_hours__gt=0), name="workshop_duration_positive"
            )
        ]

    def __str__(self) -> str:
        return f"workshop {self.held_on} {self.line}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class WorkshopParticipant(models.Model):
    """A participant, minimised: gender, age band, Indigenous identity and role are
    counted; a name and a phone (for SMS follow-ups, with consent) are optional and
    sealed. Scores are the pre- and post-workshop evaluation (reference, Strategy 1,
    line 1: "Pre- and post-workshop surveys"), from 0 to 100."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="participants")
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices)
    age_band = models.CharField(_("age band"), max_length=10, choices=AgeBand.choices)
    indigenous = models.CharField(
        _("Indigenous identity"), max_length=10, choices=IndigenousIdentity.choices
    )
    role = models.CharField(_("role"), max_length=24, choices=ParticipantRole.choices)
    name = EncryptedTextField(_("name (optional)"), blank=True, default="")
    phone = EncryptedTextField(_("phone for SMS follow-ups (optional)"), blank=True, default="")
    follow_up_consent = models.BooleanField(_("agrees to SMS follow-ups"), default=False)
    pre_score = models.PositiveSmallIntegerField(_("pre-workshop score"), null=True, blank=True)
    post_score = models.PositiveSmallIntegerField(_("post-workshop score"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pre_score__lte=100) | models.Q(pre_score__isnull=True),
                name="participant_pre_score_range",
            ),
            models.CheckConstraint(
                condition=models.Q(post_score__lte=100) | models.Q(post_score__isnull=True),
                name="participant_post_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"participant {self.pk}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class WorkshopFollowUp(models.Model):
    """An SMS follow-up to a workshop's participants (reference, Strategy 1, line 1,
    "Post-training follow-up ... using phone calls or SMS"). ``request_key`` comes from
    the form, so a form sent twice queues the messages once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    workshop = models.ForeignKey(Workshop, on_delete=models.CASCADE, related_name="follow_ups")
    request_key = models.UUIDField(unique=True)
    message = EncryptedTextField(_("message"))
    recipients = models.PositiveIntegerField(default=0)
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    queued_at = models.DateTimeField()

    class Meta:
        ordering = ["queued_at"]

    def __str__(self) -> str:
        return f"follow-up {self.pk}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


# The emergency support fund (issue 8, point 5; reference, Strategy 2, line 5).


class FundCategory(models.TextChoices):
    # Reference, Strategy 2, line 5, "Scope of use".
    TRANSPORT = "transport", _("Emergency transport")
    SHELTER = "shelter", _("Safe shelter")
    COMMUNICATION = "communication", _("Communication equipment")
    MEDICAL = "medical", _("Medical costs")
    LEGAL = "legal", _("Legal representation")


class FundRequestStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting two approvals")
    APPROVED = "approved", _("Approved, to disburse")
    DISBURSED = "disbursed", _("Disbursed")
    REFUSED = "refused", _("Refused")


APPROVALS_NEEDED = 2


class FundRequest(models.Model):
    """A request to the emergency fund. The beneficiary and the justification are
    sealed; category, amount, dates and status are plain so the ledger and the public
    summary are counted without opening them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("category"), max_length=16, choices=FundCategory.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217 code, e.g. PEN"))
    # A person of the organisation, or a name when the beneficiary has no record.
    beneficiary = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    beneficiary_name = EncryptedTextField(_("beneficiary"), blank=True, default="")
    justification = EncryptedTextField(_("why the fund is needed"))
    threat_report = models.ForeignKey(
        "incidents.ThreatReport", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10,
        choices=FundRequestStatus.choices,
        default=FundRequestStatus.REQUESTED,
        db_index=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True)
    refused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    refusal_note = EncryptedTextField(blank=True, default="")
    disbursed_at = models.DateTimeField(null=True, blank=True)
    disbursed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    disbursement_reference = models.CharField(
        _("payment reference"),
        max_length=60,
        blank=True,
        help_text=_("A transfer or receipt code. No names or places."),
    )
    # Reference, Strategy 2, line 5 KPI: "satisfaction level of beneficiaries", 1 to 5.
    satisfaction = models.PositiveSmallIntegerField(null=True, blank=True)
    satisfaction_recorded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["organisation", "disbursed_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="fund_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True)
                | models.Q(satisfaction__gte=1, satisfaction__lte=5),
                name="fund_satisfaction_range",
            ),
        ]

    def __str__(self) -> str:
        return f"fund request {self.pk}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)

    @property
    def reference_code(self) -> str:
        """A short code for the ledger, which names no one."""
        return str(self.pk)[:8].upper()


class FundApproval(models.Model):
    """One approver's yes. The unique constraint is the rule "one person cannot
    approve twice"; two rows make a request approved."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(FundRequest, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField()

    class Meta:
        ordering = ["approved_at"]
        constraints = [
            models.UniqueConstraint(fields=["request", "approver"], name="fund_approval_once")
        ]

    def __str__(self) -> str:
        return f"approval of {self.request_id} by {self.approver_id}"


# Legal accompaniment (issue 8, point 6; reference, Strategy 1, line 9; Strategy 5,
# lines 3 and 5).


class LegalMatter(models.TextChoices):
    THREAT = "threat", _("Threat or harassment")
    ASSAULT = "assault", _("Physical assault")
    CRIMINALISATION = "criminalisation", _("Criminalisation of the defender")
    TERRITORY = "territory", _("Land and territorial rights")
    OTHER = "other", _("Other")


class LegalCaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")
    # Reference, Strategy 5, line 5: closed without investigation, prosecution or
    # sanction is counted as unresolved (impunity).
    CLOSED_UNRESOLVED = "closed_unresolved", _("Closed without resolution")


class LegalCase(models.Model):
    """A case of legal accompaniment. The lawyer assigned works it (DESIGN.md section 1:
    need to know); the summary is sealed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("defender accompanied"),
    )
    threat_report = models.ForeignKey(
        "incidents.ThreatReport", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    matter = models.CharField(_("matter"), max_length=16, choices=LegalMatter.choices)
    summary = EncryptedTextField(_("summary of the case"))
    # Reference, Strategy 5, line 3: "Prioritize emblematic cases ... for strategic
    # litigation".
    strategic_litigation = models.BooleanField(_("strategic litigation"), default=False)
    lawyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned lawyer"),
    )
    status = models.CharField(
        max_length=20, choices=LegalCaseStatus.choices, default=LegalCaseStatus.OPEN, db_index=True
    )
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["organisation", "status"])]

    def __str__(self) -> str:
        return f"legal case {self.pk}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class ComplaintBody(models.TextChoices):
    POLICE = "police", _("Police")
    PROSECUTOR = "prosecutor", _("Public prosecutor")
    # Peru: Mecanismo Intersectorial para la Protección de las Personas Defensoras de
    # Derechos Humanos (Decreto Supremo 004-2021-JUS).
    INTERSECTORAL = (
        "intersectoral",
        _("Peru's Intersectoral Mechanism for the Protection of Defenders"),
    )
    OMBUDSMAN = "ombudsman", _("Ombudsman")
    COURT = "court", _("Court")


class ComplaintStatus(models.TextChoices):
    FILED = "filed", _("Filed")
    INVESTIGATION = "investigation", _("Under investigation")
    PROCEEDINGS = "proceedings", _("In proceedings")
    ARCHIVED = "archived", _("Archived or dismissed")
    DECIDED = "decided", _("Decided")


class ComplaintOutcome(models.TextChoices):
    PENDING = "pending", _("None yet")
    SANCTION = "sanction", _("Sanction of those responsible")
    PROTECTION = "protection", _("Protection measures granted")
    DISMISSED = "dismissed", _("Dismissed")
    ACQUITTAL = "acquittal", _("Acquittal of the defender")
    OTHER = "other", _("Other")


class Complaint(models.Model):
    """A complaint filed for a case (reference, Strategy 1, line 9: "support in filing
    complaints, and case follow-up until resolution"; Strategy 5, line 5 KPIs: "number of
    sanctions applied")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(LegalCase, on_delete=models.CASCADE, related_name="complaints")
    body = models.CharField(_("filed with"), max_length=16, choices=ComplaintBody.choices)
    filed_on = models.DateField(_("filed on"))
    file_number = models.CharField(
        _("file number"), max_length=60, blank=True, help_text=_("The authority's file code.")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ComplaintStatus.choices, default=ComplaintStatus.FILED
    )
    status_on = models.DateField(_("status since"))
    outcome = models.CharField(
        _("outcome"),
        max_length=12,
        choices=ComplaintOutcome.choices,
        default=ComplaintOutcome.PENDING,
    )
    sanctions = models.PositiveSmallIntegerField(_("sanctions applied"), default=0)
    notes = EncryptedTextField(_("notes"), blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["filed_on", "created_at"]
        indexes = [models.Index(fields=["organisation", "filed_on"])]

    def __str__(self) -> str:
        return f"complaint {self.body} {self.filed_on}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)
