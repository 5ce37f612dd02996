"""A relocation's life through protocols.relocation (reference, Strategy 6, line 3):
requested, approved or refused with a written note, relocated to a safe house or a
sealed place, returned or closed; the four-eyes rule on approval; every write audited
without a sealed word."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from amparo.core.audit import verify_chain
from amparo.core.models import AuditEntry
from amparo.people.access import access_organisation_by_slug
from amparo.people.models import Role
from amparo.protocols import access, relocation
from amparo.protocols.models import RelocationRequest, RelocationStatus
from conftest import make_persona
from tests.protocols.conftest import (
    ADDRESS,
    CLOSING,
    COST_NOTE,
    COUNTRY,
    DECISION,
    FAMILY,
    GIVEN,
    REASON,
    SAFE_HOUSE_NAME,
)

SEALED = [REASON, ADDRESS, DECISION, COST_NOTE, CLOSING, GIVEN, FAMILY, SAFE_HOUSE_NAME]


def audit_text(organisation) -> str:
    entries = AuditEntry.objects.filter(organisation_id=organisation.pk).order_by("seq")
    return json.dumps([[e.action, e.details] for e in entries], ensure_ascii=False)


def test_it_runs_a_relocation_from_request_to_return(world, requested, safe_house):
    assert requested.status == RelocationStatus.REQUESTED
    assert requested.reason == REASON and requested.destination_country == COUNTRY
    relocation.decide_relocation(world.coordinator.user, requested, approve=True, note=DECISION)
    requested.refresh_from_db()
    assert requested.status == RelocationStatus.APPROVED and requested.approved is True
    relocation.relocate(
        world.coordinator.user,
        requested,
        starts_on=date(2025, 3, 10),
        safe_house=safe_house,
        expected_end_on=date(2025, 4, 10),
    )
    requested.refresh_from_db()
    assert requested.status == RelocationStatus.RELOCATED
    assert requested.safe_house == safe_house
    relocation.mark_returned(world.coordinator.user, requested, ends_on=date(2025, 3, 31))
    requested.refresh_from_db()
    assert requested.status == RelocationStatus.RETURNED
    assert requested.days_relocated == 21
    actions = list(
        AuditEntry.objects.filter(object_id=str(requested.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "relocation.requested",
        "relocation.approved",
        "relocation.relocated",
        "relocation.returned",
    ]


def test_it_audits_every_write_without_a_sealed_word(world, relocated):
    relocation.mark_returned(
        world.coordinator.user, relocated, ends_on=date(2025, 4, 1), note=CLOSING
    )
    text = audit_text(world.org_a)
    for action in (
        "relocation.requested",
        "relocation.approved",
        "relocation.relocated",
        "relocation.cost_recorded",
        "relocation.returned",
    ):
        assert action in text
    assert [s for s in SEALED if s in text] == []
    assert COUNTRY not in json.dumps(
        [e.details for e in AuditEntry.objects.filter(action__startswith="relocation.")]
    )
    assert verify_chain()[1] == []


def test_it_refuses_with_a_written_note(world, requested):
    with pytest.raises(ValidationError):
        relocation.decide_relocation(world.coordinator.user, requested, approve=False, note="no")
    relocation.decide_relocation(
        world.coordinator.user, requested, approve=False, note="Riesgo ya mitigado por la fiscalía"
    )
    requested.refresh_from_db()
    assert requested.status == RelocationStatus.REFUSED and requested.approved is False
    with pytest.raises(ValidationError):
        relocation.relocate(
            world.coordinator.user,
            requested,
            starts_on=date(2025, 3, 1),
            destination_address=ADDRESS,
        )
    with pytest.raises(ValidationError):
        relocation.record_cost(
            world.coordinator.user,
            requested,
            category="food",
            amount="10",
            currency="PEN",
            incurred_on=date(2025, 3, 1),
        )


def test_it_lets_a_sole_coordinator_approve_their_own_request_and_says_so(world, requested):
    relocation.decide_relocation(world.coordinator.user, requested, approve=True, note=DECISION)
    requested.refresh_from_db()
    assert requested.self_approved is True
    entry = AuditEntry.objects.get(action="relocation.approved", object_id=str(requested.pk))
    assert entry.details == {"self_approved": True}


def test_it_needs_a_second_coordinator_when_there_is_one(world, requested):
    second = make_persona(world.org_a, Role.COORDINATOR, "second@a.example")
    with pytest.raises(ValidationError):
        relocation.decide_relocation(world.coordinator.user, requested, approve=True, note=DECISION)
    requested.refresh_from_db()
    assert requested.status == RelocationStatus.REQUESTED
    relocation.decide_relocation(second.user, requested, approve=True, note=DECISION)
    requested.refresh_from_db()
    assert requested.status == RelocationStatus.APPROVED and requested.self_approved is False
    assert requested.decided_by == second.user


def test_it_does_not_count_a_coordinator_of_another_organisation(world, requested):
    # coordinator_b exists, but is not A's: A's only coordinator still approves.
    relocation.decide_relocation(world.coordinator.user, requested, approve=True, note=DECISION)
    requested.refresh_from_db()
    assert requested.status == RelocationStatus.APPROVED


def test_it_needs_a_safe_house_or_a_place(world, requested, safe_house):
    relocation.decide_relocation(world.coordinator.user, requested, approve=True, note=DECISION)
    requested.refresh_from_db()
    with pytest.raises(ValidationError):
        relocation.relocate(world.coordinator.user, requested, starts_on=date(2025, 3, 1))
    relocation.relocate(
        world.coordinator.user,
        requested,
        starts_on=date(2025, 3, 1),
        destination_address=ADDRESS,
        destination_location={"lat": 1, "lon": 2},
    )
    requested.refresh_from_db()
    assert requested.destination_address == ADDRESS
    assert requested.destination_location == {"lat": 1.0, "lon": 2.0}


def test_it_refuses_a_safe_house_of_another_organisation(world, requested):
    from amparo.people import actions as people_actions

    other = people_actions.create_safe_house(
        "test", world.org_b, region="Pando", name="Casa B", address="Calle B"
    )
    relocation.decide_relocation(world.coordinator.user, requested, approve=True, note=DECISION)
    requested.refresh_from_db()
    with pytest.raises(ValidationError):
        relocation.relocate(
            world.coordinator.user, requested, starts_on=date(2025, 3, 1), safe_house=other
        )


def test_it_wants_a_country_for_a_cross_border_relocation(world, person):
    with pytest.raises(ValidationError):
        relocation.request_relocation(
            world.coordinator.user, person, reason=REASON, risk_level="high", cross_border=True
        )
    with pytest.raises(ValidationError):
        relocation.request_relocation(
            world.coordinator.user, person, reason=REASON, risk_level="extreme"
        )
    with pytest.raises(ValidationError):
        relocation.request_relocation(world.coordinator.user, person, reason="", risk_level="high")
    assert not RelocationRequest.objects.exists()


def test_it_closes_an_open_relocation_with_a_note(world, requested):
    with pytest.raises(ValidationError):
        relocation.close_relocation(world.coordinator.user, requested, note="")
    relocation.close_relocation(world.coordinator.user, requested, note=CLOSING)
    requested.refresh_from_db()
    assert requested.status == RelocationStatus.CLOSED and requested.closing_note == CLOSING
    with pytest.raises(ValidationError):
        relocation.close_relocation(world.coordinator.user, requested, note=CLOSING)
    with pytest.raises(ValidationError):
        relocation.decide_relocation(world.coordinator.user, requested, approve=True, note=DECISION)


def test_it_does_not_return_before_the_move(world, relocated):
    with pytest.raises(ValidationError):
        relocation.mark_returned(world.coordinator.user, relocated, ends_on=date(2025, 3, 1))


def test_it_links_a_crisis_case_by_id(world, person):
    import uuid

    case_id = uuid.uuid4()
    item = relocation.request_relocation(
        world.coordinator.user, person, reason=REASON, risk_level="high", crisis_case_id=case_id
    )
    assert RelocationRequest.objects.get(crisis_case_id=case_id) == item


def test_it_says_only_relocated_to_everyone_else(world, relocated, person):
    for persona in (world.supervisor, world.focal_point, world.coordinator):
        ctx = access_organisation_by_slug(persona.user, "org-a")
        assert access.relocation_status_label(ctx, person) == "Relocated"
    ctx_b = access_organisation_by_slug(world.coordinator_b.user, "org-b")
    assert access.relocation_status_label(ctx_b, person) == ""
    relocation.mark_returned(world.coordinator.user, relocated, ends_on=date(2025, 4, 1))
    ctx = access_organisation_by_slug(world.supervisor.user, "org-a")
    assert access.relocation_status_label(ctx, person) == ""
    assert access.relocation_status_label(ctx, world.defender_person) == ""
