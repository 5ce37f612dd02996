"""The deployment packet (travel.packet): a PDF the traveller carries, in English, Danish
or Spanish, with the trip, the itinerary in local time, the contacts, the insurance, the
embassy and the binding local security procedures; for readers of the deployment only,
every download audited, the next of kin left out."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from amparo.core.models import AuditEntry
from amparo.people import actions as people_actions
from amparo.people.models import Role
from amparo.travel import actions, checkins, packet
from amparo.travel.models import Deployment
from conftest import World, make_persona
from tests.incidents.pdftext import pdf_text

PLACE = "Albergue Río Las Piedras, km 32"
PURPOSE = "Taller de monitoreo territorial con la federación"
INSURER = "Nordisk Rejseforsikring"
POLICY_NUMBER = "POL-88412-DK"
EMERGENCY_NUMBER = "+45 70 10 20 30"
LEAD_NAME = "Mikkel Sørensen"
LEAD_PHONE = "+45 20 30 40 50"
CHAIN = [
    {"role": "Programme coordinator", "name": "Ana Quispe", "phone": "+51 982 300 400"},
    {"role": "Executive Director", "name": "Jens Holm", "phone": "+45 31 32 33 34"},
]
PARTNERS = "FENAMAD, Puerto Maldonado: Julio Cusurichi +51 982 555 666"
EMBASSY = "Embajada de Dinamarca en Lima"
EMBASSY_PHONE = "+51 1 555 0100"
RELATIVE = "Teodora Pariamanu-Secreta"
RELATIVE_PHONE = "+45 99 88 77 66"
# Lima is UTC-5 all year: 13:00 UTC is 08:00 local.
LEG_START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
HEADINGS = {"en": "Chain of command", "da": "Kommandokæde", "es": "Cadena de mando"}


@dataclass
class Trip:
    deployment: Deployment

    @property
    def slug(self) -> str:
        return self.deployment.organisation.slug

    def url(self, language: str, slug: str = "") -> str:
        return f"/o/{slug or self.slug}/deployments/{self.deployment.pk}/packet/{language}/"


@pytest.fixture
def trip(world: World) -> Trip:
    actor = world.coordinator.user
    lead = people_actions.create_person(
        "test",
        world.org_a,
        given_names="Mikkel",
        family_names="Sørensen",
        phone_numbers=[LEAD_PHONE],
    )
    deployment = actions.create_deployment(
        actor,
        world.org_a,
        traveller=world.defender_person,
        lead=lead,
        trip_type="pri",
        purpose=PURPOSE,
        starts_on=date(2026, 3, 1),
        returns_on=date(2026, 3, 14),
        destinations=[{"country": "PE", "region": "Madre de Dios", "advisory": "orange"}],
    )
    checkins.add_leg(
        actor,
        deployment,
        place=PLACE,
        country="PE",
        region="Madre de Dios",
        time_zone="America/Lima",
        starts_at=LEG_START,
        ends_at=LEG_START + timedelta(days=5),
    )
    actions.save_declaration(actor, deployment, partner_contacts=PARTNERS)
    actions.save_next_of_kin(
        actor, deployment, [{"name": RELATIVE, "relation": "sister", "phone": RELATIVE_PHONE}]
    )
    actions.save_insurance(
        actor,
        deployment,
        insurer=INSURER,
        policy_number=POLICY_NUMBER,
        emergency_number=EMERGENCY_NUMBER,
        medical=True,
        evacuation=True,
        repatriation=True,
        valid_from=date(2026, 2, 28),
        valid_to=date(2026, 3, 15),
    )
    actions.save_preparation(actor, deployment, chain_of_command=CHAIN, embassy_registered=True)
    people_actions.create_directory_entry(
        actor,
        world.org_a,
        category="embassy",
        region="Lima",
        name=EMBASSY,
        phone=EMBASSY_PHONE,
    )
    return Trip(deployment)


def flat(text: str) -> str:
    """The text with line breaks as spaces: a long line may wrap anywhere."""
    return " ".join(text.split())


def pdf_language(data: bytes) -> str:
    return str(PdfReader(io.BytesIO(data)).trailer["/Root"].get("/Lang", ""))


def downloads(deployment: Deployment) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            action="deployment.packet_downloaded", object_id=str(deployment.pk)
        ).order_by("seq")
    )


def test_it_gives_the_traveller_the_whole_packet_in_english(world, login, trip):
    c = login(world.defender)

    response = c.get(trip.url("en"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    short = str(trip.deployment.pk)[:8]
    assert response["Content-Disposition"] == f'attachment; filename="packet-{short}-en.pdf"'
    assert "no-store" in response["Cache-Control"]
    text = flat(pdf_text(response.content))
    assert "Rosa Huamán" in text
    assert "2026-03-01 – 2026-03-14" in text
    assert PURPOSE in text
    assert "Madre de Dios" in text and "Orange" in text
    # The itinerary in the leg's local time, with the zone.
    assert PLACE in text
    assert "2026-03-01 08:00-05:00" in text and "America/Lima" in text
    assert LEAD_NAME in text and LEAD_PHONE in text
    for step in CHAIN:
        assert step["name"] in text and step["phone"] in text
    assert PARTNERS in text
    assert INSURER in text and POLICY_NUMBER in text and EMERGENCY_NUMBER in text
    assert EMBASSY in text and EMBASSY_PHONE in text
    assert packet.DANISH_REPRESENTATIONS_URL in text
    assert "Local security procedures are binding and must be followed at all times." in text
    for heading in (
        "Encounter with illegal miners or loggers",
        "Robbery or assault",
        "Vehicle accident",
        "Acute illness or medical emergency",
    ):
        assert heading in text
    assert HEADINGS["en"] in text
    assert pdf_language(response.content) == "en"


def test_it_leaves_the_next_of_kin_out(world, login, trip):
    # Reference, Section 1, Step 4: "Avoid carrying sensitive personal, family, or
    # work-related information while traveling."
    text = flat(pdf_text(login(world.defender).get(trip.url("en")).content))
    assert RELATIVE not in text
    assert RELATIVE_PHONE not in text
    assert "Your next of kin are not listed" in text


@pytest.mark.parametrize("language", ["da", "es"])
def test_it_writes_danish_and_spanish(world, login, trip, language):
    response = login(world.coordinator).get(trip.url(language))

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'-{language}.pdf"')
    text = flat(pdf_text(response.content))
    # The records are the same in every language.
    for data in (PLACE, "2026-03-01 08:00-05:00", EMERGENCY_NUMBER, POLICY_NUMBER, EMBASSY_PHONE):
        assert data in text
    for step in CHAIN:
        assert step["name"] in text
    # The document says its language, and the headings already in the compiled catalogue
    # are in it (the packet's own new strings wait for their translations to be merged).
    assert pdf_language(response.content) == language
    assert HEADINGS[language] in text
    assert HEADINGS["en"] not in text


def test_it_audits_each_download_with_its_language(world, login, trip):
    c = login(world.defender)
    c.get(trip.url("en"))
    c.get(trip.url("es"))

    entries = downloads(trip.deployment)
    assert [e.details for e in entries] == [{"language": "en"}, {"language": "es"}]
    assert {e.actor for e in entries} == {f"user:{world.defender.user.pk}"}
    assert {e.organisation_id for e in entries} == {world.org_a.pk}


@pytest.mark.parametrize("language", ["pt", "de", "EN", "xx"])
def test_it_answers_404_for_other_languages(world, login, trip, language):
    assert login(world.defender).get(trip.url(language)).status_code == 404
    assert downloads(trip.deployment) == []


def test_it_validates_ownership(world, login, trip):
    c = login(world.coordinator_b)
    assert c.get(trip.url("en")).status_code == 404
    # Nor under its own organisation's address.
    assert c.get(trip.url("en", slug="org-b")).status_code == 404
    assert downloads(trip.deployment) == []


def test_it_is_not_for_another_traveller_of_the_organisation(world, login, trip):
    other = make_persona(world.org_a, Role.DEFENDER, "other-traveller@a.example")
    people_actions.create_person("test", world.org_a, given_names="Otro", user=other.user)
    for persona in (other, world.focal_point):
        assert login(persona).get(trip.url("en")).status_code == 404
    assert downloads(trip.deployment) == []


def test_it_asks_strangers_to_sign_in(trip, client):
    response = client.get(trip.url("en"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert downloads(trip.deployment) == []


def test_it_answers_404_for_an_unknown_deployment(world, login):
    c = login(world.coordinator)
    assert c.get("/o/org-a/deployments/not-a-trip/packet/en/").status_code == 404


def test_it_prints_an_empty_deployment(world, login):
    # Before the records are filled in the packet says what is missing, and the blanks
    # for the embassy and the Global Emergency Centre are there to be written in.
    bare = actions.create_deployment(
        "test",
        world.org_a,
        traveller=world.defender_person,
        trip_type="other",
        starts_on=date(2026, 5, 1),
        returns_on=date(2026, 5, 2),
    )
    response = login(world.coordinator).get(Trip(bare).url("en"))

    text = flat(pdf_text(response.content))
    assert "No itinerary has been recorded." in text
    assert "No chain of command has been recorded." in text
    assert "No insurance has been recorded." in text
    assert "Write the numbers here before you leave" in text


def test_it_prints_markup_as_text_and_fetches_nothing(world, login, trip):
    words = '<img src="file:///etc/hostname"> <link rel="stylesheet" href="http://10.0.0.1/x.css">'
    actions.save_declaration(world.coordinator.user, trip.deployment, partner_contacts=words)

    response = login(world.defender).get(trip.url("en"))

    assert words in flat(pdf_text(response.content))


def test_the_procedures_are_translatable(trip: Any) -> None:
    # Every procedure is a gettext string, rendered in the packet's language.
    context = packet.packet_context(trip.deployment, "en", LEG_START)
    assert [p["title"] for p in context["procedures"]] == [
        str(p.title) for p in packet.LOCAL_PROCEDURES
    ]
    assert all(len(p["steps"]) >= 3 for p in context["procedures"])


def test_it_refuses_other_languages_when_rendering(trip):
    with pytest.raises(ValueError, match="en, da or es"):
        packet.render_packet(trip.deployment, "pt")


def test_the_deployment_page_links_the_packet_in_each_language(world, login, trip):
    page = login(world.defender).get(f"/o/org-a/deployments/{trip.deployment.pk}/")
    html = page.content.decode()
    for language in ("en", "da", "es"):
        assert trip.url(language) in html
