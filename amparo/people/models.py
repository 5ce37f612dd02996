"""Organisations, accounts, memberships and roles, people, the chain of command and the
directory (reference, Section 1, "Recommendations to safeguard security")."""

from __future__ import annotations

import secrets
import uuid
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from amparo.core.fields import EncryptedJSONField, EncryptedTextField

TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


def org_scope(organisation_id: Any) -> str:
    return f"org:{organisation_id}"


class OrganisationKind(models.TextChoices):
    NGO = "ngo", _("NGO")
    COMMUNITY = "community", _("Community organisation")
    INDIGENOUS_FEDERATION = "indigenous_federation", _("Indigenous federation")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution")
    DEFENDER_NETWORK = "defender_network", _("Defender network")


class Role(models.TextChoices):
    """The roles of DESIGN.md section 1. A person may hold several in several places."""

    DEFENDER = "defender", _("Defender")
    FOCAL_POINT = "focal_point", _("Focal point")
    COORDINATOR = "coordinator", _("Security coordinator")
    SUPERVISOR = "supervisor", _("Supervisor")
    SIGNATORY = "signatory", _("Signatory")
    LAWYER = "lawyer", _("Lawyer")
    PSYCHOLOGIST = "psychologist", _("Psychologist")
    PARTNER = "partner", _("Partner")
    ADMIN = "admin", _("Administrator")


# Every role but the defender's works with other people's data, so it must use MFA.
STAFF_ROLES = frozenset(Role) - {Role.DEFENDER}


class Organisation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code, e.g. PE"))
    region = models.CharField(_("region"), max_length=120, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="America/Lima"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def encryption_scope(self) -> str:
        return org_scope(self.pk)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("an account needs an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


def new_session_salt() -> str:
    return secrets.token_hex(16)


class User(AbstractBaseUser, PermissionsMixin):
    """A login. The e-mail is the login name; a person's names and contacts live, sealed,
    on their Person profile in each organisation. ``is_staff`` marks platform
    administrators (the Django admin), not organisation roles."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("e-mail"), unique=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="America/Lima"
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Part of the session hash: changing it ends every session of this user at once.
    session_salt = models.CharField(max_length=32, default=new_session_salt)
    # DESIGN.md section 7: a duress password (hashed like the password) signs in to a
    # harmless view and silently raises a high alert.
    duress_password = models.CharField(max_length=128, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        return salted_hmac(
            "amparo.people.User.session",
            f"{self.password}|{self.session_salt}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def roles_in(self, organisation: Organisation) -> frozenset[str]:
        return frozenset(
            self.memberships.filter(organisation=organisation).values_list("role", flat=True)
        )

    @property
    def needs_mfa(self) -> bool:
        """MFA is required for platform admins and every staff role, anywhere."""
        if self.is_staff or self.is_superuser:
            return True
        return self.memberships.filter(role__in=STAFF_ROLES).exists()


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} @ {self.organisation.slug}"


class CommunityRole(models.TextChoices):
    INDIGENOUS_LEADER = "indigenous_leader", _("Indigenous leader")
    PARK_RANGER = "park_ranger", _("Park ranger")
    JOURNALIST = "journalist", _("Journalist")
    PUBLIC_OFFICIAL = "public_official", _("Public official")
    NGO_STAFF = "ngo_staff", _("NGO staff")
    COMMUNITY_MONITOR = "community_monitor", _("Community monitor")
    COMMUNITY_MEMBER = "community_member", _("Community member")
    OTHER = "other", _("Other")


class Person(models.Model):
    """A defender profile kept by one organisation. Identity and contacts are sealed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="people")
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="profiles"
    )
    given_names = EncryptedTextField(_("given names"))
    family_names = EncryptedTextField(_("family names"), blank=True, default="")
    phone_numbers = EncryptedJSONField(_("phone numbers"), default=list, blank=True)
    email = EncryptedTextField(_("e-mail"), blank=True, default="")
    home_area = EncryptedTextField(_("home area"), blank=True, default="")
    languages = EncryptedJSONField(_("languages spoken"), default=list, blank=True)
    community_role = models.CharField(
        _("role in the community"),
        max_length=32,
        choices=CommunityRole.choices,
        default=CommunityRole.OTHER,
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default="es"
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="America/Lima"
    )
    # Chain of command (reference, "Preparation of Danish personnel": a chain of command is
    # established before deployment; Section 1: inform your supervisor).
    supervisor = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("supervisor"),
    )
    emergency_rank = models.PositiveSmallIntegerField(
        _("order of authority in an emergency"),
        null=True,
        blank=True,
        help_text=_("1 decides first in an emergency, 2 if 1 cannot be reached, and so on."),
    )
    # Quiet hours, in the person's own time zone. They never mute a life-safety alert.
    quiet_hours_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_hours_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "emergency_rank"], name="person_unique_emergency_rank"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.given_names} {self.family_names}".strip()

    def in_quiet_hours(self, at: Any) -> bool:
        if self.quiet_hours_start is None or self.quiet_hours_end is None:
            return False
        local = at.astimezone(zoneinfo.ZoneInfo(self.time_zone)).time()
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if start <= end:
            return start <= local < end
        return local >= start or local < end  # across midnight, e.g. 22:00 to 06:00

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


def phone_digits(number: str) -> str:
    """The digits of a number; "00" before a country code is the same as "+"."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if number.strip().startswith("00"):
        digits = digits[2:]
    return digits


def phone_index_values(number: str) -> list[str]:
    """What a phone number is findable by: all its digits, and its last nine (a number
    written without the country code still finds its person)."""
    digits = phone_digits(number)
    if len(digits) < 6:
        return []
    values = [f"full:{digits}"]
    if len(digits) > 9:
        values.append(f"tail:{digits[-9:]}")
    else:
        values.append(f"tail:{digits}")
    return values


class PhoneIndex(models.Model):
    """Blind index of people's phone numbers (core.crypto.blind_index), so that an SMS
    from a known number finds its person while the numbers stay sealed."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("Person", on_delete=models.CASCADE, related_name="phone_index")
    digest = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["organisation", "digest"])]

    def __str__(self) -> str:
        return f"phone index of {self.person_id}"


class DirectoryCategory(models.TextChoices):
    """Reference, Section 1, "Recommendations to safeguard security", and "Preparation of
    Danish personnel" (embassy and Global Emergency Centre contacts)."""

    CO_WORKER = "co_worker", _("Co-worker")
    SUPERVISOR = "supervisor", _("Supervisor")
    POLICE = "police", _("National police")
    WATCH_GROUP = "watch_group", _("Local watch group")
    SECURITY_POST = "security_post", _("Security post")
    HOSPITAL = "hospital", _("Hospital")
    CLINIC = "clinic", _("Clinic")
    HEALTH_CENTRE = "health_centre", _("Health centre")
    FIRE_STATION = "fire_station", _("Fire station")
    MENTAL_HEALTH = "mental_health", _("Mental-health professional")
    LAWYER = "lawyer", _("Trusted lawyer")
    EMBASSY = "embassy", _("Embassy")
    CONSULATE = "consulate", _("Consulate")
    EMERGENCY_CENTRE = "emergency_centre", _("Global Emergency Centre (Danish MFA)")
    LANDLORD = "landlord", _("Landlord")
    ALTERNATIVE_CONTACT = "alternative_contact", _("Alternative emergency contact")
    SAFE_MEETING_POINT = "safe_meeting_point", _("Safe meeting point")
    # Escalation targets beyond the organisation (reference, Strategy 2, line 2 and
    # Strategy 6, line 2: ombudsman offices, defender networks, national and
    # international protection).
    OMBUDSMAN = "ombudsman", _("Ombudsman office")
    DEFENDER_NETWORK = "defender_network", _("Regional defender network")
    PROTECTION_MECHANISM = "protection_mechanism", _("National protection mechanism")
    INTERNATIONAL_NETWORK = "international_network", _("International network")


class MentalHealthSpecialty(models.TextChoices):
    # Reference, Step 3: professionals trained in trauma, threats, violence, kidnapping
    # and sexual assault.
    TRAUMA = "trauma", _("Trauma")
    THREATS = "threats", _("Threats")
    VIOLENCE = "violence", _("Violence")
    KIDNAPPING = "kidnapping", _("Kidnapping")
    SEXUAL_ASSAULT = "sexual_assault", _("Sexual assault")


class DirectoryEntry(models.Model):
    """A contact or place people can turn to, scoped to an organisation and a region."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="directory"
    )
    category = models.CharField(_("category"), max_length=32, choices=DirectoryCategory.choices)
    region = models.CharField(_("region"), max_length=120)
    name = EncryptedTextField(_("name"))
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    email = EncryptedTextField(_("e-mail"), blank=True, default="")
    address = EncryptedTextField(_("address or place"), blank=True, default="")
    notes = EncryptedTextField(_("notes"), blank=True, default="")
    person = models.ForeignKey(
        Person,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="directory_entries",
        verbose_name=_("person in this organisation"),
    )
    specialties = models.JSONField(_("specialties"), default=list, blank=True)
    available_24h = models.BooleanField(_("available 24 hours"), default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["region", "category", "created_at"]
        verbose_name_plural = "directory entries"

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.region})"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class SafeHouse(models.Model):
    """A safe house (reference, Strategy 6, line 2). Only the organisation's security
    coordinators may see one (DESIGN.md section 7)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="safe_houses"
    )
    region = models.CharField(_("region"), max_length=120)
    name = EncryptedTextField(_("name"))
    address = EncryptedTextField(_("address"))
    location = EncryptedJSONField(
        _("location"), null=True, blank=True, help_text=_("Latitude and longitude")
    )
    contact = EncryptedTextField(_("contact"), blank=True, default="")
    notes = EncryptedTextField(_("notes"), blank=True, default="")
    capacity = models.PositiveSmallIntegerField(_("capacity (people)"), default=1)
    available = models.BooleanField(_("available now"), default=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["region", "created_at"]

    def __str__(self) -> str:
        return f"safe house ({self.region})"

    def encryption_scope(self) -> str:
        return org_scope(self.organisation_id)


class Invitation(models.Model):
    """A link to join an organisation with a role. Only the token's hash is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"invitation {self.role} @ {self.organisation_id}"

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class ApiToken(models.Model):
    """A bearer token for an integration, acting as its user. Only the hash is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
