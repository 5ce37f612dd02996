"""The emergency alert to international human-rights bodies and diplomatic missions
(reference, Strategy 6, line 6), and its redaction.

DESIGN.md section 7: partner output holds no names, contacts or exact places. The alert is
composed from the case's readable facts (kind, date, region, country) plus the
coordinator's appeal, from which every name, contact and exact place the case knows of
is removed, as are anything that looks like an e-mail address, a phone number or a
coordinate. A coordinator may include one of these explicitly; the choice is stored and
audited. The preview and the queued messages are the same string from ``compose``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from amparo.crisis.models import CrisisCase, CrisisKind
from amparo.people.models import DirectoryCategory, DirectoryEntry

NAME = "name"
PLACE = "place"
CONTACT = "contact"
INCLUDABLE = (NAME, PLACE, CONTACT)

# Reference, Strategy 6, line 6 ("international human rights bodies and diplomatic
# missions") and line 2 (national and regional networks).
PARTNER_CATEGORIES = (
    DirectoryCategory.INTERNATIONAL_NETWORK,
    DirectoryCategory.PROTECTION_MECHANISM,
    DirectoryCategory.OMBUDSMAN,
    DirectoryCategory.DEFENDER_NETWORK,
    DirectoryCategory.EMBASSY,
)

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+?\d[\d\s().\-/]{5,}\d")
COORDINATE = re.compile(r"-?\d{1,3}[.,]\d{3,}")
URL = re.compile(r"https?://\S+")

_ACCENTS = {
    "a": "aáàâäã",
    "e": "eéèêë",
    "i": "iíìîï",
    "o": "oóòôöõ",
    "u": "uúùûü",
    "n": "nñ",
    "c": "cç",
}


def _base(ch: str) -> str:
    return unicodedata.normalize("NFD", ch)[0].lower()


def _pattern(term: str) -> str:
    """A term that matches with or without its accents ("Huamán", "HUAMAN")."""
    parts = []
    for ch in term:
        variants = _ACCENTS.get(_base(ch))
        parts.append(f"[{variants}]" if variants else re.escape(ch))
    return r"(?<!\w)" + "".join(parts) + r"(?!\w)"


def _terms(values: Iterable[str], min_length: int = 3) -> list[str]:
    """Each value whole, and each of its words or comma-separated parts."""
    terms: set[str] = set()
    for value in values:
        value = (value or "").strip()
        if not value:
            continue
        terms.add(value)
        for part in re.split(r"[,;\n]", value):
            part = part.strip()
            if len(part) >= min_length:
                terms.add(part)
        for word in re.split(r"[\s,;\n]+", value):
            if len(word) >= min_length:
                terms.add(word)
    return sorted(terms, key=len, reverse=True)  # longest first: "Rosa Huamán" before "Rosa"


def names_in(case: CrisisCase) -> list[str]:
    """Every name the case knows of: the person, the alert's person, the traveller and
    their next of kin."""
    names: list[str] = []
    people = [case.person]
    if case.alert is not None:
        people.append(case.alert.person)
    if case.deployment is not None:
        people.append(case.deployment.traveller)
        kin = getattr(case.deployment, "next_of_kin", None) if case.deployment_id else None
        for relative in getattr(kin, "relatives", None) or []:
            names.append(str(relative.get("name", "")))
    for person in people:
        if person is not None:
            names += [person.given_names, person.family_names, person.display_name]
    return _terms(names)


def places_in(case: CrisisCase) -> list[str]:
    places = [case.exact_place]
    if case.deployment is not None:
        places += [d.places for d in case.deployment.destinations.all()]
    return _terms(places, min_length=4)


def redact(text: str, case: CrisisCase, include: Iterable[str]) -> str:
    include = set(include)
    withheld = _("[withheld]")
    if CONTACT not in include:
        text = EMAIL.sub(withheld, text)
        text = URL.sub(withheld, text)
        text = PHONE.sub(withheld, text)
    if PLACE not in include:
        text = COORDINATE.sub(withheld, text)
        for term in places_in(case):
            text = re.sub(_pattern(term), withheld, text, flags=re.IGNORECASE)
    if NAME not in include:
        for term in names_in(case):
            text = re.sub(_pattern(term), withheld, text, flags=re.IGNORECASE)
    return text


def compose(
    case: CrisisCase,
    *,
    appeal: str,
    include: Iterable[str],
    sender_email: str,
    language: str = "en",
) -> str:
    """Exactly the text that leaves the organisation."""
    include = set(include)
    with translation.override(language):
        kind = CrisisKind(case.kind).label
        lines = [
            _("URGENT ALERT: %(kind)s") % {"kind": kind},
            _("From: %(organisation)s") % {"organisation": case.organisation.name},
            _("Date: %(date)s") % {"date": case.opened_at.date().isoformat()},
            _("Where: %(region)s, %(country)s")
            % {
                "region": case.region or _("region withheld"),
                "country": case.organisation.country,
            },
        ]
        person = case.person or (case.alert.person if case.alert is not None else None)
        if NAME in include and person is not None:
            lines.append(_("Person concerned: %(name)s") % {"name": person.display_name})
        else:
            lines.append(_("Person concerned: an environmental defender (name withheld)"))
        if PLACE in include and case.exact_place:
            lines.append(_("Exact place: %(place)s") % {"place": case.exact_place})
        lines.append("")
        lines.append(redact(appeal.strip(), case, include))
        if CONTACT in include and sender_email:
            lines.append("")
            lines.append(_("Contact: %(email)s") % {"email": sender_email})
        return "\n".join(lines).strip()


def partner_contacts(organisation: Any) -> list[DirectoryEntry]:
    """The configured partner contacts that can be reached (an e-mail or a phone)."""
    entries = DirectoryEntry.objects.filter(
        organisation=organisation,
        archived_at__isnull=True,
        category__in=[str(c) for c in PARTNER_CATEGORIES],
    )
    return [e for e in entries if e.email or e.phone]
