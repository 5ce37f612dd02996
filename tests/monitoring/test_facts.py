"""Threat reports projected into incident facts (monitoring.facts): kind, actor, level,
region, country, evidence and grid cell, never identity or words; a level change updates
the fact; ``amparo project-incidents`` rebuilds them."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from amparo.incidents import actions, vault
from amparo.incidents.models import Source
from amparo.monitoring import grid
from amparo.monitoring.models import Incident, IncidentOrigin
from tests.incidents.test_api import jpeg_bytes


@pytest.fixture(autouse=True)
def evidence_store(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


def file(world, answers=None, evidence=(), **data):
    body = {"verbatim": "Te vamos a encontrar, Rosa", "region": "Madre de Dios", **data}
    body.update(answers or {})
    return actions.report_threat(
        world.focal_point.user, world.org_a, body, source=Source.WEB, evidence=list(evidence)
    ).report


@pytest.mark.parametrize(
    ("answers", "kind", "level"),
    [
        ({"physical_violence": True}, "attack", "high"),
        ({"physical_violence": True, "attempted_assault": True}, "attack", "high"),
        ({"physical_violence": False, "attempted_assault": True}, "attempted_attack", "high"),
        ({"physical_violence": False, "attempted_assault": False}, "threat", "medium"),
        ({}, "threat", "medium"),
    ],
)
def test_it_projects_the_kind_and_level(world, answers, kind, level):
    report = file(world, answers)
    fact = Incident.objects.get(report=report)
    assert (fact.kind, fact.level, fact.origin) == (kind, level, IncidentOrigin.REPORT)


@pytest.mark.parametrize(
    ("activity", "actor"),
    [
        ("illegal_mining", "illegal_miners"),
        ("illegal_logging", "illegal_loggers"),
        ("drug_trafficking", "drug_traffickers"),
        ("land_trafficking", "land_traffickers"),
        ("other", "other"),
        ("none", "unknown"),
        ("unknown", "unknown"),
        (None, "unknown"),
    ],
)
def test_it_projects_the_actor_type(world, activity, actor):
    report = file(world, {"source_illicit_activity": activity} if activity else {})
    assert Incident.objects.get(report=report).actor_type == actor


def test_it_projects_date_place_and_country_but_no_identity(world):
    report = file(
        world,
        occurred_at="2025-03-14T22:30:00-05:00",
        lat=-12.5933,
        lon=-69.1891,
        place="Casa de Rosa, jirón Loreto 742",
        perpetrator_description="Hombre de gorra roja",
    )
    fact = Incident.objects.get(report=report)
    assert str(fact.occurred_on) == "2025-03-15"  # 22:30 in Lima is the 15th in UTC
    assert str(fact.month) == "2025-03-01"
    assert fact.country == "PE"
    assert fact.region == "Madre de Dios"
    assert fact.cell == grid.cell_of(-12.5933, -69.1891).id
    assert fact.identity is None
    assert fact.description == ""
    assert fact.has_evidence is False


def test_without_a_date_it_counts_the_day_of_the_report(world):
    report = file(world)
    fact = Incident.objects.get(report=report)
    assert fact.occurred_on == report.created_at.date()
    assert fact.cell == ""


def test_it_knows_a_report_documented_with_evidence(world):
    photo = vault.stage_stream(world.org_a.pk, "foto.jpg", iter([jpeg_bytes()]))
    report = file(world, evidence=[photo])
    assert Incident.objects.get(report=report).has_evidence is True


def test_a_level_change_updates_the_fact(world):
    report = file(world, {"physical_violence": False, "attempted_assault": False})
    actions.change_level(world.coordinator.user, report, "low", "Vaga, sin vínculo")
    fact = Incident.objects.get(report=report)
    assert fact.level == "low"
    actions.change_level(world.coordinator.user, report, "high", "Volvieron armados")
    assert Incident.objects.get(report=report).level == "high"
    assert Incident.objects.filter(report=report).count() == 1


def test_the_command_reprojects_every_report(world):
    reports = [file(world, {"physical_violence": True}), file(world)]
    Incident.objects.all().delete()
    call_command("project_incidents")
    assert Incident.objects.count() == 2
    assert Incident.objects.get(report=reports[0]).kind == "attack"
    # Running it again changes nothing: one fact per report.
    call_command("project_incidents")
    assert Incident.objects.count() == 2
