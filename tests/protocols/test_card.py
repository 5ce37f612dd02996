"""The printable protocol card (issue 8, point 1; reference, Strategy 2, line 1:
"illustrated versions for low-literacy audiences ... laminated copies"): an A6 PDF in
Spanish and in English whose QR code decodes to the organisation's anonymous report
page. The QR code is embedded as a PNG image; pypdf takes it out of the PDF and zxing-cpp
decodes it, so the test reads what a phone's camera would."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from pypdf import PdfReader

from amparo.core.models import AuditEntry
from amparo.protocols import access, card
from amparo.protocols.models import ProtocolVersion
from tests.protocols.test_community_builder import (
    CONTACT_PHONE,
    REPORT_PHONE,
    make_protocol,
)

A6_POINTS = (297.6, 419.5)  # 105 x 148 mm


@pytest.fixture
def version(world):
    protocol = make_protocol(world)
    return ProtocolVersion.objects.get(protocol=protocol)


def decoded_qr_codes(pdf: bytes) -> set[str]:
    """Every QR code in the PDF. Pages share their image resources, so the one image
    may be listed on each page."""
    texts = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for image in page.images:
            texts |= {code.text for code in zxingcpp.read_barcodes(image.image)}
    return texts


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("language", ["es", "en"])
def test_it_renders_the_card_with_a_qr_code_to_the_report_page(world, version, language):
    pdf = card.build_card(version, language)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 1), round(float(box.height), 1)) == A6_POINTS
    assert decoded_qr_codes(pdf) == {f"{settings.BASE_URL}/report/org-a/"}
    # Front and back: the way to report is on the back.
    assert len(reader.pages) == 2
    text = pdf_text(pdf)
    # Language-independent content: the numbers to call and the community's signal.
    for expected in (REPORT_PHONE, CONTACT_PHONE, "Tres toques de campana"):
        assert expected in text


@pytest.mark.parametrize("language", ["es", "en"])
def test_it_marks_the_card_with_its_language(world, version, language):
    with translation.override(language):
        html = render_to_string("protocols/card.html", card.card_context(version, language))
    assert f'<html lang="{language}">' in html
    # One inline SVG picture per section shown, for readers who read little.
    assert html.count("<svg") >= 4


def test_it_chooses_the_language(world, version):
    assert card.card_language(version, "en") == "en"
    assert card.card_language(version, "fr") == "es"
    version.language = "ese"
    assert card.card_language(version, None) == "es"
    version.language = "en"
    assert card.card_language(version, None) == "en"


def test_it_serves_the_card_to_a_defender_and_audits_it(world, login, version):
    c = login(world.defender)
    url = f"/o/org-a/protocols/community/{version.protocol_id}/card.pdf?lang=en"
    response = c.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert decoded_qr_codes(response.content) == {f"{settings.BASE_URL}/report/org-a/"}
    entry = AuditEntry.objects.filter(action="protocol.card_printed").get()
    assert entry.details == {"version": 1, "language": "en"}
    # An older version prints on request.
    assert c.get(url + "&version=1").status_code == 200
    assert c.get(url + "&version=7").status_code == 404


def test_it_hides_the_card_from_other_organisations_and_partners(world, login, version):
    from amparo.people.models import Role
    from conftest import make_persona

    partner = make_persona(world.org_a, Role.PARTNER, "partner@a.example")
    url = f"/o/org-a/protocols/community/{version.protocol_id}/card.pdf"
    assert login(world.coordinator_b).get(url).status_code == 404
    assert login(partner).get(url).status_code == 404
    assert not access.can_read_protocols(
        access.OrgContext(world.org_a, partner.user, frozenset({Role.PARTNER}))
    )
    assert AuditEntry.objects.filter(action="protocol.card_printed").count() == 0
