"""The emergency fund's four eyes (issue 8: "Fund approval needs two different people;
one person cannot approve twice"): the requester and the beneficiary do not approve,
a refusal by one approver stops the request, and only an approved request is paid."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from amparo.core.models import AuditEntry
from amparo.people.models import Role
from amparo.programmes import fund
from amparo.programmes.models import FundApproval, FundRequestStatus
from conftest import make_persona

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Traslado urgente tras disparos en el campamento Fund-Secreto"


@pytest.fixture
def approvers(world):
    return (
        make_persona(world.org_a, Role.ADMIN, "admin@a.example"),
        make_persona(world.org_a, Role.COORDINATOR, "coordinator2@a.example"),
    )


def make_request(world, **overrides):
    fields = {
        "category": "transport",
        "amount": "350.00",
        "currency": "PEN",
        "justification": JUSTIFICATION,
        "beneficiary": world.defender_person,
    }
    fields.update(overrides)
    return fund.request_funds(world.coordinator.user, world.org_a, **fields)


def test_it_needs_two_approvals_from_two_different_people(world, approvers):
    first, second = approvers
    request = make_request(world)
    request = fund.approve_fund_request(first.user, request)
    assert request.status == FundRequestStatus.REQUESTED
    request = fund.approve_fund_request(second.user, request)
    assert request.status == FundRequestStatus.APPROVED
    assert request.approved_at is not None
    assert sorted(request.approvals.values_list("approver_id", flat=True)) == sorted(
        [first.user.pk, second.user.pk]
    )
    assert AuditEntry.objects.filter(action="fund_request.approved").count() == 2


def test_one_person_cannot_approve_twice(world, approvers):
    first, _second = approvers
    request = make_request(world)
    fund.approve_fund_request(first.user, request)
    with pytest.raises(ValidationError, match="already approved"):
        fund.approve_fund_request(first.user, request)
    request.refresh_from_db()
    assert request.status == FundRequestStatus.REQUESTED
    assert request.approvals.count() == 1


def test_the_database_refuses_a_second_approval_by_the_same_person(world, approvers):
    first, _second = approvers
    request = make_request(world)
    fund.approve_fund_request(first.user, request)
    with pytest.raises(IntegrityError), transaction.atomic():
        FundApproval.objects.create(
            organisation=world.org_a,
            request=request,
            approver=first.user,
            approved_at=timezone.now(),
        )


def test_the_requester_cannot_approve_their_own_request(world, approvers):
    request = make_request(world)
    with pytest.raises(ValidationError, match="made the request"):
        fund.approve_fund_request(world.coordinator.user, request)
    assert request.approvals.count() == 0


def test_the_beneficiary_cannot_approve_their_own_request(world, approvers):
    first, _second = approvers
    # The beneficiary is the administrator's own profile.
    from amparo.people import actions as people_actions

    profile = people_actions.create_person("test", world.org_a, given_names="Ana", user=first.user)
    request = make_request(world, beneficiary=profile)
    with pytest.raises(ValidationError, match="beneficiary"):
        fund.approve_fund_request(first.user, request)


def test_other_roles_cannot_approve(world, approvers):
    request = make_request(world)
    lawyer = make_persona(world.org_a, Role.LAWYER, "lawyer@a.example")
    for persona in (world.supervisor, world.focal_point, world.defender, lawyer):
        with pytest.raises(ValidationError, match="coordinator or an administrator"):
            fund.approve_fund_request(persona.user, request)
    # A coordinator of another organisation is no approver of A's fund.
    with pytest.raises(ValidationError):
        fund.approve_fund_request(world.coordinator_b.user, request)
    assert request.approvals.count() == 0


def test_one_refusal_stops_the_request(world, approvers):
    first, second = approvers
    request = make_request(world)
    fund.approve_fund_request(first.user, request)
    with pytest.raises(ValidationError):
        fund.refuse_fund_request(second.user, request, "")
    request = fund.refuse_fund_request(second.user, request, "Cubierto por otro donante")
    assert request.status == FundRequestStatus.REFUSED
    with pytest.raises(ValidationError, match="not awaiting"):
        fund.approve_fund_request(second.user, request)


def test_only_an_approved_request_is_disbursed(world, approvers):
    first, second = approvers
    request = make_request(world)
    with pytest.raises(ValidationError, match="two people"):
        fund.disburse_fund_request(first.user, request, reference="TRF-1")
    fund.approve_fund_request(first.user, request)
    with pytest.raises(ValidationError, match="two people"):
        fund.disburse_fund_request(first.user, request, reference="TRF-1")
    fund.approve_fund_request(second.user, request)
    request = fund.disburse_fund_request(world.coordinator.user, request, reference="TRF-1")
    assert request.status == FundRequestStatus.DISBURSED
    with pytest.raises(ValidationError):
        fund.disburse_fund_request(first.user, request, reference="TRF-2")


def test_it_validates_the_request(world):
    with pytest.raises(ValidationError) as exc:
        fund.request_funds(
            world.coordinator.user,
            world.org_a,
            category="holiday",
            amount="-3",
            currency="soles",
            justification="",
        )
    assert set(exc.value.message_dict) == {
        "category",
        "amount",
        "currency",
        "justification",
        "beneficiary",
    }
    request = make_request(world, beneficiary=None, beneficiary_name="Juan Sin-Registro")
    assert request.amount == Decimal("350.00")


def test_disbursement_time_is_measured_from_the_request(world, approvers):
    first, second = approvers
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        request = make_request(world)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        fund.approve_fund_request(first.user, request)
        fund.approve_fund_request(second.user, request)
    with time_machine.travel(start + timedelta(hours=30), tick=False):
        request = fund.disburse_fund_request(first.user, request, reference="TRF-9")
    assert fund.hours_to_disbursement(request) == pytest.approx(30)
    # A payment recorded later with its real time, but not before the approval.
    with pytest.raises(ValidationError):
        fund.disburse_fund_request(first.user, request, disbursed_at=start)


def test_satisfaction_is_asked_after_disbursement(world, approvers):
    first, second = approvers
    request = make_request(world)
    with pytest.raises(ValidationError):
        fund.record_satisfaction(first.user, request, 4)
    fund.approve_fund_request(first.user, request)
    fund.approve_fund_request(second.user, request)
    fund.disburse_fund_request(first.user, request)
    with pytest.raises(ValidationError):
        fund.record_satisfaction(first.user, request, 6)
    request = fund.record_satisfaction(first.user, request, 4)
    assert request.satisfaction == 4


def test_the_audit_trail_keeps_no_sealed_text(world, approvers):
    first, second = approvers
    request = make_request(world)
    fund.approve_fund_request(first.user, request)
    fund.refuse_fund_request(second.user, request, "Motivo-Reservado del rechazo")
    dump = " ".join(str(d) for d in AuditEntry.objects.values_list("details", flat=True))
    assert "Fund-Secreto" not in dump
    assert "Motivo-Reservado" not in dump
