"""Risk assessments (reference, Strategy 4, line 3, "Regular risk assessments and
updates"; Definitions, "Risk" and "Serious and Imminent Risk"). The method is in
risk.method and docs/risk-method.md; these models keep what was rated and what it made.

Sealed (DESIGN.md section 7): a community's name, threat descriptions, vulnerability and
capacity descriptions, the scenario analysis and mitigation action descriptions. Ratings,
levels and dates stay plain: the overdue list and the trend are queries on them."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from amparo.core.fields import EncryptedTextField
from amparo.incidents.models import ThreatReport
from amparo.people.models import Organisation, Person, User, org_scope
from amparo.risk import method


class SubjectKind(models.TextChoices):
    PERSON = "person", _("A person")
    COMMUNITY = "community", _("A community")
    ORGANISATION = "organisation", _("The organisation")


class ReassessEvery(models.TextChoices):
    """Reference, Strategy 4, line 3: "Conduct quarterly or semi-annual risk
    assessments"; quarterly is the default."""

    QUARTER = "quarter", _("Every quarter (3 months)")
    HALF_YEAR = "half_year", _("Every six months")


REASSESS_MONTHS: dict[str, int] = {ReassessEvery.QUARTER: 3, ReassessEvery.HALF_YEAR: 6}


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    VERY_HIGH = "very_high", _("Very high")


LEVEL_OF = {
    method.Level.LOW: RiskLevel.LOW,
    method.Level.MEDIUM: RiskLevel.MEDIUM,
    method.Level.HIGH: RiskLevel.HIGH,
    method.Level.VERY_HIGH: RiskLevel.VERY_HIGH,
}
ORDER_OF: dict[str, int] = {code: int(level) for level, code in LEVEL_OF.items()}


class ThreatRating(models.IntegerChoices):
    """The threat scale (risk.method.THREAT_SCALE)."""

    VAGUE = 1, _("1 · Vague or implausible, unknown source not linked to illicit activity")
    INDIRECT = 2, _("2 · Indirect hostility: rumours, stigmatisation, generic warnings")
    DIRECT = 3, _("3 · Direct threat from a source linked to illicit activity who knows the work")
    REPEATED = 4, _("4 · Repeated or specific threats, surveillance, attacks on people close by")
    VIOLENT = 5, _("5 · Physical violence, attempted assault or credible signs of imminent harm")


class VulnerabilityRating(models.IntegerChoices):
    VERY_LOW = 1, _("1 · Very low: barely exposes the subject")
    LOW = 2, _("2 · Low")
    MODERATE = 3, _("3 · Moderate")
    HIGH = 4, _("4 · High")
    VERY_HIGH = 5, _("5 · Very high: leaves the subject exposed, unable to avoid the threat")


class CapacityRating(models.IntegerChoices):
    NONE = 1, _("1 · None or very weak: nothing in place")
    WEAK = 2, _("2 · Weak")
    MODERATE = 3, _("3 · Moderate")
    STRONG = 4, _("4 · Strong")
    VERY_STRONG = 5, _("5 · Very strong: in place, practised and reliable")


class Likelihood(models.IntegerChoices):
    RARE = 1, _("1 · Rare: not expected in the next three months")
    UNLIKELY = 2, _("2 · Unlikely")
    POSSIBLE = 3, _("3 · Possible")
    LIKELY = 4, _("4 · Likely: has happened before or is being prepared")
    ALMOST_CERTAIN = 5, _("5 · Almost certain: expected within days or already happening")


class Impact(models.IntegerChoices):
    NEGLIGIBLE = 1, _("1 · Negligible: no lasting harm")
    MINOR = 2, _("2 · Minor: fear, short disruption of the work")
    MODERATE = 3, _("3 · Moderate: damage to property, reputation or work; psychological harm")
    MAJOR = 4, _("4 · Major: injury, detention, forced displacement, prosecution")
    SEVERE = 5, _("5 · Severe: death, disappearance, kidnapping, sexual violence")


class ActorType(models.TextChoices):
    """Who is behind a threat (reference, Context: illegal mining, logging, drug and land
    trafficking; weak or complicit state presence)."""

    ILLEGAL_MINING = "illegal_mining", _("Illegal miners")
    ILLEGAL_LOGGING = "illegal_logging", _("Illegal loggers")
    DRUG_TRAFFICKING = "drug_trafficking", _("Drug traffickers")
    LAND_TRAFFICKING = "land_trafficking", _("Land traffickers")
    ARMED_GROUP = "armed_group", _("Armed group")
    STATE_ACTOR = "state_actor", _("Police, military or other state agents")
    LOCAL_AUTHORITY = "local_authority", _("Local authority or politician")
    COMPANY = "company", _("Company or its contractors")
    COMMUNITY_MEMBER = "community_member", _("Members of a community")
    UNKNOWN = "unknown", _("Unknown")
    OTHER = "other", _("Other")


class Endangers(models.TextChoices):
    """The reference's definition of serious and imminent risk, clause by clause."""

    LIFE = method.LIFE, _("Life")
    PHYSICAL_INTEGRITY = method.PHYSICAL_INTEGRITY, _("Physical integrity")
    PERSONAL_FREEDOM = method.PERSONAL_FREEDOM, _("Personal freedom")
    DEFENDER_ROLE = method.DEFENDER_ROLE, _("Ability to work as a defender")


class RiskSubject(models.Model):
    """Whose risk is assessed: a person, a community or the organisation. The history
    and the re-assessment schedule belong to the subject."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="risk_subjects"
    )
    kind = models.CharField(_("subject"), max_length=16, choices=SubjectKind.choices)
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="risk_subjects",
        verbose_name=_("person"),
    )
    community_name = EncryptedTextField(_("community"), blank=True, default="")
    region = models.CharField(_("region"), max_length=120, blank=True)
    reassess_every = models.CharField(
        _("re-assess"),
        max_length=12,
        choices=ReassessEvery.choices,
        default=ReassessEvery.QUARTER,
    )
    # Due now until first assessed; then the last assessment's date plus the period.
    next_due_on = models.DateField(db_index=True)
    # When the coordinators are reminded (once per due date); None once reminded.
    next_reminder_at = models.DateTimeField(null=True, blank=True, db_index=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["next_due_on", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "person"],
                condition=models.Q(person__isnull=False),
                name="risk_subject_unique_person",
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=models.Q(kind="organisation"),
                name="risk_subject_unique_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"risk subject {self.pk}"

    @property
    def label(self) -> str:
        if self.kind == SubjectKind.PERSON and self.person is not None:
            return self.person.display_name
        if self.kind == SubjectKind.COMMUNITY:
            return str(self.community_name)
        return self.organisation.name

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class RiskAssessment(models.Model):
    """One dated assessment. Its ratings are kept as rated; a later look at the same
    subject is a new assessment, so the history shows how the risk moved."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="risk_assessments"
    )
    subject = models.ForeignKey(RiskSubject, on_delete=models.PROTECT, related_name="assessments")
    assessed_on = models.DateField(_("assessed on"))
    assessed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    likelihood = models.PositiveSmallIntegerField(_("likelihood"), choices=Likelihood.choices)
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Impact.choices)
    scenarios = EncryptedTextField(_("scenario analysis"), blank=True, default="")
    # What risk.method made of the ratings (kept, so lists and trends need no items).
    threat_factor = models.DecimalField(max_digits=6, decimal_places=3)
    vulnerability_factor = models.DecimalField(max_digits=6, decimal_places=3)
    capacity_factor = models.DecimalField(max_digits=6, decimal_places=3)
    formula_score = models.DecimalField(max_digits=6, decimal_places=3)
    formula_level = models.CharField(max_length=10, choices=RiskLevel.choices)
    matrix_score = models.PositiveSmallIntegerField()
    matrix_level = models.CharField(max_length=10, choices=RiskLevel.choices)
    level = models.CharField(_("level"), max_length=10, choices=RiskLevel.choices, db_index=True)
    level_floors = models.JSONField(default=list)
    serious_and_imminent = models.BooleanField(_("serious and imminent risk"), default=False)
    imminence_reasons = models.JSONField(default=list)
    next_due_on = models.DateField(_("re-assess by"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-assessed_on", "-created_at"]
        indexes = [models.Index(fields=["subject", "-assessed_on"])]

    def __str__(self) -> str:
        return f"risk assessment {self.pk}"

    @property
    def level_order(self) -> int:
        return ORDER_OF[self.level]

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class Threat(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(RiskAssessment, on_delete=models.CASCADE, related_name="threats")
    position = models.PositiveSmallIntegerField(default=0)
    actor_type = models.CharField(_("actor type"), max_length=24, choices=ActorType.choices)
    description = EncryptedTextField(_("description"))
    rating = models.PositiveSmallIntegerField(_("rating"), choices=ThreatRating.choices)
    recurring = models.BooleanField(_("happened more than once or ongoing"), default=False)
    endangers = models.JSONField(_("endangers"), default=list, blank=True)
    incident = models.ForeignKey(
        ThreatReport,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="risk_threats",
        verbose_name=_("threat report"),
    )

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"threat {self.pk}"

    def facts(self) -> method.ThreatFacts:
        return method.ThreatFacts(
            rating=self.rating, recurring=self.recurring, endangers=frozenset(self.endangers)
        )

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class RatedFactor(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    description = EncryptedTextField(_("description"))
    rating = models.PositiveSmallIntegerField(_("rating"))

    class Meta:
        abstract = True
        ordering = ["position"]

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class Vulnerability(RatedFactor):
    assessment = models.ForeignKey(
        RiskAssessment, on_delete=models.CASCADE, related_name="vulnerabilities"
    )

    class Meta(RatedFactor.Meta):
        verbose_name_plural = "vulnerabilities"

    def __str__(self) -> str:
        return f"vulnerability {self.pk}"


class Capacity(RatedFactor):
    assessment = models.ForeignKey(
        RiskAssessment, on_delete=models.CASCADE, related_name="capacities"
    )

    class Meta(RatedFactor.Meta):
        verbose_name_plural = "capacities"

    def __str__(self) -> str:
        return f"capacity {self.pk}"


class MitigationAction(models.Model):
    """One action of the mitigation plan, with the person who owns it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(
        RiskAssessment, on_delete=models.CASCADE, related_name="mitigation_actions"
    )
    description = EncryptedTextField(_("action"))
    owner = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="risk_actions", verbose_name=_("owner")
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "created_at"]

    def __str__(self) -> str:
        return f"mitigation action {self.pk}"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)
