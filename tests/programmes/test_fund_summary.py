"""The fund's transparent ledger and its anonymised public summary (reference, Strategy
2, line 5, "Fund administered transparently"; DESIGN.md section 7: counts below k = 5
are suppressed): counts and sums by month, category and currency only, no names, and
the relocation costs paid by the fund as a separate read-only line of the ledger."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine

from amparo.people.models import Role
from amparo.programmes import fund
from amparo.programmes.models import FundRequestStatus
from amparo.protocols import relocation
from conftest import make_persona

pytestmark = pytest.mark.django_db


@pytest.fixture
def approvers(world):
    return (
        make_persona(world.org_a, Role.ADMIN, "admin@a.example").user,
        make_persona(world.org_a, Role.COORDINATOR, "coordinator2@a.example").user,
    )


def paid(world, approvers, category: str, amount: str, on: datetime, currency: str = "PEN"):
    with time_machine.travel(on, tick=False):
        request = fund.request_funds(
            world.coordinator.user,
            world.org_a,
            category=category,
            amount=amount,
            currency=currency,
            justification="Nombre-Secreto necesita ayuda",
            beneficiary_name="Beneficiaria Nombre-Secreto",
        )
        for approver in approvers:
            fund.approve_fund_request(approver, request)
        return fund.disburse_fund_request(approvers[0], request, reference="TRF")


def at(year: int, month: int, day: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, 15, 0, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
def history(world, approvers):
    for day in range(1, 6):
        paid(world, approvers, "transport", "100.00", at(2025, 1, day))
    for day in range(1, 4):
        paid(world, approvers, "medical", "40.00", at(2025, 1, day))
    for day in range(1, 7):
        paid(world, approvers, "transport", "10.50", at(2025, 2, day))
    # Not counted: refused, and approved but not paid.
    refused = fund.request_funds(
        world.coordinator.user,
        world.org_a,
        category="legal",
        amount="999",
        currency="PEN",
        justification="x",
        beneficiary_name="y",
    )
    fund.refuse_fund_request(approvers[0], refused, "no")
    approved = fund.request_funds(
        world.coordinator.user,
        world.org_a,
        category="shelter",
        amount="70",
        currency="PEN",
        justification="x",
        beneficiary_name="y",
    )
    for approver in approvers:
        approved = fund.approve_fund_request(approver, approved)
    return approved


def test_the_public_summary_counts_by_month_and_category(world, history):
    cells = {(c.month, c.category): c for c in fund.public_summary(world.org_a)}
    assert set(cells) == {
        (date(2025, 1, 1), "transport"),
        (date(2025, 1, 1), "medical"),
        (date(2025, 2, 1), "transport"),
    }
    january = cells[(date(2025, 1, 1), "transport")]
    assert (january.requests, january.amount, january.currency) == (5, Decimal("500.00"), "PEN")
    february = cells[(date(2025, 2, 1), "transport")]
    assert (february.requests, february.amount) == (6, Decimal("63.00"))


def test_the_public_summary_suppresses_cells_under_five(world, history):
    medical = next(c for c in fund.public_summary(world.org_a) if c.category == "medical")
    assert medical.suppressed
    assert medical.requests is None
    assert medical.amount is None


def test_the_public_summary_takes_a_period(world, history):
    cells = fund.public_summary(world.org_a, since=date(2025, 2, 1), until=date(2025, 2, 28))
    assert [(c.month, c.category, c.requests) for c in cells] == [
        (date(2025, 2, 1), "transport", 6)
    ]


def test_the_public_summary_is_of_one_organisation(world, history):
    assert fund.public_summary(world.org_b) == []


def test_the_public_summary_page_shows_no_names_and_no_small_cells(world, history, login):
    c = login(world.coordinator)
    body = c.get(f"/o/{world.org_a.slug}/fund/summary/").content.decode()
    assert "Nombre-Secreto" not in body
    assert "500.00" in body
    assert "120.00" not in body  # the three medical requests, suppressed
    assert 'data-suppressed="true"' in body


def test_the_ledger_totals_what_was_paid_and_what_is_committed(world, history):
    ledger = fund.fund_ledger(world.org_a)
    assert len(ledger.requests) == 16
    disbursed = {(t.category, t.currency): (t.requests, t.amount) for t in ledger.disbursed}
    assert disbursed == {
        ("medical", "PEN"): (3, Decimal("120.00")),
        ("transport", "PEN"): (11, Decimal("563.00")),
    }
    assert [(t.category, t.amount) for t in ledger.committed] == [("shelter", Decimal("70.00"))]
    assert history.status == FundRequestStatus.APPROVED


def test_the_ledger_shows_relocation_costs_paid_by_the_fund_apart(world, approvers):
    person = world.defender_person
    move = relocation.request_relocation(
        world.coordinator.user,
        person,
        reason="Amenaza de muerte en la comunidad",
        risk_level="imminent",
    )
    relocation.decide_relocation(
        approvers[1], move, approve=True, note="Aprobado por el riesgo inminente"
    )
    move.refresh_from_db()
    for amount, in_fund in (("150.50", True), ("20.00", True), ("99.00", False)):
        relocation.record_cost(
            world.coordinator.user,
            move,
            category="transport",
            amount=amount,
            currency="PEN",
            incurred_on=date(2025, 3, 10),
            emergency_fund=in_fund,
            fund_reference="EF-2025-03" if in_fund else "",
        )
    ledger = fund.fund_ledger(world.org_a)
    assert [(r.currency, r.costs, r.amount, r.references) for r in ledger.relocations] == [
        ("PEN", 2, Decimal("170.50"), ["EF-2025-03"])
    ]
    assert fund.fund_ledger(world.org_b).relocations == []


def test_the_ledger_page_names_no_beneficiary(world, history, login):
    c = login(world.coordinator)
    body = c.get(f"/o/{world.org_a.slug}/fund/ledger/").content.decode()
    assert "Nombre-Secreto" not in body
    assert history.reference_code in body


def test_the_public_summary_page_needs_no_account_and_hides_small_cells(world, history, client):
    page = client.get(f"/public/{world.org_a.slug}/fund/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-suppressed="true"' in html  # January's medical requests: 3
    assert "500.00 PEN" in html and "63.00 PEN" in html
    assert "40.00" not in html and "120.00" not in html
    assert client.get("/public/no-such-org/fund/").status_code == 404
