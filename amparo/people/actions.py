"""Every write to people records (CONVENTIONS.md point 2): validate, save, audit, in one
transaction. Views, the API and commands call these; nothing else writes these models."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.core.crypto import blind_index, keyring
from amparo.core.db.loader import Loader
from amparo.people import token_use
from amparo.people.models import (
    ApiToken,
    DirectoryCategory,
    DirectoryEntry,
    Invitation,
    Membership,
    MentalHealthSpecialty,
    Organisation,
    Person,
    PhoneIndex,
    Role,
    SafeHouse,
    User,
    new_session_salt,
    org_scope,
    phone_digits,
    phone_index_values,
)

# Sent inside the creating transaction; other apps add their defaults (alert policies).
organisation_created = Signal()

PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{2,22}$")
INVITATION_DAYS = 7

PERSON_FIELDS = frozenset(
    {
        "given_names",
        "family_names",
        "phone_numbers",
        "email",
        "home_area",
        "languages",
        "community_role",
        "preferred_language",
        "time_zone",
        "user",
        "quiet_hours_start",
        "quiet_hours_end",
    }
)
DIRECTORY_FIELDS = frozenset(
    {
        "category",
        "region",
        "name",
        "phone",
        "email",
        "address",
        "notes",
        "person",
        "specialties",
        "available_24h",
    }
)
SAFE_HOUSE_FIELDS = frozenset(
    {"region", "name", "address", "location", "contact", "notes", "capacity", "available"}
)


def _check_phone(value: str, field: str) -> None:
    if value and not PHONE_RE.match(value.strip()):
        raise ValidationError({field: _("%(value)s is not a phone number.") % {"value": value}})


def _apply(instance: Any, allowed: frozenset[str], changes: dict[str, Any]) -> list[str]:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(
            _("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))}
        )
    changed = []
    for name, value in changes.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return sorted(changed)


def _validate(instance: Any, exclude: list[str] | None = None) -> None:
    # full_clean checks choices, lengths and required fields in the user's language.
    instance.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)


# Organisations and memberships


@transaction.atomic
def create_organisation(
    actor: Any,
    *,
    name: str,
    slug: str,
    kind: str,
    country: str,
    region: str = "",
    time_zone: str = "America/Lima",
) -> Organisation:
    organisation = Organisation(
        name=name,
        slug=slug,
        kind=kind,
        country=country.upper(),
        region=region,
        time_zone=time_zone,
    )
    _validate(organisation)
    organisation.save()
    # The organisation's data key is born in the same transaction as the organisation.
    keyring.create(org_scope(organisation.pk))
    organisation_created.send(sender=Organisation, organisation=organisation, actor=actor)
    audit.record(
        actor,
        "organisation.created",
        organisation,
        organisation_id=organisation.pk,
        details={"slug": slug, "kind": kind},
    )
    return organisation


@transaction.atomic
def add_membership(actor: Any, organisation: Organisation, user: User, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, role=role
    )
    if created:
        audit.record(
            actor,
            "membership.added",
            membership,
            organisation_id=organisation.pk,
            details={"user": str(user.pk), "role": role},
        )
    return membership


@transaction.atomic
def remove_membership(actor: Any, membership: Membership) -> None:
    audit.record(
        actor,
        "membership.removed",
        membership,
        organisation_id=membership.organisation_id,
        details={"user": str(membership.user_id), "role": membership.role},
    )
    membership.delete()


# Accounts


@transaction.atomic
def create_user(
    actor: Any,
    *,
    email: str,
    password: str | None,
    language: str = "es",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": _("An account with this e-mail already exists.")})
    user = User(email=email, language=language, is_staff=is_staff, is_superuser=is_superuser)
    user.set_password(password)
    _validate(user, exclude=["password"])
    user.save()
    audit.record(actor, "user.created", user, details={"staff": is_staff})
    return user


@transaction.atomic
def set_language(actor: Any, user: User, language: str) -> None:
    from django.conf import settings

    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Unknown language.")})
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    audit.record(actor, "user.language_changed", user, details={"language": language})


@transaction.atomic
def set_duress_password(actor: Any, user: User, duress_password: str) -> None:
    """Set (or, with an empty value, clear) the duress password."""
    from django.contrib.auth.hashers import make_password

    if duress_password and user.check_password(duress_password):
        raise ValidationError(
            {"duress_password": _("The duress password must differ from your password.")}
        )
    if duress_password and len(duress_password) < 6:
        raise ValidationError({"duress_password": _("Use at least 6 characters.")})
    user.duress_password = make_password(duress_password) if duress_password else ""
    user.save(update_fields=["duress_password"])
    audit.record(actor, "user.duress_password_set", user, details={"set": bool(duress_password)})


@transaction.atomic
def log_out_everywhere(actor: Any, user: User) -> None:
    """End every session of the user: the session hash includes this salt."""
    user.session_salt = new_session_salt()
    user.save(update_fields=["session_salt"])
    audit.record(actor, "user.logged_out_everywhere", user)


@transaction.atomic
def record_mfa_device(actor: Any, user: User, kind: str) -> None:
    audit.record(actor, "user.mfa_enrolled", user, details={"kind": kind})


# Invitations


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invite(
    actor: Any, organisation: Organisation, *, email: str, role: str
) -> tuple[Invitation, str]:
    """Create an invitation and return it with its one-time token (only its hash is kept)."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation=organisation,
        email=User.objects.normalize_email(email).lower(),
        role=role,
        token_hash=_hash_token(token),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    _validate(invitation, exclude=["created_by", "accepted_by"])
    invitation.save()
    audit.record(
        actor,
        "invitation.created",
        invitation,
        organisation_id=organisation.pk,
        details={"role": role},
    )
    return invitation, token


def find_open_invitation(token: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("organisation")
        .filter(token_hash=_hash_token(token))
        .first()
    )
    if invitation is None or not invitation.is_open:
        return None
    return invitation


@transaction.atomic
def accept_invitation(user: User, token: str) -> Membership:
    invitation = (
        Invitation.objects.select_for_update().filter(token_hash=_hash_token(token)).first()
    )
    if invitation is None or not invitation.is_open:
        raise ValidationError(_("This invitation is not valid any more."))
    if invitation.email != user.email:
        raise ValidationError(_("This invitation was sent to another e-mail address."))
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(
        user, "invitation.accepted", invitation, organisation_id=invitation.organisation_id
    )
    return add_membership(user, invitation.organisation, user, invitation.role)


@transaction.atomic
def revoke_invitation(actor: Any, invitation: Invitation) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit.record(
        actor, "invitation.revoked", invitation, organisation_id=invitation.organisation_id
    )


# API tokens


@transaction.atomic
def create_api_token(actor: Any, user: User, name: str) -> tuple[ApiToken, str]:
    secret = "amp_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name or "integration", prefix=secret[:10], token_hash=_hash_token(secret)
    )
    _validate(token)
    token.save()
    audit.record(actor, "api_token.created", token, details={"user": str(user.pk)})
    return token, secret


# Every API request reads its token: with SQL written once (amparo/core/db/loader.py).
_TOKENS = Loader(ApiToken, ["user"])


def user_for_api_token(secret: str) -> User | None:
    token = _TOKENS.first("t0.token_hash = %s AND t0.revoked_at IS NULL", [_hash_token(secret)])
    if token is None or not token.user.is_active:
        return None
    # last_used_at is bookkeeping, kept to the minute and written in batches
    # (amparo/people/token_use.py): a read must not become a write.
    token_use.note(token.pk, token.last_used_at)
    return token.user


@transaction.atomic
def revoke_api_token(actor: Any, token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(actor, "api_token.revoked", token)


# People


def _check_email(value: str, field: str) -> None:
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError({field: _("Enter a valid e-mail address.")}) from None


def _check_person(person: Person) -> None:
    _check_email(person.email, "email")
    if not isinstance(person.phone_numbers, list):
        raise ValidationError({"phone_numbers": _("Give a list of phone numbers.")})
    for number in person.phone_numbers:
        _check_phone(str(number), "phone_numbers")
    if not isinstance(person.languages, list):
        raise ValidationError({"languages": _("Give a list of languages.")})
    if person.user_id and person.user is not None:
        in_org = Membership.objects.filter(
            user_id=person.user_id, organisation_id=person.organisation_id
        ).exists()
        if not in_org:
            raise ValidationError({"user": _("That account is not a member of this organisation.")})


def _index_phones(person: Person) -> None:
    PhoneIndex.objects.filter(person=person).delete()
    scope = org_scope(person.organisation_id)
    digests = {
        blind_index(scope, value)
        for number in person.phone_numbers or []
        for value in phone_index_values(str(number))
    }
    PhoneIndex.objects.bulk_create(
        PhoneIndex(organisation_id=person.organisation_id, person=person, digest=d)
        for d in sorted(digests)
    )


def find_person_by_phone(organisation: Organisation, number: str) -> Person | None:
    scope = org_scope(organisation.pk)
    values = phone_index_values(number)
    if number.strip().startswith(("+", "00")) or len(phone_digits(number)) > 10:
        # A number with its country code must match whole: +44 ... is not +51 ...
        values = [v for v in values if v.startswith("full:")]
    digests = [blind_index(scope, value) for value in values]
    if not digests:
        return None
    hit = (
        PhoneIndex.objects.filter(organisation=organisation, digest__in=digests)
        .select_related("person")
        .order_by("digest")
        .first()
    )
    if hit is None or hit.person.archived_at is not None:
        return None
    return hit.person


@transaction.atomic
def create_person(actor: Any, organisation: Organisation, **fields: Any) -> Person:
    person = Person(organisation=organisation)
    _apply(person, PERSON_FIELDS, fields)
    _check_person(person)
    _validate(person, exclude=["supervisor"])
    person.save()
    _index_phones(person)
    audit.record(actor, "person.created", person, organisation_id=organisation.pk)
    return person


@transaction.atomic
def update_person(actor: Any, person: Person, **changes: Any) -> list[str]:
    changed = _apply(person, PERSON_FIELDS, changes)
    if not changed:
        return []
    _check_person(person)
    _validate(person, exclude=["supervisor"])
    person.save()
    if "phone_numbers" in changed:
        _index_phones(person)
    audit.record(actor, "person.updated", person, details={"fields": changed})
    return changed


@transaction.atomic
def archive_person(actor: Any, person: Person) -> None:
    person.archived_at = timezone.now()
    person.save(update_fields=["archived_at"])
    audit.record(actor, "person.archived", person)


@transaction.atomic
def set_chain_of_command(
    actor: Any, person: Person, *, supervisor: Person | None, emergency_rank: int | None
) -> None:
    """Who a person reports to, and their place in the emergency order of authority."""
    if supervisor is not None:
        if supervisor.organisation_id != person.organisation_id:
            raise ValidationError(
                {"supervisor": _("The supervisor must be in the same organisation.")}
            )
        seen = {person.pk}
        boss: Person | None = supervisor
        while boss is not None:
            if boss.pk in seen:
                raise ValidationError({"supervisor": _("That would make a reporting loop.")})
            seen.add(boss.pk)
            boss = boss.supervisor
    if emergency_rank is not None:
        taken = Person.objects.filter(
            organisation_id=person.organisation_id, emergency_rank=emergency_rank
        ).exclude(pk=person.pk)
        if emergency_rank < 1:
            raise ValidationError({"emergency_rank": _("The order starts at 1.")})
        if taken.exists():
            raise ValidationError(
                {
                    "emergency_rank": _("Someone else already has place %(rank)s.")
                    % {"rank": emergency_rank}
                }
            )
    person.supervisor = supervisor
    person.emergency_rank = emergency_rank
    person.save(update_fields=["supervisor", "emergency_rank", "updated_at"])
    audit.record(
        actor,
        "person.chain_of_command_set",
        person,
        details={
            "supervisor": str(supervisor.pk) if supervisor else None,
            "emergency_rank": emergency_rank,
        },
    )


# Directory


def _check_directory_entry(entry: DirectoryEntry) -> None:
    _check_email(entry.email, "email")
    _check_phone(entry.phone, "phone")
    if not isinstance(entry.specialties, list) or any(
        s not in MentalHealthSpecialty.values for s in entry.specialties
    ):
        raise ValidationError({"specialties": _("Unknown specialty.")})
    if entry.specialties and entry.category != DirectoryCategory.MENTAL_HEALTH:
        raise ValidationError({"specialties": _("Only mental-health entries have specialties.")})
    if entry.person is not None and entry.person.organisation_id != entry.organisation_id:
        raise ValidationError({"person": _("That person is not in this organisation.")})


@transaction.atomic
def create_directory_entry(actor: Any, organisation: Organisation, **fields: Any) -> DirectoryEntry:
    entry = DirectoryEntry(organisation=organisation)
    _apply(entry, DIRECTORY_FIELDS, fields)
    _check_directory_entry(entry)
    _validate(entry)
    entry.save()
    audit.record(actor, "directory_entry.created", entry, details={"category": entry.category})
    return entry


@transaction.atomic
def update_directory_entry(actor: Any, entry: DirectoryEntry, **changes: Any) -> list[str]:
    changed = _apply(entry, DIRECTORY_FIELDS, changes)
    if not changed:
        return []
    _check_directory_entry(entry)
    _validate(entry)
    entry.save()
    audit.record(actor, "directory_entry.updated", entry, details={"fields": changed})
    return changed


@transaction.atomic
def archive_directory_entry(actor: Any, entry: DirectoryEntry) -> None:
    entry.archived_at = timezone.now()
    entry.save(update_fields=["archived_at"])
    audit.record(actor, "directory_entry.archived", entry)


# Safe houses


def _check_safe_house(safe_house: SafeHouse) -> None:
    location = safe_house.location
    if location is None:
        return
    try:
        lat, lon = float(location["lat"]), float(location["lon"])
    except (TypeError, KeyError, ValueError):
        raise ValidationError(
            {"location": _("Give the location as latitude and longitude.")}
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError({"location": _("That latitude or longitude is out of range.")})
    safe_house.location = {"lat": lat, "lon": lon}


@transaction.atomic
def create_safe_house(actor: Any, organisation: Organisation, **fields: Any) -> SafeHouse:
    safe_house = SafeHouse(organisation=organisation)
    _apply(safe_house, SAFE_HOUSE_FIELDS, fields)
    _check_safe_house(safe_house)
    _validate(safe_house)
    safe_house.save()
    audit.record(actor, "safe_house.created", safe_house)
    return safe_house


@transaction.atomic
def update_safe_house(actor: Any, safe_house: SafeHouse, **changes: Any) -> list[str]:
    changed = _apply(safe_house, SAFE_HOUSE_FIELDS, changes)
    if not changed:
        return []
    _check_safe_house(safe_house)
    _validate(safe_house)
    safe_house.save()
    audit.record(actor, "safe_house.updated", safe_house, details={"fields": changed})
    return changed


@transaction.atomic
def archive_safe_house(actor: Any, safe_house: SafeHouse) -> None:
    safe_house.archived_at = timezone.now()
    safe_house.save(update_fields=["archived_at"])
    audit.record(actor, "safe_house.archived", safe_house)
