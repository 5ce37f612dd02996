"""The incident tallies (monitoring.tallies) always equal a recount of the facts, through
every path that writes facts (a report filed, its level changed, evidence added, an import
and a re-import), and every figure read from them equals the same figure counted on the
facts, for any data and any filter (hypothesis)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amparo.incidents import actions
from amparo.incidents.models import Source
from amparo.monitoring import dashboard, grid, map_views, public, tallies
from amparo.monitoring.models import Incident, IncidentTally
from amparo.people.access import OrgContext
from tests.monitoring.test_import_pages import MAPPING, run_tasks, upload, url  # noqa: F401

MONTHS = [date(2023, 11, 1), date(2023, 12, 1), date(2024, 1, 1), date(2024, 2, 1)]
KINDS = ["threat", "attack", "killing"]
LEVELS = ["low", "medium", "high", ""]
REGIONS = ["Madre de Dios", "Pando", "Ucayali", ""]
ACTORS = ["illegal_miners", "hitmen", "unknown"]
PLACES = [(-12.59, -69.18), (-12.9, -69.5), (-11.03, -68.76), None]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def evidence_store(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


def test_filing_changing_levels_and_adding_facts_keep_the_tallies_exact(world):
    reports = []
    for i, answers in enumerate(
        [
            {"physical_violence": True},
            {"physical_violence": False, "attempted_assault": True},
            {"source_illicit_activity": "illegal_mining"},
            {},
        ]
    ):
        body = {
            "verbatim": "Te vamos a encontrar",
            "region": REGIONS[i],
            "lat": "-12.59",
            "lon": "-69.18",
            **answers,
        }
        reports.append(
            actions.report_threat(
                world.focal_point.user, world.org_a, body, source=Source.WEB
            ).report
        )
    assert tallies.differences() == []
    assert IncidentTally.objects.filter(grain="kl").exists()
    actions.change_level(world.coordinator.user, reports[3], "low", "Vaga, sin vínculo")
    actions.change_level(world.coordinator.user, reports[0], "medium", "Revisado")
    assert tallies.differences() == []
    kl = IncidentTally.objects.filter(organisation=world.org_a, grain="kl")
    assert sum(kl.values_list("n", flat=True)) == 4
    assert sum(kl.values_list("reported", flat=True)) == 4


def test_an_import_and_a_reimport_keep_the_tallies_exact(world, login, run_tasks):  # noqa: F811
    client = login(world.coordinator)
    for content in (
        "ref;fecha;pais;tipo;victima;lat;lon\n"
        "a1;2024-03-01;PE;threat;;-12.59;-69.18\n"
        "a2;2024-04-01;BO;killing;;;\n",
        # The same rows again, changed: a re-import updates them in place.
        "ref;fecha;pais;tipo;victima;lat;lon\n"
        "a1;2024-05-01;PE;attack;;-11.03;-68.76\n"
        "a2;2024-04-01;BO;killing;;;\n"
        "a3;2024-04-02;BO;threat;;;\n",
    ):
        job = upload(client, content)
        response = client.post(
            url("monitoring-import-mapping", job_id=job.pk), {**MAPPING, "save_as": ""}
        )
        assert response.status_code == 302
        run_tasks()
    assert Incident.objects.count() == 3
    assert tallies.differences() == []
    kinds = dict(
        IncidentTally.objects.filter(grain="kl")
        .values_list("kind")
        .annotate(n=Sum("n"))
        .values_list("kind", "n")
    )
    assert {k: v for k, v in kinds.items() if v} == {"attack": 1, "killing": 1, "threat": 1}


def test_the_command_checks_and_rebuilds(world):
    org = world.org_a
    tallies.create_facts([_incident(org, MONTHS[0], "threat", "high", "Pando", "hitmen", None)])
    call_command("rebuild_tallies", "--check")
    IncidentTally.objects.filter(organisation=org, grain="kl").update(n=7)
    with pytest.raises(CommandError, match="differ"):
        call_command("rebuild_tallies", "--check")
    call_command("rebuild_tallies", "--organisation", org.slug)
    call_command("rebuild_tallies", "--check")
    assert tallies.differences(org.pk) == []
    # The recount is in the audit log (the checks are not: they change nothing).
    from amparo.core.models import AuditEntry

    entry = AuditEntry.objects.get(action="tallies.rebuilt")
    assert entry.organisation_id == org.pk
    assert entry.details["rows"] > 0


def _incident(org, month, kind, level, region, actor, place, origin="report", evidence=False):
    cell = grid.cell_of(*place).id if place else ""
    return Incident(
        organisation=org,
        origin=origin,
        occurred_on=month + timedelta(days=2),
        month=month,
        country="PE",
        region=region,
        kind=kind,
        level=level,
        actor_type=actor,
        has_evidence=evidence,
        cell=cell,
    )


facts_strategy = st.lists(
    st.tuples(
        st.sampled_from(MONTHS),
        st.sampled_from(KINDS),
        st.sampled_from(LEVELS),
        st.sampled_from(REGIONS),
        st.sampled_from(ACTORS),
        st.sampled_from(PLACES),
        st.sampled_from(["report", "import"]),
        st.booleans(),
        st.integers(min_value=1, max_value=6),
    ),
    max_size=25,
)
filters_strategy = st.builds(
    lambda bounds, region, kind, level: dashboard.Filters(
        start=min(bounds), end=max(bounds), region=region, kind=kind, level=level
    ),
    st.tuples(st.sampled_from(MONTHS), st.sampled_from(MONTHS)),
    st.sampled_from(REGIONS[:3] + [""]),
    st.sampled_from([*KINDS, ""]),
    st.sampled_from(["low", "medium", "high", ""]),
)


def _counted(facts, f, *columns):
    rows = Counter()
    for fact in facts:
        if not (f.start <= fact.month <= f.end):
            continue
        if (f.region and fact.region != f.region) or (f.kind and fact.kind != f.kind):
            continue
        if f.level and fact.level != f.level:
            continue
        rows[tuple(getattr(fact, c) for c in columns)] += 1
    return rows


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=facts_strategy, filters=st.lists(filters_strategy, min_size=1, max_size=4))
def test_every_figure_read_from_the_tallies_equals_a_count_of_the_facts(world, data, filters):
    org = world.org_a
    tallies.delete_facts(Incident.objects.filter(organisation=org))
    facts = []
    for month, kind, level, region, actor, place, origin, evidence, times in data:
        for _ in range(times):
            facts.append(_incident(org, month, kind, level, region, actor, place, origin, evidence))
    random.Random(len(facts)).shuffle(facts)
    tallies.create_facts(facts)
    # Another organisation's facts are never counted.
    tallies.create_facts([_incident(world.org_b, MONTHS[0], "threat", "high", "", "hitmen", None)])
    # Some facts go away again, and are counted out.
    gone = [f.pk for f in facts[::4]]
    tallies.delete_facts(Incident.objects.filter(pk__in=gone))
    facts = [f for f in facts if f.pk not in set(gone)]
    assert tallies.differences() == []

    def as_counter(rows, *columns):
        return Counter({tuple(r[c] for c in columns): r["n"] for r in rows})

    for f in filters:
        assert as_counter(dashboard.by_month_and_kind(org, f), "month", "kind") == _counted(
            facts, f, "month", "kind"
        )
        assert as_counter(dashboard.by_level(org, f), "level") == _counted(facts, f, "level")
        assert as_counter(dashboard.by_region(org, f), "region") == _counted(facts, f, "region")
        assert as_counter(dashboard.by_actor(org, f), "actor_type") == _counted(
            facts, f, "actor_type"
        )
        reported = [x for x in facts if x.origin == "report"]
        share = dashboard.evidence_share(org, f)
        assert share["total"] == sum(_counted(reported, f, "origin").values())
        assert share["documented"] == sum(
            _counted([x for x in reported if x.has_evidence], f, "origin").values()
        )

    # The map's counts per cell, all years, from the yearly tallies.
    ctx = OrgContext(user=world.coordinator.user, organisation=org, roles=frozenset())
    by_cell = Counter(dict(map_views.counts_by_cell(ctx, {})))
    assert by_cell == Counter(x.cell for x in facts if x.cell)
    whole_2024 = {"start": date(2024, 1, 1), "end": date(2024, 12, 31)}
    assert map_views.whole_years(whole_2024)
    assert Counter(dict(map_views.counts_by_cell(ctx, whole_2024))) == Counter(
        x.cell for x in facts if x.cell and x.month.year == 2024
    )

    # The public report's cells: one row per (cell, month, kind) of at least k facts.
    built = public.build(org, MONTHS[0], MONTHS[-1])
    cells = Counter((x.cell, x.month.strftime("%Y-%m"), x.kind) for x in facts if x.cell)
    assert {(r["cell"], r["month"], r["kind"]): r["count"] for r in built["cells"]} == {
        key: n for key, n in cells.items() if n >= public.K
    }


def test_evidence_added_later_moves_the_report_into_the_documented_count(world):
    """A split OpenRosa submission's later part adds files (incidents.actions.add_evidence):
    the fact now has evidence, and its tallies count it as documented."""
    from amparo.incidents import vault
    from tests.incidents.test_api import jpeg_bytes

    body = {"verbatim": "Te vamos a encontrar", "region": "Pando"}
    report = actions.report_threat(
        world.focal_point.user, world.org_a, body, source=Source.WEB
    ).report
    kl = IncidentTally.objects.filter(organisation=world.org_a, grain="kl")
    assert sum(kl.values_list("documented", flat=True)) == 0
    photo = jpeg_bytes()
    staged = vault.stage_stream(world.org_a.pk, "foto.jpg", iter([photo]))
    actions.add_evidence(world.focal_point.user, report, [staged])
    assert Incident.objects.get(report=report).has_evidence
    assert sum(kl.values_list("documented", flat=True)) == 1
    assert sum(kl.values_list("n", flat=True)) == 1
    assert tallies.differences() == []
