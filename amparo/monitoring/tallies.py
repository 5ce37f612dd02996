"""Incident tallies: the facts counted ahead of time (issue 7, DESIGN.md section 9).

A dashboard over ten years of a million incidents cannot count the facts each time it is
shown: even an index-only scan of a million entries takes a second on the 2-core
machine. So every change of a fact (``monitoring.facts`` when a report is filed or its
level changes, ``monitoring.imports`` for each batch of an import) also adds +1 or -1 to
a few ``IncidentTally`` rows, in the same transaction, and the readers sum those rows.

Each grain is one way of cutting the facts; a fact counts once in every grain:

====  =========================  ===============================================
grain period, columns            read by
====  =========================  ===============================================
kl    month, kind, level         dashboard by month and kind, by level, evidence
rk    month, region, kind        dashboard by region (no level chosen); the
                                 public report's areas; the region choices
rkl   month, region, kind, level the kl figures filtered by region; by region
                                 with a level chosen
akl   month, actor, kind, level  dashboard by actor (no region filter)
ck    month, cell, kind          the public report's 10 km cells
cy    year, cell                 the map's counts per cell with no filter
====  =========================  ===============================================

Every row also carries ``reported`` (facts from threat reports filed in Amparo) and
``documented`` (of those, the ones with evidence), for the evidence share.

The changes of one transaction are summed first and written by one statement
(``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``, on SQLite and PostgreSQL),
its rows in a fixed order so that concurrent writers lock them in the same order and
never deadlock. ``rebuild`` recounts an organisation from its facts in SQL (after a raw
load, or to check: ``amparo rebuild-tallies --check``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from amparo.core.db import prepared
from amparo.monitoring.models import Incident, IncidentOrigin, IncidentTally

# grain -> the columns it keeps (besides organisation and period); "cy" counts by year.
GRAINS: dict[str, tuple[str, ...]] = {
    "kl": ("kind", "level"),
    "rk": ("region", "kind"),
    "rkl": ("region", "kind", "level"),
    "akl": ("actor_type", "kind", "level"),
    "ck": ("cell", "kind"),
    "cy": ("cell",),
}
YEARLY = frozenset({"cy"})
# Grains of a place on the grid: a fact without a cell is not counted there.
CELL_GRAINS = frozenset({"ck", "cy"})
COLUMNS = ("region", "kind", "level", "actor_type", "cell")
# What a fact needs for its tallies.
FACT_FIELDS = ("organisation_id", "month", *COLUMNS, "origin", "has_evidence")

Key = tuple[Any, str, date, str, str, str, str, str]  # organisation, grain, period, COLUMNS


def keys_of(fact: dict[str, Any]) -> list[Key]:
    """The tally rows one fact counts in."""
    month: date = fact["month"]
    keys: list[Key] = []
    for grain, kept in GRAINS.items():
        if grain in CELL_GRAINS and not fact["cell"]:
            continue
        period = date(month.year, 1, 1) if grain in YEARLY else month
        values = tuple(fact[c] if c in kept else "" for c in COLUMNS)
        keys.append((fact["organisation_id"], grain, period, *values))  # type: ignore[arg-type]
    return keys


def values_of(incident: Incident) -> dict[str, Any]:
    return {name: getattr(incident, name) for name in FACT_FIELDS}


class Changes:
    """The tally changes of one transaction: facts counted in (+1) and out (-1)."""

    def __init__(self) -> None:
        self.n: Counter[Key] = Counter()
        self.reported: Counter[Key] = Counter()
        self.documented: Counter[Key] = Counter()

    def count(self, fact: dict[str, Any], sign: int = 1) -> None:
        reported = fact["origin"] == IncidentOrigin.REPORT
        documented = reported and bool(fact["has_evidence"])
        for key in keys_of(fact):
            self.n[key] += sign
            if reported:
                self.reported[key] += sign
            if documented:
                self.documented[key] += sign

    def move(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        if before != after:
            self.count(before, -1)
            self.count(after, +1)

    def rows(self) -> list[tuple[Any, ...]]:
        keys = set(self.n) | set(self.reported) | set(self.documented)
        changed = [key for key in keys if self.n[key] or self.reported[key] or self.documented[key]]
        changed.sort(key=lambda k: (str(k[0]), k[1], k[2], *k[3:]))
        return [(*key, self.n[key], self.reported[key], self.documented[key]) for key in changed]

    def save(self) -> int:
        """Write the changes (one statement per few hundred rows); returns the rows."""
        rows = self.rows()
        if rows:
            prepared.run(self.statements())
        return len(rows)

    def statements(self) -> prepared.Statements:
        """The statements that write the changes, compiled now, to run in the caller's
        transaction (with its other writes: amparo/core/db/prepared.py). The changes
        are then taken as written."""
        compiled = _upserts(self.rows())
        for counter in (self.n, self.reported, self.documented):
            counter.clear()
        return compiled


INSERT_COLUMNS = ("organisation_id", "grain", "period", *COLUMNS, "n", "reported", "documented")
CONFLICT_COLUMNS = ("organisation_id", "grain", "period", *COLUMNS)
ROWS_PER_STATEMENT = 500


def _upserts(rows: list[tuple[Any, ...]]) -> prepared.Statements:
    table = IncidentTally._meta.db_table
    org_field = IncidentTally._meta.get_field("organisation")
    period_field = IncidentTally._meta.get_field("period")
    marks = "(" + ", ".join(["%s"] * len(INSERT_COLUMNS)) + ")"
    parts = []
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        params: list[Any] = []
        for org, grain, period, *rest in chunk:
            params.extend(
                (
                    org_field.get_db_prep_value(org, connection),
                    grain,
                    period_field.get_db_prep_value(period, connection),
                    *rest,
                )
            )
        parts.append(
            (
                f"INSERT INTO {table} ({', '.join(INSERT_COLUMNS)}) "  # noqa: S608 - our names
                f"VALUES {', '.join([marks] * len(chunk))} "
                f"ON CONFLICT ({', '.join(CONFLICT_COLUMNS)}) DO UPDATE SET "
                f"n = {table}.n + excluded.n, "
                f"reported = {table}.reported + excluded.reported, "
                f"documented = {table}.documented + excluded.documented",
                params,
            )
        )
    return prepared.Statements(connection.alias, tuple(parts))


def count_in(facts: Iterable[dict[str, Any]]) -> int:
    changes = Changes()
    for fact in facts:
        changes.count(fact)
    return changes.save()


# Rebuilding from the facts, in SQL: one INSERT ... SELECT ... GROUP BY per grain.


def _year_sql() -> str:
    if connection.vendor == "postgresql":
        return "CAST(date_trunc('year', month) AS date)"
    return "strftime('%%Y-01-01', month)"


def _rebuild_sql(grain: str, where: str) -> str:
    kept = GRAINS[grain]
    period = _year_sql() if grain in YEARLY else "month"
    select = ", ".join(c if c in kept else "''" for c in COLUMNS)
    grouped = ", ".join(["organisation_id", period, *kept])
    if grain in CELL_GRAINS:
        where += " AND cell <> ''"
    report = f"origin = '{IncidentOrigin.REPORT}'"
    evidence = "has_evidence" if connection.vendor == "postgresql" else "has_evidence = 1"
    return (
        f"INSERT INTO {IncidentTally._meta.db_table} ({', '.join(INSERT_COLUMNS)}) "  # noqa: S608
        f"SELECT organisation_id, '{grain}', {period}, {select}, COUNT(*), "
        f"SUM(CASE WHEN {report} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {report} AND {evidence} THEN 1 ELSE 0 END) "
        f"FROM {Incident._meta.db_table} WHERE {where} GROUP BY {grouped}"
    )


@transaction.atomic
def rebuild(organisation_id: Any = None) -> int:
    """Recount the tallies of one organisation (or of all) from the facts, in one
    transaction (the readers never see them emptied half-way). Returns the number of
    tally rows written."""
    tallies = IncidentTally.objects.all()
    where, params = "1 = 1", []
    if organisation_id is not None:
        tallies = tallies.filter(organisation_id=organisation_id)
        where = "organisation_id = %s"
        params = [
            IncidentTally._meta.get_field("organisation").get_db_prep_value(
                organisation_id, connection
            )
        ]
    tallies.delete()
    written = 0
    with connection.cursor() as cursor:
        for grain in GRAINS:
            cursor.execute(_rebuild_sql(grain, where), params)
            written += cursor.rowcount
    return written


def differences(organisation_id: Any = None) -> list[tuple[Any, ...]]:
    """Tally rows that do not match a recount of the facts (empty when all is well)."""
    facts = Incident.objects.all()
    tallies = IncidentTally.objects.exclude(n=0, reported=0, documented=0)
    if organisation_id is not None:
        facts = facts.filter(organisation_id=organisation_id)
        tallies = tallies.filter(organisation_id=organisation_id)
    expected = Changes()
    for fact in facts.values(*FACT_FIELDS).iterator(chunk_size=5000):
        expected.count(fact)
    want = {row[:8]: row[8:] for row in expected.rows()}
    have = {
        (row[0], *row[1:8]): row[8:]
        for row in tallies.values_list(
            "organisation_id", "grain", "period", *COLUMNS, "n", "reported", "documented"
        ).iterator(chunk_size=5000)
    }
    return sorted(
        (
            (*key, want.get(key), have.get(key))
            for key in set(want) | set(have)
            if want.get(key) != have.get(key)
        ),
        key=str,
    )


def create_facts(incidents: list[Incident]) -> list[Incident]:
    """Store new facts and count them in, in one transaction (as the importer does for
    each batch)."""
    with transaction.atomic():
        created = Incident.objects.bulk_create(incidents)
        count_in(values_of(incident) for incident in created)
    return created


def delete_facts(facts: QuerySet[Incident]) -> int:
    """Delete facts and count them out, in one transaction."""
    with transaction.atomic():
        changes = Changes()
        for fact in facts.values(*FACT_FIELDS).iterator(chunk_size=5000):
            changes.count(fact, -1)
        deleted, _ = facts.delete()
        changes.save()
    return deleted
