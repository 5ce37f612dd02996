"""Costs of relocations, recorded for the emergency fund (reference, Strategy 6, line 2:
"Secure funding for urgent relocation"): validated, totalled per relocation and per
month, with what the fund pays kept apart."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from amparo.protocols import relocation
from amparo.protocols.models import RelocationCost
from amparo.protocols.relocation_views import totals_by_currency


def cost(world, item, amount, currency="PEN", on=date(2025, 3, 10), **extra):
    return relocation.record_cost(
        world.coordinator.user,
        item,
        category=extra.pop("category", "accommodation"),
        amount=amount,
        currency=currency,
        incurred_on=on,
        **extra,
    )


def test_it_totals_a_relocation_by_currency(world, relocated):
    cost(world, relocated, "49.50")
    cost(world, relocated, "300", currency="usd")
    totals = totals_by_currency(RelocationCost.objects.filter(relocation=relocated))
    assert totals == [
        {"currency": "PEN", "total": Decimal("200.00")},
        {"currency": "USD", "total": Decimal("300.00")},
    ]


def test_it_keeps_what_the_fund_pays_apart(world, relocated):
    cost(world, relocated, "80", emergency_fund=False)
    fund = RelocationCost.objects.filter(organisation=world.org_a, emergency_fund=True)
    assert fund.aggregate(total=Sum("amount"))["total"] == Decimal("150.50")
    assert fund.get().fund_reference == "EF-2025-03"


def test_it_refuses_bad_amounts_currencies_and_categories(world, relocated):
    for amount, currency, category in (
        ("0", "PEN", "food"),
        ("-5", "PEN", "food"),
        ("abc", "PEN", "food"),
        ("10", "SOLES", "food"),
        ("10", "PE", "food"),
        ("10", "PEN", "bribes"),
    ):
        with pytest.raises(ValidationError):
            cost(world, relocated, amount, currency=currency, category=category)
    assert RelocationCost.objects.count() == 1


def test_it_shows_the_monthly_totals_to_the_coordinator(world, login, relocated):
    cost(world, relocated, "49.50", on=date(2025, 3, 28))
    cost(world, relocated, "20", on=date(2025, 4, 2), emergency_fund=False)
    page = login(world.coordinator).get("/o/org-a/relocations/costs/").content.decode()
    assert "2025-03" in page and "2025-04" in page
    assert "200.00 PEN" in page and "20.00 PEN" in page
    detail = login(world.coordinator).get(f"/o/org-a/relocations/{relocated.pk}/").content.decode()
    assert "220.00 PEN" in detail and "200.00 PEN" in detail
