"""The indicators dashboard on a fixture with known answers: counts by month, kind,
level, region and actor; the share documented with evidence; alerts and the median and
90th percentile of the time to acknowledge per tier; open cases; overdue assessments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import translation

from amparo.alerts.models import Alert
from amparo.monitoring import dashboard, tallies
from amparo.monitoring.models import Incident
from amparo.people.models import Role
from amparo.risk import actions as risk_actions
from amparo.risk.models import RiskSubject
from conftest import make_persona

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def fact(org, month, kind="threat", level="medium", region="Madre de Dios", **extra):
    return dict(
        organisation=org,
        origin=extra.pop("origin", "report"),
        occurred_on=month + timedelta(days=3),
        month=month,
        country="PE",
        region=region,
        kind=kind,
        level=level,
        actor_type=extra.pop("actor_type", "unknown"),
        has_evidence=extra.pop("has_evidence", False),
        **extra,
    )


@pytest.fixture
def facts(world):
    a = world.org_a
    rows = (
        [fact(a, JAN, "threat", "medium", actor_type="illegal_miners", has_evidence=True)] * 3
        + [fact(a, JAN, "attack", "high", actor_type="illegal_miners")] * 2
        + [fact(a, FEB, "threat", "low", region="Pando", has_evidence=True)] * 4
        + [fact(a, MAR, "attempted_attack", "high", region="Pando", actor_type="hitmen")]
        + [fact(a, MAR, "killing", "", region="Ucayali", origin="import")] * 2
        # Outside the period, and another organisation: never counted.
        + [fact(a, date(2024, 12, 1))] * 5
        + [fact(world.org_b, FEB)] * 7
    )
    tallies.create_facts([Incident(**values) for values in rows])


def alerts(world):
    raised = datetime(2025, 2, 10, 12, 0, tzinfo=UTC)
    by_tier = {"local": [10, 20, 30, 40, 50], "regional": [100, 200], "national": [7]}
    for tier, seconds in by_tier.items():
        for s in seconds:
            Alert.objects.create(
                organisation=world.org_a,
                kind="threat",
                severity="high",
                state="acknowledged",
                code="X",
                raised_at=raised,
                acknowledged_at=raised + timedelta(seconds=s),
                acknowledged_level=tier,
            )
    Alert.objects.create(
        organisation=world.org_a, kind="panic", severity="high", code="Y", raised_at=raised
    )
    # Before the period, and of B.
    Alert.objects.create(
        organisation=world.org_a,
        kind="threat",
        severity="high",
        code="Z",
        raised_at=raised - timedelta(days=90),
        acknowledged_at=raised,
        acknowledged_level="local",
    )
    Alert.objects.create(
        organisation=world.org_b,
        kind="threat",
        severity="high",
        code="W",
        raised_at=raised,
        acknowledged_at=raised + timedelta(seconds=999),
        acknowledged_level="local",
    )


PERIOD = dashboard.Filters(start=JAN, end=MAR)


def counts(rows, *keys):
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r["n"] for r in rows}


def test_it_counts_by_month_and_kind(world, facts):
    rows = dashboard.by_month_and_kind(world.org_a, PERIOD)
    assert counts(rows, "month", "kind") == {
        (JAN, "threat"): 3,
        (JAN, "attack"): 2,
        (FEB, "threat"): 4,
        (MAR, "attempted_attack"): 1,
        (MAR, "killing"): 2,
    }


def test_it_counts_by_level_region_and_actor(world, facts):
    assert counts(dashboard.by_level(world.org_a, PERIOD), "level") == {
        "medium": 3,
        "high": 3,
        "low": 4,
        "": 2,
    }
    assert counts(dashboard.by_region(world.org_a, PERIOD), "region") == {
        "Madre de Dios": 5,
        "Pando": 5,
        "Ucayali": 2,
    }
    assert counts(dashboard.by_actor(world.org_a, PERIOD), "actor_type") == {
        "illegal_miners": 5,
        "unknown": 6,
        "hitmen": 1,
    }


def test_it_filters_by_region_kind_and_level(world, facts):
    f = dashboard.Filters(start=JAN, end=MAR, region="Pando")
    assert counts(dashboard.by_level(world.org_a, f), "level") == {"low": 4, "high": 1}
    f = dashboard.Filters(start=JAN, end=MAR, kind="threat", level="medium")
    assert counts(dashboard.by_month_and_kind(world.org_a, f), "month", "kind") == {
        (JAN, "threat"): 3
    }
    f = dashboard.Filters(start=FEB, end=FEB)
    assert counts(dashboard.by_month_and_kind(world.org_a, f), "month", "kind") == {
        (FEB, "threat"): 4
    }


def test_it_counts_the_share_documented_with_evidence(world, facts):
    # Reported incidents only (imports say nothing of evidence): 7 of 10.
    assert dashboard.evidence_share(world.org_a, PERIOD) == {
        "total": 10,
        "documented": 7,
        "share": 0.7,
    }


def test_it_gives_the_median_and_90th_percentile_to_acknowledge_per_tier(world):
    alerts(world)
    times = {r["tier"]: r for r in dashboard.response_times(world.org_a, PERIOD)}
    assert set(times) == {"local", "regional", "national"}
    assert times["local"]["count"] == 5
    assert times["local"]["median"] == pytest.approx(30, abs=0.01)
    assert times["local"]["p90"] == pytest.approx(46, abs=0.01)
    assert times["regional"]["median"] == pytest.approx(150, abs=0.01)
    assert times["regional"]["p90"] == pytest.approx(190, abs=0.01)
    assert times["national"]["median"] == pytest.approx(7, abs=0.01)
    assert times["national"]["p90"] == pytest.approx(7, abs=0.01)
    assert dashboard.alerts_raised(world.org_a, PERIOD) == {
        "total": 9,
        "unacknowledged": 1,
        "acknowledged": 8,
    }


def test_the_percentile_matches_percentile_cont(world):
    values = {1: 3.0, 2: 5.0, 3: 11.0, 4: 20.0}
    assert dashboard.interpolate(values, 4, 0.5) == pytest.approx(8.0)
    assert dashboard.interpolate(values, 4, 0.9) == pytest.approx(17.3)


def test_it_counts_open_cases_and_overdue_assessments(world):
    from tests.risk.conftest import report_for

    report_for(world)
    report_for(world)
    report_for(world, world.org_b)
    opened = dashboard.open_cases(world.org_a)
    assert opened["threats_total"] == 2
    assert opened["crises"] == 0
    subject = risk_actions.create_subject("test", world.org_a, kind="organisation")
    RiskSubject.objects.filter(pk=subject.pk).update(next_due_on=date(2020, 1, 1))
    assert dashboard.overdue_assessments(world.org_a, date(2025, 1, 1)) == 1
    assert dashboard.overdue_assessments(world.org_b, date(2025, 1, 1)) == 0


def test_the_page_shows_the_figures_to_the_coordinator_and_the_admin(world, login, facts):
    alerts(world)
    admin = make_persona(world.org_a, Role.ADMIN, "admin@a.example")
    for persona in (world.coordinator, admin):
        response = login(persona).get(
            "/o/org-a/indicators/?start=2025-01&end=2025-03", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert "<svg" in body and "<script>" not in body and " style=" not in body
        assert "70%" in body  # evidence share
        assert "46 s" in body  # the local tier's 90th percentile
        assert "Ucayali" in body


def test_the_page_filters(world, login, facts):
    c = login(world.coordinator)
    body = c.get("/o/org-a/indicators/?start=2025-02&end=2025-02&kind=threat").content.decode()
    assert '<span class="figure">4</span>' in body
