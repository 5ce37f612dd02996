"""The protocol card: the current version of a community protocol as an A6 PDF to print
and laminate (reference, Strategy 2, line 1: "Produce illustrated versions for
low-literacy audiences and provide laminated copies for daily use").

Large type, one icon per section (inline SVG in the template), the alert signals and
their meanings, the emergency contacts, the gathering points, and a QR code to the
organisation's anonymous report page beside the numbers to call or text. The QR code is
embedded as a PNG ``data:`` image: WeasyPrint may read ``data:`` and nothing else, so
rendering never fetches a URL (as in incidents.dossier). Each print is audited: the card
carries sealed contacts and codes out of the system.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from amparo.core import audit
from amparo.protocols import community
from amparo.protocols.models import CommunityProtocol, ProtocolVersion

CARD_LANGUAGES = ("es", "en")


def card_language(version: ProtocolVersion, requested: str | None) -> str:
    """``?lang=`` when it is es or en, else the protocol's language when it is, else es
    (DESIGN.md section 2: Spanish first). Text in an Indigenous language is the
    protocol's own content; the card's headings are in es or en."""
    for language in (requested, version.language):
        if language in CARD_LANGUAGES:
            return str(language)
    return "es"


def report_url(protocol: CommunityProtocol) -> str:
    """The organisation's anonymous report page (incidents, "threat-anonymous")."""
    return settings.BASE_URL + reverse("threat-anonymous", args=[protocol.organisation.slug])


def qr_png(text: str) -> bytes:
    import segno

    # Error correction M: a laminated card gets scratched.
    qr = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=10, border=4)
    return out.getvalue()


def card_context(version: ProtocolVersion, language: str) -> dict[str, Any]:
    protocol = version.protocol
    sections = version.sections or {}
    url = report_url(protocol)
    return {
        "language": language,
        "organisation": protocol.organisation,
        "protocol": protocol,
        "version": version,
        "community": protocol.community,
        "signals": sections.get(community.ALERT_SIGNALS, []),
        "contacts": sections.get(community.EMERGENCY_CONTACTS, []),
        "gathering_points": sections.get("gathering_points", ""),
        "safe_routes": sections.get("safe_routes", ""),
        "report_numbers": sections.get(community.REPORT_NUMBERS, []),
        "report_url": url,
        "qr_data_uri": "data:image/png;base64," + base64.b64encode(qr_png(url)).decode("ascii"),
    }


def build_card(version: ProtocolVersion, language: str) -> bytes:
    """The card of ``version`` as PDF bytes, in ``language`` (es or en)."""
    # Imported here: WeasyPrint loads Pango and takes a second, which no other page needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    if language not in CARD_LANGUAGES:
        raise ValueError(f"the card is printed in es or en, not {language!r}")
    with translation.override(language):
        html = render_to_string("protocols/card.html", card_context(version, language))
    # Only the embedded QR image: no font, image or style sheet is ever fetched.
    only_data = URLFetcher(allowed_protocols=("data",))
    return bytes(HTML(string=html, base_url=None, url_fetcher=only_data).write_pdf())


def export_card(actor: Any, version: ProtocolVersion, language: str) -> bytes:
    pdf = build_card(version, language)
    with transaction.atomic():
        audit.record(
            actor,
            "protocol.card_printed",
            version.protocol,
            details={"version": version.number, "language": language},
        )
    return pdf
