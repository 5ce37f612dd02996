"""The deployment packet (issue 5, point 7): a printable PDF the traveller carries, in
English, Danish or Spanish, with the trip, the itinerary, whom to call, the insurance,
the embassy, the chain of command and the local security procedures.

Reference, "Preparation of Danish personnel": "All Danish staff must be fully briefed on,
and comply with, the local security procedures in place. [...] Local security procedures
are binding and must be followed at all times"; "Save emergency contacts for the Danish
embassy and the Global Emergency Centre"; "A clear chain of command must be established
before departure"; "Any changes must be communicated immediately to the designated lead."

Like the complaint dossier (``incidents.dossier``) it is made on demand and never stored,
each download is audited, and WeasyPrint renders it offline: styles inline, fonts from
the system, every URL refused.

What it leaves out, on purpose: the next-of-kin list. The reference (Section 1, Step 4)
says "Avoid carrying sensitive personal, family, or work-related information while
traveling", and the Pårørendeerklæring is for the organisation to reach the relatives,
not for the traveller to carry: a packet taken in a robbery or at a checkpoint would hand
the relatives' names and numbers to whoever took it. Flights and accommodation are left
out for the same reason; the itinerary's places are what the traveller needs on paper.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from amparo.core import audit
from amparo.people.models import DirectoryCategory, DirectoryEntry
from amparo.travel.models import (
    Advisory,
    Deployment,
    Destination,
    Insurance,
    Leg,
    Preparation,
    TravelDeclaration,
    TripType,
)

# The traveller's languages (English, Danish for Danish staff) and the partners' (Spanish).
PACKET_LANGUAGES = ("en", "da", "es")

# The embassy, the consulate and the Danish MFA's Global Emergency Centre, as recorded in
# the organisation's directory (people.DirectoryEntry). Their numbers are public, so
# every reader of the deployment, the traveller included, gets them in the packet.
EMBASSY_CATEGORIES = (
    DirectoryCategory.EMBASSY,
    DirectoryCategory.CONSULATE,
    DirectoryCategory.EMERGENCY_CENTRE,
)
# Reference, "Crisis scenarios": where to find the Danish representation abroad.
DANISH_REPRESENTATIONS_URL = "https://um.dk/om-os/kontakt/find-os-i-verden"


@dataclass(frozen=True)
class Procedure:
    title: Promise
    steps: tuple[Promise, ...]


# Reference, "Preparation of Danish personnel", "Adherence to local protocols": the local
# security procedures cover "encounters with illegal miners/loggers, robbery or assault,
# vehicle accidents, acute illness, or medical emergencies". The reference names the
# situations, not the steps: these are the first steps common to NGO field security, and
# the packet says that the procedures briefed locally take precedence.
LOCAL_PROCEDURES = (
    Procedure(
        gettext_lazy("Encounter with illegal miners or loggers"),
        (
            gettext_lazy(
                "Stay calm and polite. Do not argue, do not photograph or film, and do not "
                "ask about their work."
            ),
            gettext_lazy(
                "Do not enter or cross a mining or logging site. Turn back the way you came "
                "as soon as it is safe."
            ),
            gettext_lazy(
                "Tell your designated lead once you are safe, and follow the chain of command."
            ),
            gettext_lazy(
                "Write down the date, time, place, who was there and what was said, even if "
                "nothing happened."
            ),
        ),
    ),
    Procedure(
        gettext_lazy("Robbery or assault"),
        (
            gettext_lazy(
                "Do not resist. Hand over what is asked for: nothing you carry is worth your life."
            ),
            gettext_lazy("Get to a safe place, and get medical help if you are hurt."),
            gettext_lazy(
                "Tell your designated lead, then report it to the police. If your passport "
                "was taken, the embassy can issue a new travel document."
            ),
        ),
    ),
    Procedure(
        gettext_lazy("Vehicle accident"),
        (
            gettext_lazy("Make yourself and the scene safe; get away from the traffic."),
            gettext_lazy("Give first aid as far as you are trained to, and call for medical help."),
            gettext_lazy(
                "Call the insurer's emergency number as soon as you can: they arrange "
                "treatment and evacuation."
            ),
            gettext_lazy(
                "If a crowd turns hostile, leave and report to the nearest police post. Tell "
                "your designated lead."
            ),
        ),
    ),
    Procedure(
        gettext_lazy("Acute illness or medical emergency"),
        (
            gettext_lazy("Go to the nearest hospital or clinic that can treat you. Do not wait."),
            gettext_lazy(
                "Call the insurer's emergency number: they arrange treatment, evacuation and "
                "repatriation as the policy covers."
            ),
            gettext_lazy("Tell your designated lead, who informs the chain of command."),
        ),
    ),
    # Reference, "Kidnapping or hostage situations", "Immediate actions (for colleagues
    # on-site)", and "Confidentiality and media".
    Procedure(
        gettext_lazy("Kidnapping or hostage-taking of a colleague"),
        (
            gettext_lazy("Do not attempt a rescue."),
            gettext_lazy(
                "Inform the local authorities and the Danish embassy or consulate at once."
            ),
            gettext_lazy(
                "Notify the organisation's headquarters and follow the established chain of "
                "command."
            ),
            gettext_lazy("Do not contact the press or the media."),
        ),
    ),
)


def render_packet(
    deployment: Deployment, language: str, *, generated_at: datetime | None = None
) -> bytes:
    """The packet of ``deployment`` as PDF bytes, in ``language`` (en, da or es)."""
    # Imported here: WeasyPrint loads Pango and takes a second, which no other page needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    if language not in PACKET_LANGUAGES:
        raise ValueError(f"the packet is written in en, da or es, not {language!r}")
    with translation.override(language):
        html = render_to_string(
            "travel/packet.html",
            packet_context(deployment, language, generated_at or timezone.now()),
        )
    # No URL is ever fetched: not a font, an image or a style sheet.
    refuse_all = URLFetcher(allowed_protocols=())
    return bytes(HTML(string=html, base_url=None, url_fetcher=refuse_all).write_pdf())


def download_packet(actor: Any, deployment: Deployment, language: str) -> bytes:
    """Render the packet and audit the read: it opens the sealed records (places, the
    policy and emergency numbers, the chain of command). Rendering happens before the
    transaction, so the database is never locked while it runs."""
    pdf = render_packet(deployment, language)
    with transaction.atomic():
        audit.record(
            actor, "deployment.packet_downloaded", deployment, details={"language": language}
        )
    return pdf


# What the template shows. Everything is turned into text here, in the packet's language,
# so the template only lays it out.


def packet_context(deployment: Deployment, language: str, generated_at: datetime) -> dict[str, Any]:
    organisation = deployment.organisation
    declaration = TravelDeclaration.objects.filter(deployment=deployment).first()
    insurance = Insurance.objects.filter(deployment=deployment).first()
    preparation = Preparation.objects.filter(deployment=deployment).first()
    lead = deployment.lead
    return {
        "language": language,
        "organisation": organisation,
        "short_id": short_id(deployment),
        "traveller": deployment.traveller.display_name,
        "trip_type": _label(TripType, deployment.trip_type),
        "starts_on": deployment.starts_on.isoformat(),
        "returns_on": deployment.returns_on.isoformat(),
        "purpose": deployment.purpose,
        "destinations": [
            _destination_row(d) for d in Destination.objects.filter(deployment=deployment)
        ],
        "legs": [_leg_row(leg) for leg in Leg.objects.filter(deployment=deployment)],
        "lead": (
            {
                "name": lead.display_name,
                "phones": ", ".join(str(p) for p in lead.phone_numbers or []),
                "email": lead.email,
            }
            if lead is not None
            else None
        ),
        "chain_of_command": [
            {k: str(step.get(k, "")) for k in ("role", "name", "phone")}
            for step in (preparation.chain_of_command if preparation else []) or []
            if isinstance(step, dict)
        ],
        "partner_contacts": declaration.partner_contacts if declaration else "",
        "insurance": _insurance_rows(insurance),
        "embassies": _embassy_rows(deployment),
        "embassy_registered": bool(preparation and preparation.embassy_registered),
        "representations_url": DANISH_REPRESENTATIONS_URL,
        "procedures": [
            {"title": str(p.title), "steps": [str(s) for s in p.steps]} for p in LOCAL_PROCEDURES
        ],
        "generated_on": generated_at.astimezone(_zone(organisation.time_zone)).date().isoformat(),
    }


def short_id(deployment: Deployment) -> str:
    return str(deployment.pk)[:8]


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else ""


def _zone(name: str) -> tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _local(moment: datetime, zone: tzinfo) -> str:
    """2026-05-01 18:30-05:00: the leg's local time with its offset from UTC."""
    return moment.astimezone(zone).isoformat(sep=" ", timespec="minutes")


def _destination_row(destination: Destination) -> dict[str, str]:
    return {
        "country": destination.country,
        "region": destination.region,
        "places": destination.places,
        "advisory": _label(Advisory, destination.advisory) or _("Not given"),
        "reviewed_on": (
            destination.advisory_reviewed_on.isoformat() if destination.advisory_reviewed_on else ""
        ),
    }


def _leg_row(leg: Leg) -> dict[str, Any]:
    zone = _zone(leg.time_zone)
    return {
        "place": leg.place,
        "where": ", ".join(part for part in (leg.region, leg.country) if part),
        "time_zone": leg.time_zone,
        "starts_at": _local(leg.starts_at, zone),
        "ends_at": _local(leg.ends_at, zone),
        "checkin_every_hours": leg.checkin_every_hours,
    }


def _insurance_rows(insurance: Insurance | None) -> dict[str, Any] | None:
    if insurance is None:
        return None
    covers = [
        label
        for covered, label in (
            (insurance.medical, _("Medical care")),
            (insurance.evacuation, _("Evacuation")),
            (insurance.repatriation, _("Repatriation")),
            (insurance.kidnap_ransom, _("Kidnap and ransom")),
        )
        if covered
    ]
    return {
        "insurer": insurance.insurer,
        "policy_number": insurance.policy_number,
        "emergency_number": insurance.emergency_number,
        "valid": f"{insurance.valid_from.isoformat()} – {insurance.valid_to.isoformat()}",
        "covers": ", ".join(covers),
    }


def _embassy_rows(deployment: Deployment) -> list[dict[str, Any]]:
    """Every embassy, consulate and Global Emergency Centre entry of the organisation's
    directory: an organisation keeps few, and a traveller crossing a border needs the
    next country's too, so none is left out by region."""
    order = {str(c): n for n, c in enumerate(EMBASSY_CATEGORIES)}
    entries = sorted(
        DirectoryEntry.objects.filter(
            organisation_id=deployment.organisation_id,
            category__in=EMBASSY_CATEGORIES,
            archived_at__isnull=True,
        ),
        key=lambda e: (order.get(e.category, len(order)), e.region, e.created_at),
    )
    return [
        {
            "category": _label(DirectoryCategory, entry.category),
            "name": entry.name,
            "region": entry.region,
            "phone": entry.phone,
            "email": entry.email,
            "address": entry.address,
            "available_24h": entry.available_24h,
        }
        for entry in entries
    ]
