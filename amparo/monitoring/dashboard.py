"""The indicators dashboard (issue 7, point 4; reference Strategy 4: risk indicators and
early-warning dashboards): threats and attacks by level, kind, region, actor type and
month; the share documented with evidence; alerts raised and the time to acknowledge per
tier; open cases; overdue risk assessments.

Every figure is an aggregate computed by the database, or a percentile in SQL: no
incident row is ever loaded into Python. The incident figures sum the tallies
(``monitoring.tallies``: the facts counted ahead of time per month, kind, level, region
and actor), a few thousand rows instead of up to a million facts, so a page costs about
the same on a thousand incidents as on a million (bench/dashboard.py). The period is
counted in whole months, the tallies' unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection
from django.db.models import Count, F, QuerySet, Sum

from amparo.alerts.models import Alert
from amparo.alerts.models import Level as Tier
from amparo.incidents.models import Level, Status, ThreatReport
from amparo.monitoring.models import Incident, IncidentKind, IncidentTally, month_of
from amparo.people.models import Organisation

DEFAULT_MONTHS = 12
TOP_REGIONS = 15


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_month(value: Any) -> date | None:
    """ "2025-03" (an <input type="month">) or "2025-03-14" -> 2025-03-01; None if not."""
    text = str(value or "").strip()[:10]
    for size, pattern in ((7, "%Y-%m"), (10, "%Y-%m-%d")):
        if len(text) == size:
            try:
                return month_of(datetime.strptime(text, pattern).date())  # noqa: DTZ007 - a date
            except ValueError:
                return None
    return None


@dataclass(frozen=True)
class Filters:
    """What the dashboard counts: whole months from ``start`` to ``end`` (both the first
    of their month, inclusive), optionally one region, kind and level."""

    start: date
    end: date
    region: str = ""
    kind: str = ""
    level: str = ""

    @classmethod
    def from_query(cls, params: Any, today: date) -> Filters:
        end = parse_month(params.get("end")) or month_of(today)
        start = parse_month(params.get("start")) or add_months(end, 1 - DEFAULT_MONTHS)
        if start > end:
            start, end = end, start
        kind = params.get("kind") or ""
        level = params.get("level") or ""
        return cls(
            start=start,
            end=end,
            region=str(params.get("region") or "").strip()[:120],
            kind=kind if kind in IncidentKind.values else "",
            level=level if level in Level.values else "",
        )

    @property
    def months(self) -> list[date]:
        months, day = [], self.start
        while day <= self.end:
            months.append(day)
            day = add_months(day, 1)
        return months

    @property
    def since(self) -> datetime:
        return datetime(self.start.year, self.start.month, 1, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        after = add_months(self.end, 1)
        return datetime(after.year, after.month, 1, tzinfo=UTC)


def incidents(organisation: Organisation, f: Filters) -> QuerySet[Incident]:
    """The facts themselves, filtered (the one query the tallies cannot serve: by actor
    within one region)."""
    qs = Incident.objects.filter(organisation=organisation, month__gte=f.start, month__lte=f.end)
    if f.region:
        qs = qs.filter(region=f.region)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.level:
        qs = qs.filter(level=f.level)
    return qs.order_by()


def tallied(organisation: Organisation, f: Filters, grain: str = "") -> QuerySet[IncidentTally]:
    """The tally rows (monitoring.tallies) that count the facts ``f`` selects: grain
    "kl" unless a region is chosen ("rkl"), or the grain asked for."""
    grain = grain or ("rkl" if f.region else "kl")
    qs = IncidentTally.objects.filter(
        organisation=organisation, grain=grain, period__gte=f.start, period__lte=f.end
    )
    if f.region:
        qs = qs.filter(region=f.region)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.level:
        qs = qs.filter(level=f.level)
    return qs.order_by()


def _summed(qs: QuerySet[IncidentTally], *columns: str) -> list[dict[str, Any]]:
    """Rows of the columns with their summed count (the tallies' ``period`` is named
    ``month``), leaving out what sums to nothing."""
    fields = [c for c in columns if c != "month"]
    renamed = {"month": F("period")} if "month" in columns else {}
    return list(
        qs.values(*fields, **renamed).annotate(n=Sum("n")).filter(n__gt=0).order_by(*columns)
    )


# The incident queries (each one aggregate; bench/dashboard.py times each).


def by_month_and_kind(organisation: Organisation, f: Filters) -> list[dict[str, Any]]:
    return _summed(tallied(organisation, f), "month", "kind")


def by_level(organisation: Organisation, f: Filters) -> list[dict[str, Any]]:
    return _summed(tallied(organisation, f), "level")


def by_region(organisation: Organisation, f: Filters) -> list[dict[str, Any]]:
    return _summed(tallied(organisation, f, "rkl" if f.level else "rk"), "region")


def by_actor(organisation: Organisation, f: Filters) -> list[dict[str, Any]]:
    if f.region:
        # No tally cuts by region and actor at once (it would have about as many rows as
        # there are facts); one region's facts are read through incident_org_region_actor.
        return list(
            incidents(organisation, f)
            .values("actor_type")
            .annotate(n=Count("*"))
            .order_by("actor_type")
        )
    return _summed(tallied(organisation, f, "akl"), "actor_type")


def evidence_share(organisation: Organisation, f: Filters) -> dict[str, Any]:
    """Of the threat reports filed in Amparo (imported incidents say nothing of evidence),
    how many came with evidence (reference Section 1, Step 2: document the threat)."""
    counts = tallied(organisation, f).aggregate(total=Sum("reported"), documented=Sum("documented"))
    total, documented = counts["total"] or 0, counts["documented"] or 0
    return {
        "total": total,
        "documented": documented,
        "share": documented / total if total else None,
    }


# Alerts: response time = acknowledged_at - raised_at, per tier (DESIGN.md section 5).


def alerts_raised(organisation: Organisation, f: Filters) -> dict[str, Any]:
    rows = (
        Alert.objects.filter(
            organisation=organisation, raised_at__gte=f.since, raised_at__lt=f.until
        )
        .order_by()
        .values("acknowledged_level")
        .annotate(n=Count("*"))
    )
    by_tier = {r["acknowledged_level"]: r["n"] for r in rows}
    return {
        "total": sum(by_tier.values()),
        "unacknowledged": by_tier.pop("", 0),
        "acknowledged": sum(by_tier.values()),
    }


def _acknowledged(organisation: Organisation, f: Filters) -> tuple[str, list[Any]]:
    qs = (
        Alert.objects.filter(
            organisation=organisation,
            raised_at__gte=f.since,
            raised_at__lt=f.until,
            acknowledged_at__isnull=False,
        )
        .exclude(acknowledged_level="")
        .order_by()
        .values("acknowledged_level", "raised_at", "acknowledged_at")
    )
    sql, params = qs.query.sql_with_params()
    return sql, list(params)


def interpolate(values_at: dict[int, float], n: int, p: float) -> float:
    """percentile_cont: the value at position 1 + p(n - 1) of the sorted values, between
    its two neighbours."""
    position = 1 + p * (n - 1)
    low = math.floor(position)
    high = min(low + 1, n)
    return values_at[low] + (position - low) * (values_at[high] - values_at[low])


# INNER is the ORM's own SQL for the acknowledged alerts (_acknowledged), with its params.
PERCENTILES_POSTGRESQL = """
SELECT acknowledged_level, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY s)
FROM (SELECT acknowledged_level, extract(epoch FROM acknowledged_at - raised_at) AS s
      FROM (INNER) AS a) AS t
GROUP BY acknowledged_level
"""
# The rows at the floor and the ceiling of each percentile's position, per tier.
PERCENTILES_SQLITE = """
WITH t AS (SELECT acknowledged_level AS tier,
                  (julianday(acknowledged_at) - julianday(raised_at)) * 86400.0 AS s
           FROM (INNER) AS a),
     r AS (SELECT tier, s, row_number() OVER (PARTITION BY tier ORDER BY s) AS rn,
                  count(*) OVER (PARTITION BY tier) AS n
           FROM t)
SELECT tier, n, rn, s FROM r
WHERE rn IN (CAST(1 + 0.5 * (n - 1) AS INTEGER), CAST(1 + 0.5 * (n - 1) AS INTEGER) + 1,
             CAST(1 + 0.9 * (n - 1) AS INTEGER), CAST(1 + 0.9 * (n - 1) AS INTEGER) + 1)
"""


def response_times(organisation: Organisation, f: Filters) -> list[dict[str, Any]]:
    """Per tier: alerts acknowledged there, and the median and 90th percentile of the
    seconds to acknowledge, computed in SQL (percentile_cont on PostgreSQL; on SQLite a
    window over the sorted times that returns only the rows around each percentile)."""
    inner, params = _acknowledged(organisation, f)
    found: dict[str, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PERCENTILES_POSTGRESQL.replace("INNER", inner), params)
            for tier, n, median, p90 in cursor.fetchall():
                found[tier] = {"count": n, "median": float(median), "p90": float(p90)}
        else:
            cursor.execute(PERCENTILES_SQLITE.replace("INNER", inner), params)
            rows: dict[str, tuple[int, dict[int, float]]] = {}
            for tier, n, rn, seconds in cursor.fetchall():
                rows.setdefault(tier, (n, {}))[1][rn] = float(seconds)
            for tier, (n, values_at) in rows.items():
                found[tier] = {
                    "count": n,
                    "median": interpolate(values_at, n, 0.5),
                    "p90": interpolate(values_at, n, 0.9),
                }
    return [
        {"tier": tier, "label": Tier(tier).label, **found[tier]}
        for tier in Tier.values
        if tier in found
    ]


# Case load: the state now, whatever the period.


def open_cases(organisation: Organisation) -> dict[str, Any]:
    from amparo.crisis.models import CaseState, CrisisCase

    rows = (
        ThreatReport.objects.filter(organisation=organisation)
        .exclude(status=Status.CLOSED)
        .order_by()
        .values("level")
        .annotate(n=Count("*"))
    )
    threats = {r["level"]: r["n"] for r in rows}
    crises = CrisisCase.objects.filter(organisation=organisation, state=CaseState.OPEN).count()
    return {
        "threats": [
            {"level": level, "label": label, "n": threats.get(level, 0)}
            for level, label in Level.choices
        ],
        "threats_total": sum(threats.values()),
        "crises": crises,
    }


def overdue_assessments(organisation: Organisation, today: date) -> int:
    """The risk app's overdue list (risk.views.overdue_list): subjects whose next
    assessment was due before today."""
    from amparo.risk.models import RiskSubject

    return RiskSubject.objects.filter(
        organisation=organisation, archived_at__isnull=True, next_due_on__lt=today
    ).count()


def regions_of(organisation: Organisation) -> list[str]:
    """The regions to filter by (distinct values; the region index serves it)."""
    return list(
        IncidentTally.objects.filter(organisation=organisation, grain="rk")
        .exclude(region="")
        .exclude(n=0)
        .order_by("region")
        .values_list("region", flat=True)
        .distinct()[:500]
    )


# Every query the dashboard runs, by name: the page calls them, and so does the benchmark.
QUERIES = {
    "by_month_and_kind": by_month_and_kind,
    "by_level": by_level,
    "by_region": by_region,
    "by_actor": by_actor,
    "evidence_share": evidence_share,
    "alerts_raised": alerts_raised,
    "response_times": response_times,
}


def indicators(organisation: Organisation, f: Filters, today: date) -> dict[str, Any]:
    figures: dict[str, Any] = {name: query(organisation, f) for name, query in QUERIES.items()}
    figures["open_cases"] = open_cases(organisation)
    figures["overdue_assessments"] = overdue_assessments(organisation, today)
    figures["total"] = sum(r["n"] for r in figures["by_month_and_kind"])
    return figures
