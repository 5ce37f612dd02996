"""The only writes of community security protocols (reference, Strategy 2, line 1; issue
8, point 1): creating one, saving a new version, adopting or retiring it, and recording
the members trained in it. Each action validates, saves and appends its audit entry in
one transaction. Audit details hold ids, numbers, codes and flags, never the sealed
sections.

A protocol is never edited in place: every save is a new ``ProtocolVersion`` with the
next number, so the version a community laminated and the one in force can both be read.
Who may call these is checked by the caller through ``protocols.access``.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from amparo.core import audit
from amparo.people.actions import PHONE_RE
from amparo.people.models import Organisation, Person
from amparo.protocols.models import (
    CoCreator,
    CommunityProtocol,
    ProtocolStatus,
    ProtocolTraining,
    ProtocolVersion,
)

# The reference's content sections, in its order (Strategy 2, line 1, "Content").
TEXT_SECTIONS = (
    "risk_identification",
    "preventive_measures",
    "safe_routes",
    "gathering_points",
    "external_coordination",
)
# Sections that are lists of pairs: an alert signal and what it means, a contact and
# their number. The card prints them one per line.
ALERT_SIGNALS = "alert_signals"
EMERGENCY_CONTACTS = "emergency_contacts"
# The numbers a community member calls or texts to report (printed beside the QR code).
REPORT_NUMBERS = "report_numbers"
SECTION_ORDER = (
    "risk_identification",
    "preventive_measures",
    "safe_routes",
    ALERT_SIGNALS,
    EMERGENCY_CONTACTS,
    "gathering_points",
    "external_coordination",
)
MAX_TEXT = 6000
MAX_ITEMS = 30
MAX_ITEM = 200
LANGUAGE_MAX = 16
CO_CREATOR_FLAGS = {
    CoCreator.INDIGENOUS_LEADERS: "with_indigenous_leaders",
    CoCreator.WOMEN: "with_women",
    CoCreator.YOUTH: "with_youth",
    CoCreator.COMMUNITY_AUTHORITIES: "with_community_authorities",
}


def _text(value: Any, field: str, limit: int = MAX_TEXT) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise ValidationError({field: _("Keep it under %(n)s characters.") % {"n": limit}})
    return text


def _pairs(value: Any, field: str, first: str, second: str) -> list[dict[str, str]]:
    pairs = []
    for item in value or []:
        if not isinstance(item, dict):
            raise ValidationError({field: _("Give each line as two parts.")})
        a = _text(item.get(first), field, MAX_ITEM)
        b = _text(item.get(second), field, MAX_ITEM)
        if a or b:
            pairs.append({first: a, second: b})
    if len(pairs) > MAX_ITEMS:
        raise ValidationError({field: _("At most %(n)s lines.") % {"n": MAX_ITEMS}})
    return pairs


def _phones(value: Any, field: str) -> list[str]:
    phones = [str(p).strip() for p in value or [] if str(p).strip()]
    for phone in phones:
        if not PHONE_RE.match(phone):
            raise ValidationError({field: _("%(value)s is not a phone number.") % {"value": phone}})
    if len(phones) > 5:
        raise ValidationError({field: _("At most %(n)s numbers.") % {"n": 5}})
    return phones


def clean_sections(raw: dict[str, Any]) -> dict[str, Any]:
    """The sections as stored: every known key present, text trimmed, lists of pairs."""
    unknown = set(raw) - set(SECTION_ORDER) - {REPORT_NUMBERS}
    if unknown:
        raise ValidationError(
            _("Unknown sections: %(names)s") % {"names": ", ".join(sorted(unknown))}
        )
    sections: dict[str, Any] = {name: _text(raw.get(name), name) for name in TEXT_SECTIONS}
    sections[ALERT_SIGNALS] = _pairs(raw.get(ALERT_SIGNALS), ALERT_SIGNALS, "signal", "meaning")
    contacts = _pairs(raw.get(EMERGENCY_CONTACTS), EMERGENCY_CONTACTS, "name", "phone")
    _phones([c["phone"] for c in contacts], EMERGENCY_CONTACTS)
    sections[EMERGENCY_CONTACTS] = contacts
    sections[REPORT_NUMBERS] = _phones(raw.get(REPORT_NUMBERS), REPORT_NUMBERS)
    return sections


def _co_creators(values: Any) -> list[str]:
    chosen = sorted(set(values or []))
    unknown = [v for v in chosen if v not in CoCreator.values]
    if unknown:
        raise ValidationError({"co_creators": _("Choose among the listed groups.")})
    return chosen


def _language(value: str) -> str:
    language = (value or "").strip().lower()
    if not language or len(language) > LANGUAGE_MAX or not language.replace("-", "").isalnum():
        raise ValidationError({"language": _("Give a language code, e.g. es, en, ese.")})
    return language


def _title(value: str) -> str:
    title = _text(value, "title", 160)
    if not title:
        raise ValidationError({"title": _("Give the protocol a title.")})
    return title


def _apply_metadata(
    protocol: CommunityProtocol,
    title: str,
    language: str,
    co_creators: list[str],
    community: str,
) -> None:
    protocol.title = title
    protocol.language = language
    protocol.community = community
    for choice, flag in CO_CREATOR_FLAGS.items():
        setattr(protocol, flag, choice in co_creators)


def _new_version(
    actor: Any, protocol: CommunityProtocol, sections: Any, change_note: str
) -> ProtocolVersion:
    # ``sections`` is a dict; typed Any because the sealed JSON column is a text column
    # to the type checker.
    version = ProtocolVersion(
        organisation_id=protocol.organisation_id,
        protocol=protocol,
        number=protocol.current_version,
        title=protocol.title,
        language=protocol.language,
        co_creators=protocol.co_creators,
        sections=sections,
        change_note=_text(change_note, "change_note", 300),
        saved_by=actor if getattr(actor, "pk", None) else None,
    )
    version.save()
    return version


@transaction.atomic
def create_protocol(
    actor: Any,
    organisation: Organisation,
    *,
    title: str,
    language: str,
    co_creators: list[str],
    sections: dict[str, Any],
    community: str = "",
    change_note: str = "",
) -> CommunityProtocol:
    protocol = CommunityProtocol(
        organisation=organisation,
        created_by=actor if getattr(actor, "pk", None) else None,
        current_version=1,
    )
    _apply_metadata(
        protocol,
        _title(title),
        _language(language),
        _co_creators(co_creators),
        _text(community, "community", 200),
    )
    cleaned = clean_sections(sections)
    protocol.save()
    version = _new_version(actor, protocol, cleaned, change_note)
    audit.record(
        actor,
        "protocol.created",
        protocol,
        details={
            "version": version.number,
            "language": protocol.language,
            "co_creators": protocol.co_creators,
        },
    )
    return protocol


@transaction.atomic
def save_protocol_version(
    actor: Any,
    protocol: CommunityProtocol,
    *,
    title: str,
    language: str,
    co_creators: list[str],
    sections: dict[str, Any],
    community: str = "",
    change_note: str = "",
) -> ProtocolVersion:
    """Save the protocol as a new version. The row is locked so that two editors saving
    at once get numbers n+1 and n+2, never the same one."""
    locked = CommunityProtocol.objects.select_for_update().get(pk=protocol.pk)
    cleaned = clean_sections(sections)
    _apply_metadata(
        locked,
        _title(title),
        _language(language),
        _co_creators(co_creators),
        _text(community, "community", 200),
    )
    locked.current_version += 1
    locked.save()
    version = _new_version(actor, locked, cleaned, change_note)
    audit.record(
        actor,
        "protocol.version_saved",
        locked,
        details={
            "version": version.number,
            "language": locked.language,
            "co_creators": locked.co_creators,
        },
    )
    protocol.refresh_from_db()
    return version


@transaction.atomic
def set_protocol_status(
    actor: Any, protocol: CommunityProtocol, status: str, *, adopted_on: date | None = None
) -> CommunityProtocol:
    """Adopt (reference KPI: "Number of protocols developed and adopted"), retire, or put
    back to draft."""
    if status not in ProtocolStatus.values:
        raise ValidationError({"status": _("Choose a status.")})
    protocol.status = status
    if status == ProtocolStatus.ADOPTED:
        protocol.adopted_on = adopted_on or protocol.adopted_on or timezone.localdate()
    protocol.save(update_fields=["status", "adopted_on", "updated_at"])
    audit.record(
        actor,
        "protocol.status_changed",
        protocol,
        details={
            "status": status,
            "adopted_on": protocol.adopted_on.isoformat() if protocol.adopted_on else None,
        },
    )
    return protocol


@transaction.atomic
def record_protocol_training(
    actor: Any,
    protocol: CommunityProtocol,
    person: Person,
    *,
    trained_on: date,
    workshop_id: UUID | None = None,
) -> ProtocolTraining:
    """A member trained in the protocol. Training the same person again moves the date."""
    if person.organisation_id != protocol.organisation_id or person.archived_at is not None:
        raise ValidationError({"person": _("Choose a person of this organisation.")})
    if trained_on > timezone.localdate():
        raise ValidationError({"trained_on": _("The date is in the future.")})
    training, created = ProtocolTraining.objects.update_or_create(
        protocol=protocol,
        person=person,
        defaults={
            "organisation_id": protocol.organisation_id,
            "trained_on": trained_on,
            "workshop_id": workshop_id,
            "recorded_by": actor if getattr(actor, "pk", None) else None,
        },
    )
    audit.record(
        actor,
        "protocol.member_trained",
        protocol,
        details={
            "person_id": str(person.pk),
            "trained_on": trained_on.isoformat(),
            "again": not created,
        },
    )
    return training
