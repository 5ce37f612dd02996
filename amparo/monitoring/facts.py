"""Threat reports as incident facts (issue 7): each report filed in Amparo has one
``Incident`` row that the dashboards, the map and the public reports count. The row holds
the report's readable counting columns (date, month, country, region, kind, level, actor,
evidence, the 10 km cell) and a sealed copy of the point for the coordinators' map; never
who it happened to nor what was said.

``project_report`` is called by ``incidents.actions`` inside the transaction that changes
the report (filing, level change), so the fact is never out of step with its report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from amparo.core.db import prepared
from amparo.incidents.models import EvidenceFile, IllicitActivity, ThreatReport
from amparo.monitoring import grid, tallies
from amparo.monitoring.models import ActorType, Incident, IncidentKind, IncidentOrigin, month_of

# Reference, Section 1, Step 1: the illicit activities the source may be linked to.
ACTOR_OF_ACTIVITY: dict[str | None, str] = {
    IllicitActivity.ILLEGAL_MINING: ActorType.ILLEGAL_MINERS,
    IllicitActivity.ILLEGAL_LOGGING: ActorType.ILLEGAL_LOGGERS,
    IllicitActivity.DRUG_TRAFFICKING: ActorType.DRUG_TRAFFICKERS,
    IllicitActivity.LAND_TRAFFICKING: ActorType.LAND_TRAFFICKERS,
    IllicitActivity.OTHER: ActorType.OTHER,
}

# The readable columns a projection writes (an update writes only these).
PROJECTED = (
    "occurred_on",
    "month",
    "country",
    "region",
    "kind",
    "level",
    "actor_type",
    "has_evidence",
    "cell",
    "location",
)


def kind_of(answers: dict[str, Any]) -> str:
    """Reference, Section 1, Step 1: physical violence is an attack, an attempted
    assault an attempted one; anything else reported is a threat."""
    if answers.get("physical_violence") is True:
        return IncidentKind.ATTACK
    if answers.get("attempted_assault") is True:
        return IncidentKind.ATTEMPTED_ATTACK
    return IncidentKind.THREAT


def actor_of(answers: dict[str, Any]) -> str:
    # "none", "unknown" and no answer: the actor is not known.
    return ACTOR_OF_ACTIVITY.get(answers.get("source_illicit_activity"), ActorType.UNKNOWN)


def occurred_on(report: ThreatReport) -> date:
    """The day it happened (the report's day when not given), in UTC: the same instant is
    counted in the same month whoever looks at it."""
    moment: datetime = report.occurred_at or report.created_at
    return moment.astimezone(UTC).date()


def cell_of(location: dict[str, Any] | None) -> str:
    if not location:
        return ""
    try:
        return grid.cell_of(float(location["lat"]), float(location["lon"])).id
    except (KeyError, TypeError, ValueError):
        return ""


def _values(report: ThreatReport, has_evidence: bool) -> dict[str, Any]:
    answers = report.answers or {}
    day = occurred_on(report)
    location = report.location or None
    return {
        "occurred_on": day,
        "month": month_of(day),
        "country": report.organisation.country,
        "region": report.region or "",
        "kind": kind_of(answers),
        "level": report.level,
        "actor_type": actor_of(answers),
        "has_evidence": has_evidence,
        "cell": cell_of(location),
        # Sealed: the point, for the coordinators' map only.
        "location": {"lat": location["lat"], "lon": location["lon"]} if location else None,
    }


def project_report(report: ThreatReport, *, has_evidence: bool | None = None) -> Incident:
    """Create or update the report's fact, and its tallies (monitoring.tallies).
    ``has_evidence`` spares a query when the caller knows it. A report being filed uses
    ``compile_new_report`` instead."""
    if has_evidence is None:
        has_evidence = EvidenceFile.objects.filter(report=report).exists()
    values = _values(report, has_evidence)
    fact = Incident.objects.filter(report=report).first()
    changes = tallies.Changes()
    if fact is None:
        fact = _new_fact(report, values)
        fact.save(force_insert=True)
        changes.count(tallies.values_of(fact))
        changes.save()
        return fact
    before = tallies.values_of(fact)
    for name, value in values.items():
        setattr(fact, name, value)
    fact.save(update_fields=[*PROJECTED, "updated_at"])
    changes.move(before, tallies.values_of(fact))
    changes.save()
    return fact


def compile_new_report(report: ThreatReport, *, has_evidence: bool) -> prepared.Statements:
    """A new report's fact and its tallies' changes as compiled statements: the caller
    runs them in the report's transaction with its other writes, so its write lock is
    not held while they are built (incidents.actions.report_threat)."""
    fact = _new_fact(report, _values(report, has_evidence))
    changes = tallies.Changes()
    changes.count(tallies.values_of(fact))
    insert, upserts = prepared.insert([fact]), changes.statements()
    return prepared.Statements(insert.using, insert.parts + upserts.parts)


def _new_fact(report: ThreatReport, values: dict[str, Any]) -> Incident:
    return Incident(
        organisation_id=report.organisation_id,
        origin=IncidentOrigin.REPORT,
        report=report,
        **values,
    )


def project_all(batch: int = 500) -> int:
    """(Re)project every threat report, for data filed before the projection existed.
    Returns how many reports were projected."""
    done = 0
    with_evidence = set(EvidenceFile.objects.values_list("report_id", flat=True).distinct())
    reports = ThreatReport.objects.select_related("organisation").order_by("created_at", "id")
    for report in reports.iterator(chunk_size=batch):
        project_report(report, has_evidence=report.pk in with_evidence)
        done += 1
    # Facts deleted around the application would have left their counts behind.
    tallies.rebuild()
    return done
