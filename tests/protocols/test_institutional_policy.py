"""The institutional security policy (issue 8, point 2; reference, Strategy 3, line 3):
whether a security manual exists, the risk management plan's last update, digital
security standards, the crisis chain of command, and the log of internal compliance
checks whose findings only coordinators and administrators read. With its KPIs."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from amparo.core.models import AuditEntry
from amparo.protocols import institutional, kpis
from amparo.protocols.models import ComplianceCheck, ComplianceStatus, InstitutionalPolicy

CHAIN = "1. Coordinadora Yolanda-Reservada +51 982 333 444; 2. Director"
STANDARDS = "Signal con mensajes temporales; discos cifrados con clave Pariamanu-Sigilo"
FINDINGS = "Tres laptops sin cifrado en la oficina Iberia-Confidencial"


@pytest.fixture
def policy(world):
    return institutional.update_institutional_policy(
        world.coordinator.user,
        world.org_a,
        has_security_manual=True,
        security_manual_adopted_on=date(2024, 6, 1),
        risk_plan_updated_on=date(2025, 1, 15),
        digital_security_standards=STANDARDS,
        chain_of_command=CHAIN,
    )


def test_it_saves_the_policy_and_audits_without_its_text(world, policy):
    assert InstitutionalPolicy.objects.get().chain_of_command == CHAIN
    entry = AuditEntry.objects.get(action="institutional_policy.updated")
    assert entry.details["risk_plan_updated_on"] == "2025-01-15"
    assert entry.details["chain_of_command"] is True
    assert CHAIN not in str(entry.details)
    with pytest.raises(ValidationError):
        institutional.update_institutional_policy(
            world.coordinator.user,
            world.org_a,
            has_security_manual=False,
            security_manual_adopted_on=date(2024, 6, 1),
        )


def test_it_logs_compliance_checks(world, policy):
    with pytest.raises(ValidationError):
        institutional.record_compliance_check(
            world.coordinator.user, world.org_a, checked_on=date(2025, 2, 1), status="gaps_found"
        )
    with pytest.raises(ValidationError):
        institutional.record_compliance_check(
            world.coordinator.user,
            world.org_a,
            checked_on=date(2025, 2, 1),
            status="compliant",
            checker=world.coordinator_b.user,
        )
    check = institutional.record_compliance_check(
        world.coordinator.user,
        world.org_a,
        checked_on=date(2025, 2, 1),
        status="gaps_found",
        findings=FINDINGS,
    )
    assert check.checker == world.coordinator.user
    institutional.resolve_compliance_check(
        world.coordinator.user, check, resolved_on=date(2025, 2, 20)
    )
    check.refresh_from_db()
    assert (check.status, check.resolved_on) == (ComplianceStatus.GAPS_RESOLVED, date(2025, 2, 20))
    with pytest.raises(ValidationError):
        institutional.resolve_compliance_check(
            world.coordinator.user, check, resolved_on=date(2025, 2, 21)
        )


def test_it_runs_from_the_pages(world, login):
    c = login(world.coordinator)
    response = c.post(
        "/o/org-a/protocols/institutional/edit/",
        {
            "has_security_manual": "on",
            "risk_plan_updated_on": "2025-01-15",
            "chain_of_command": CHAIN,
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    response = c.post(
        "/o/org-a/protocols/institutional/checks/new/",
        {
            "checked_on": "2025-02-01",
            "status": "gaps_found",
            "checker": str(world.coordinator.user.pk),
            "findings": FINDINGS,
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    check = ComplianceCheck.objects.get()
    url = f"/o/org-a/protocols/institutional/checks/{check.pk}/resolve/"
    assert c.get(url).status_code == 405
    assert c.post(url, {"resolved_on": "2025-02-10"}).status_code == 302
    check.refresh_from_db()
    assert check.status == ComplianceStatus.GAPS_RESOLVED
    page = c.get("/o/org-a/protocols/institutional/").content.decode()
    assert CHAIN in page and FINDINGS in page


def test_it_shows_the_findings_to_writers_only(world, login, policy):
    institutional.record_compliance_check(
        world.coordinator.user,
        world.org_a,
        checked_on=date(2025, 2, 1),
        status="gaps_found",
        findings=FINDINGS,
    )
    for persona in (world.defender, world.focal_point, world.supervisor):
        c = login(persona)
        page = c.get("/o/org-a/protocols/institutional/").content.decode()
        assert CHAIN in page  # staff must know their part in an emergency
        assert FINDINGS not in page
        assert "2025-02-01" in page
        assert c.get("/o/org-a/protocols/institutional/edit/").status_code == 404
        assert c.get("/o/org-a/protocols/institutional/checks/new/").status_code == 404


def test_it_answers_the_institutional_kpis(world, policy):
    for checked_on, status in (
        (date(2024, 12, 1), "compliant"),
        (date(2025, 1, 20), "compliant"),
        (date(2025, 2, 1), "gaps_found"),
        (date(2025, 3, 1), "compliant"),
        (date(2025, 5, 1), "compliant"),
    ):
        institutional.record_compliance_check(
            world.coordinator.user,
            world.org_a,
            checked_on=checked_on,
            status=status,
            findings=FINDINGS if status == "gaps_found" else "",
        )
    q1 = (date(2025, 1, 1), date(2025, 3, 31))
    assert kpis.compliance_checks(world.org_a, *q1) == 3
    assert kpis.compliance_checks(world.org_a, None, None) == 5
    assert kpis.share_compliant_checks(world.org_a, *q1) == 66.7
    assert kpis.share_compliant_checks(world.org_b, *q1) is None
    assert kpis.has_updated_risk_plan(world.org_a, *q1) == 1
    # A year and a day after the update, the plan is no longer "updated".
    assert kpis.has_updated_risk_plan(world.org_a, None, date(2026, 1, 16)) == 0
    assert kpis.has_updated_risk_plan(world.org_a, None, date(2025, 1, 1)) == 0
    assert kpis.has_updated_risk_plan(world.org_b, *q1) == 0
    assert kpis.has_security_manual(world.org_a, *q1) == 1
    assert kpis.has_security_manual(world.org_a, None, date(2024, 1, 1)) == 0
    assert kpis.has_security_manual(world.org_b, *q1) == 0
