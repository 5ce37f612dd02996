"""Community security protocols (issue 8, point 1; reference, Strategy 2, line 1): the
builder keeps the reference's content sections, who co-created the protocol and its
language; every save is a new version and the old ones stay readable; adoption counts
the members trained in it and the drills that tested it. The helpers here make the
records the other protocol tests use."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from amparo.core.models import AuditEntry
from amparo.protocols import community, evacuation
from amparo.protocols.models import CommunityProtocol, ProtocolStatus, ProtocolVersion

# Sealed values: no dump may show them; only readers of the organisation see them.
SIGNAL = "Tres toques de campana Yomibato-Sigilo"
SIGNAL_MEANING = "Reunirse en la maloca Shintuya-Reservada"
CONTACT = "Comisaría Boca Colorado-Oculta"
CONTACT_PHONE = "+51 982 700 411"
REPORT_PHONE = "+51 900 123 456"
ROUTE = "Trocha del aguajal Kotsimba-Escondida hasta el río"
GATHERING = "Colegio Puerto Luz-Reservado, patio trasero"
COMMUNITY = "Comunidad Nativa Arazaire-Oculta"
RISK = "Mineros ilegales en la quebrada Pukiri-Confidencial"


def sections(**overrides):
    base = {
        "risk_identification": RISK,
        "preventive_measures": "Salir siempre en grupos de tres.",
        "safe_routes": ROUTE,
        "alert_signals": [{"signal": SIGNAL, "meaning": SIGNAL_MEANING}],
        "emergency_contacts": [{"name": CONTACT, "phone": CONTACT_PHONE}],
        "gathering_points": GATHERING,
        "external_coordination": "Avisar a la Defensoría y a la red de defensores.",
        "report_numbers": [REPORT_PHONE],
    }
    base.update(overrides)
    return base


def make_protocol(world, organisation=None, **overrides):
    kwargs = {
        "title": "Protocolo comunal de seguridad",
        "language": "es",
        "co_creators": ["women", "youth", "indigenous_leaders"],
        "community": COMMUNITY,
        "sections": sections(),
        "change_note": "Primera versión",
    }
    kwargs.update(overrides)
    actor = world.coordinator.user if organisation in (None, world.org_a) else "test"
    return community.create_protocol(actor, organisation or world.org_a, **kwargs)


@pytest.fixture
def protocol(world):
    return make_protocol(world)


def test_it_creates_version_one_with_the_reference_sections(world, protocol):
    version = ProtocolVersion.objects.get(protocol=protocol)
    assert version.number == protocol.current_version == 1
    assert set(community.SECTION_ORDER) <= set(version.sections)
    assert version.sections["alert_signals"] == [{"signal": SIGNAL, "meaning": SIGNAL_MEANING}]
    assert version.sections["emergency_contacts"] == [{"name": CONTACT, "phone": CONTACT_PHONE}]
    assert protocol.with_women and protocol.with_youth and protocol.with_indigenous_leaders
    assert not protocol.with_community_authorities
    assert version.co_creators == ["indigenous_leaders", "women", "youth"]
    entry = AuditEntry.objects.filter(action="protocol.created").get()
    assert entry.details["version"] == 1
    assert SIGNAL not in str(entry.details)


def test_it_keeps_every_version(world, protocol):
    community.save_protocol_version(
        world.coordinator.user,
        protocol,
        title="Protocolo comunal de seguridad (revisado)",
        language="ese",
        co_creators=["community_authorities"],
        sections=sections(safe_routes="Ruta nueva por la chacra"),
        change_note="Ruta cambiada tras el simulacro",
    )
    protocol.refresh_from_db()
    assert protocol.current_version == 2
    assert protocol.language == "ese"
    assert protocol.co_creators == ["community_authorities"]
    v1, v2 = ProtocolVersion.objects.filter(protocol=protocol).order_by("number")
    assert v1.sections["safe_routes"] == ROUTE
    assert v1.title == "Protocolo comunal de seguridad"
    assert v2.sections["safe_routes"] == "Ruta nueva por la chacra"
    assert v2.language == "ese"
    assert AuditEntry.objects.filter(action="protocol.version_saved").count() == 1


def test_it_refuses_bad_sections(world, protocol):
    with pytest.raises(ValidationError):
        make_protocol(world, sections=sections(emergency_contacts=[{"name": "X", "phone": "abc"}]))
    with pytest.raises(ValidationError):
        make_protocol(world, sections={"unknown": "x"})
    with pytest.raises(ValidationError):
        make_protocol(world, co_creators=["men"])
    with pytest.raises(ValidationError):
        make_protocol(world, language="")
    assert CommunityProtocol.objects.count() == 1


def test_it_builds_a_protocol_from_the_page(world, login):
    c = login(world.coordinator)
    response = c.post(
        "/o/org-a/protocols/community/new/",
        {
            "title": "Protocolo de la cuenca",
            "language": "es",
            "co_creators": ["women", "community_authorities"],
            "community": COMMUNITY,
            "risk_identification": RISK,
            "alert_signals": f"{SIGNAL} = {SIGNAL_MEANING}\n",
            "emergency_contacts": f"{CONTACT} = {CONTACT_PHONE}",
            "gathering_points": GATHERING,
            "report_numbers": REPORT_PHONE,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    protocol = CommunityProtocol.objects.get()
    assert protocol.with_women and protocol.with_community_authorities
    version = ProtocolVersion.objects.get()
    assert version.sections["alert_signals"] == [{"signal": SIGNAL, "meaning": SIGNAL_MEANING}]
    assert version.sections["report_numbers"] == [REPORT_PHONE]
    # The edit page saves version 2; version 1 stays readable at its address.
    edit = c.get(f"/o/org-a/protocols/community/{protocol.pk}/edit/")
    assert SIGNAL in edit.content.decode()
    form = {
        "title": "Protocolo de la cuenca",
        "language": "es",
        "alert_signals": "Silbato largo = Salir por la ruta norte",
        "change_note": "Nueva señal",
    }
    assert c.post(f"/o/org-a/protocols/community/{protocol.pk}/edit/", form).status_code == 302
    page = c.get(f"/o/org-a/protocols/community/{protocol.pk}/").content.decode()
    assert "Silbato largo" in page and SIGNAL not in page
    old = c.get(f"/o/org-a/protocols/community/{protocol.pk}/versions/1/").content.decode()
    assert SIGNAL in old and 'data-testid="old-version"' in old


def test_it_rejects_a_line_without_its_two_parts(world, login):
    c = login(world.coordinator)
    response = c.post(
        "/o/org-a/protocols/community/new/",
        {"title": "P", "language": "es", "alert_signals": "una señal sin significado"},
    )
    assert response.status_code == 200
    assert CommunityProtocol.objects.count() == 0


def test_it_lets_every_member_read_and_only_writers_edit(world, login, protocol):
    url = f"/o/org-a/protocols/community/{protocol.pk}/"
    for persona in (world.defender, world.focal_point, world.supervisor):
        c = login(persona)
        page = c.get(url)
        assert page.status_code == 200
        assert SIGNAL in page.content.decode()
        assert c.get(url + "edit/").status_code == 404
        assert c.get("/o/org-a/protocols/community/new/").status_code == 404
    listing = login(world.defender).get("/o/org-a/protocols/").content.decode()
    assert "Protocolo comunal de seguridad" in listing


def test_it_counts_adoption(world, login, protocol):
    community.set_protocol_status(
        world.coordinator.user, protocol, ProtocolStatus.ADOPTED, adopted_on=date(2025, 2, 1)
    )
    c = login(world.coordinator)
    response = c.post(
        f"/o/org-a/protocols/community/{protocol.pk}/trained/",
        {"person": str(world.defender_person.pk), "trained_on": "2025-02-10"},
    )
    assert response.status_code == 302
    evacuation.record_drill(
        world.coordinator.user,
        world.org_a,
        held_on=date(2025, 3, 1),
        scenario="incursion",
        participants=20,
        followed_protocol=15,
        protocol=protocol,
    )
    page = c.get(f"/o/org-a/protocols/community/{protocol.pk}/").content.decode()
    assert "1 of 1 members trained" in page
    assert "2025-03-01" in page
    protocol.refresh_from_db()
    assert protocol.status == ProtocolStatus.ADOPTED
    assert protocol.adopted_on == date(2025, 2, 1)
    # Training again moves the date; it is not counted twice.
    community.record_protocol_training(
        world.coordinator.user, protocol, world.defender_person, trained_on=date(2025, 3, 5)
    )
    assert protocol.trainings.count() == 1


def test_it_refuses_training_a_person_of_another_organisation(world, protocol):
    from amparo.people import actions as people_actions

    outsider = people_actions.create_person("test", world.org_b, given_names="Beto")
    with pytest.raises(ValidationError):
        community.record_protocol_training(
            world.coordinator.user, protocol, outsider, trained_on=date(2025, 1, 1)
        )
