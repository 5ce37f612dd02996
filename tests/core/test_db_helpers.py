"""amparo.core.db.loader and amparo.core.db.prepared: the hot paths' reads and writes
give exactly what the ORM gives, sealed fields included."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from amparo.alerts.models import AlertStep
from amparo.core.db import prepared
from amparo.core.db.loader import Loader
from amparo.people import actions as people_actions
from amparo.people.models import Person
from amparo.travel.models import CheckIn, Deployment, DeploymentStatus, ExpectedCheckIn


def fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def deployment(world) -> Deployment:
    return Deployment.objects.create(
        organisation=world.org_a,
        traveller=world.defender_person,
        trip_type="other",
        starts_on=date(2026, 3, 1),
        returns_on=date(2026, 4, 30),
        status=DeploymentStatus.ACTIVE,
    )


def test_a_loader_reads_what_the_orm_reads_with_its_related_rows_cached(world, deployment):
    lead = people_actions.create_person(
        "test", world.org_a, given_names="Lead", family_names="Person", email="l@example.org"
    )
    Deployment.objects.filter(pk=deployment.pk).update(lead=lead)
    loader = Loader(Deployment, ["organisation", "traveller", "lead"])
    found = loader.first("t0.id = %s", [loader.param("id", deployment.pk)])
    expected = Deployment.objects.select_related("organisation", "traveller", "lead").get(
        pk=deployment.pk
    )
    assert found is not None
    assert fields(found) == fields(expected)
    with CaptureQueriesContext(connection) as queries:
        assert fields(found.organisation) == fields(expected.organisation)
        # Sealed fields of the traveller and the lead come back opened, as the ORM's do.
        assert fields(found.traveller) == fields(expected.traveller)
        assert found.traveller.given_names == world.defender_person.given_names
        assert found.lead is not None
        assert found.lead.email == "l@example.org"
    # No row is read again (opening sealed fields reads the organisation's data key).
    assert not [q for q in queries if "core_datakey" not in q["sql"]]
    assert found._state.adding is False


def test_a_loader_gives_none_for_a_missing_row_and_a_null_link(world, deployment):
    loader = Loader(Deployment, ["lead"])
    found = loader.first("t0.id = %s", [loader.param("id", deployment.pk)])
    assert found is not None
    with CaptureQueriesContext(connection) as queries:
        assert found.lead is None
    assert len(queries) == 0
    other = Loader(Person)
    assert other.first("t0.id = %s", [other.param("id", world.org_b.pk)]) is None


def test_a_prepared_insert_writes_what_bulk_create_writes(world, deployment):
    made = CheckIn(
        organisation_id=world.org_a.pk,
        deployment=deployment,
        at=timezone.now(),
        via="web",
        note="llegué",
    )
    made.location = {"lat": -12.59, "lon": -69.19}
    statements = prepared.insert([made])
    assert made._state.adding is False
    with transaction.atomic():
        prepared.run(statements)
    stored = CheckIn.objects.get(pk=made.pk)
    assert fields(stored) == fields(made)
    # The location is sealed on disk, as through the ORM.
    key = CheckIn._meta.pk.get_db_prep_value(made.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT location FROM travel_checkin WHERE id = %s", [key])
        raw = cursor.fetchone()[0]
    assert raw
    assert "-12.59" not in str(raw)


def test_a_prepared_insert_refuses_rows_without_a_key_and_mixed_models(world):
    with pytest.raises(ValueError, match="primary key"):
        prepared.insert([AlertStep(tier_position=0)])
    with pytest.raises(ValueError, match="primary key"):
        prepared.insert([AlertStep(pk=7, tier_position=0)], generated_keys=True)
    with pytest.raises(TypeError):
        prepared.insert([CheckIn(), ExpectedCheckIn()])
    assert prepared.insert([]).parts == ()


def test_a_prepared_update_counts_the_rows_it_changed(world, deployment):
    statement = prepared.update(
        Deployment.objects.filter(pk=deployment.pk, status=DeploymentStatus.ACTIVE),
        status=DeploymentStatus.RETURNED,
    )
    with transaction.atomic():
        assert prepared.run(statement) == 1
        assert prepared.run(statement) == 0
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.RETURNED


def check_in(world, deployment, note: str) -> CheckIn:
    return CheckIn(
        organisation_id=world.org_a.pk,
        deployment=deployment,
        at=timezone.now(),
        via="web",
        note=note,
    )


@pytest.fixture(params=["prepared", "client-side"])
def binding(request, monkeypatch):
    """On PostgreSQL, both ways the hot paths' statements can go: as prepared statements
    in one pipeline (the default), and as one query with client-side binding (with
    AMPARO_DB_PREPARED=false, behind a pooler). SQLite has one way."""
    db = connections["default"]
    if request.param == "client-side":
        if db.vendor != "postgresql":
            pytest.skip("PostgreSQL's second way")
        monkeypatch.setattr(db, "prepares", lambda: False)
    return request.param


def round_trips(queries: CaptureQueriesContext) -> list[list[str]]:
    """The statements captured, grouped by the round trip they went in (a query run
    through Django's cursor is a round trip of its own)."""
    grouped: dict[object, list[str]] = {}
    for i, q in enumerate(queries.captured_queries):
        if q["sql"] not in ("BEGIN", "COMMIT"):
            grouped.setdefault(q.get("round_trip", f"cursor {i}"), []).append(q["sql"])
    return list(grouped.values())


def test_prepared_statements_run_in_order_and_count_the_last(world, deployment, binding):
    first, second = check_in(world, deployment, "uno"), check_in(world, deployment, "dos")
    writes = (
        prepared.insert([first]),
        prepared.insert([second]),
        prepared.update(CheckIn.objects.filter(pk=first.pk), via="sms"),
        prepared.update(CheckIn.objects.filter(pk=deployment.pk), via="api"),  # no such row
    )
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert prepared.run(*writes) == 0
    sent = round_trips(queries)
    if connection.vendor == "postgresql":
        # One round trip: four prepared statements in a pipeline, or one joined query.
        assert len(sent) == 1
        assert len(sent[0]) == (4 if binding == "prepared" else 1)
    else:
        assert len(sent) == 4
    stored = {c.pk: c for c in CheckIn.objects.filter(deployment=deployment)}
    assert stored[first.pk].via == "sms" and stored[first.pk].note == "uno"
    assert stored[second.pk].via == "web" and stored[second.pk].note == "dos"
    with transaction.atomic():
        assert prepared.run(writes[2], writes[2]) == 1
        assert prepared.run(writes[3]) == 0


def test_statements_and_a_read_after_them_give_the_read_s_row(world, deployment, binding):
    made = check_in(world, deployment, "tres")
    table = CheckIn._meta.db_table
    with transaction.atomic():
        count, row = prepared.execute(
            connection,
            prepared.insert([made]).parts,
            fetch=f"SELECT COUNT(*), MAX(via) FROM {table}",  # noqa: S608
        )
        assert tuple(row) == (1, "web")
        # Parameters as Django's cursor takes them: a compiled statement's, even none,
        # so its "%" is written "%%"; none for the query after them ("%" stays).
        update = f"UPDATE {table} SET via = 'a%%b'"  # noqa: S608
        assert prepared.execute(connection, [(update, [])])[0] == 1
        read = f"SELECT via FROM {table} WHERE via LIKE 'a%'"  # noqa: S608
        assert prepared.execute(connection, [], fetch=read)[1] == ("a%b",)
        assert prepared.execute(connection, []) == (0, None)


def test_a_failing_statement_among_prepared_ones_fails_them_all(world, deployment, binding):
    first = check_in(world, deployment, "uno")
    again = check_in(world, deployment, "otra vez")
    again.pk = first.pk  # the same key: the second insert fails
    later = check_in(world, deployment, "después")
    with pytest.raises(IntegrityError), transaction.atomic():
        prepared.run(prepared.insert([first]), prepared.insert([again]), prepared.insert([later]))
    assert not CheckIn.objects.filter(deployment=deployment).exists()
    # The connection is usable afterwards, and so are the statements it prepared.
    with transaction.atomic():
        assert prepared.run(prepared.insert([later]), prepared.insert([first])) == 1
    assert CheckIn.objects.filter(deployment=deployment).count() == 2


def test_prepared_inserts_store_every_kind_of_value_as_the_orm_does(world, binding):
    """Dates, times to the microsecond, keys, choices, JSON values of every shape, text
    with quotes, backslashes and accents come back as the ORM stores them."""
    from datetime import UTC, datetime

    from amparo.incidents.models import ThreatReport

    at = datetime(2026, 11, 29, 11, 32, 5, 123456, tzinfo=UTC)
    shared = {
        "organisation": world.org_a,
        "source": "api",
        "language": "es",
        "occurred_at": at,
        "region": "Madre de Dios",
        "verbatim": "Dijo: \"te vamos a encontrar\" \\ 'ya' — ñandú\nfin",
        "answers": {"physical_violence": None, "signs": ["weapons_shown"], "n": 3, "x": 1.5},
        "reasons": ["illicit_and_knows_work"],
        "rules_level": "medium",
        "level": "medium",
        "created_at": at,
    }
    made = ThreatReport(receipt="PREPARED-1", **shared)
    with transaction.atomic():
        prepared.run(prepared.insert([made]))
    by_orm = ThreatReport.objects.create(receipt="ORM-1", **shared)
    stored, expected = (
        ThreatReport.objects.get(pk=made.pk),
        ThreatReport.objects.get(pk=by_orm.pk),
    )
    skip = {"id", "receipt", "updated_at"}
    assert {k: v for k, v in fields(stored).items() if k not in skip} == {
        k: v for k, v in fields(expected).items() if k not in skip
    }
    assert stored.verbatim == shared["verbatim"] and stored.occurred_at == at


def test_inserts_into_different_tables_go_as_one_statement_on_postgresql(world, deployment):
    """PostgreSQL with prepared statements: inserts into different tables and the
    statement after them become one (the inserts a WITH of it), with the same effect as
    running them in turn; anything else goes as it is."""
    from amparo.core.models import BenchPing

    ping, note = BenchPing(body="uno"), check_in(world, deployment, "uno")
    head = f"SELECT COUNT(*) FROM {BenchPing._meta.db_table}"  # noqa: S608
    writes = [*prepared.insert([ping], generated_keys=True).parts, *prepared.insert([note]).parts]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        # The read after the inserts sees their rows.
        assert prepared.execute(connection, writes, fetch=head)[1] == (1,)
        moved = prepared.update(CheckIn.objects.filter(pk=note.pk), via="sms").parts
        more = [*prepared.insert([BenchPing(body="dos")], generated_keys=True).parts, *moved]
        assert prepared.execute(connection, more)[0] == 1  # the update's count
    sent = round_trips(queries)
    assert CheckIn.objects.get(pk=note.pk).via == "sms"
    assert BenchPing.objects.count() == 2
    if connection.vendor == "postgresql" and connections["default"].prepares():
        # The inserts as one statement, then the read as one of its own in the same
        # round trip (a read may lock, and a WITH would run it before the inserts).
        assert [len(trip) for trip in sent] == [2, 1]
        assert sent[0][0].startswith("WITH w0 AS (INSERT INTO") and sent[0][1] == head
        assert sent[1][0].startswith("WITH w0 AS (INSERT INTO") and "UPDATE" in sent[1][0]


def test_a_failing_insert_in_one_statement_fails_the_others(world, deployment):
    from amparo.core.models import BenchPing

    first = check_in(world, deployment, "uno")
    with transaction.atomic():
        prepared.run(prepared.insert([first]))
    again = check_in(world, deployment, "otra vez")
    again.pk = first.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        prepared.run(
            prepared.insert([BenchPing(body="uno")], generated_keys=True), prepared.insert([again])
        )
    assert not BenchPing.objects.exists()
    assert CheckIn.objects.filter(deployment=deployment).count() == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's cursor")
@pytest.mark.django_db
def test_sqlites_cursor_converts_each_query_once_and_as_django_does():
    from amparo.core.db.sqlite3 import base

    base._qmark.cache_clear()
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("SELECT %s, '100%%', %s", [1, "a"])
            assert cursor.fetchone() == (1, "100%", "a")
        cursor.execute("SELECT %(x)s, %(y)s", {"x": 2, "y": "b"})  # named: Django's way
        assert cursor.fetchone() == (2, "b")
        cursor.execute("SELECT '%s'")  # no parameters: left as it is
        assert cursor.fetchone() == ("%s",)
    info = base._qmark.cache_info()
    assert info.misses == 1 and info.hits == 2


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_each_statement_commits_on_its_own(world, deployment, binding):
    """As through Django's cursor in autocommit: a failing statement leaves the ones
    before it written."""
    first = check_in(world, deployment, "uno")
    again = check_in(world, deployment, "otra vez")
    again.pk = first.pk
    with pytest.raises(IntegrityError):
        prepared.run(
            prepared.update(CheckIn.objects.filter(pk=deployment.pk), via="sms"),
            prepared.insert([first]),
            prepared.insert([again]),
        )
    assert CheckIn.objects.filter(pk=first.pk).exists()
    # Inserts into different tables too (inside a transaction they would be one).
    from amparo.core.models import BenchPing

    with pytest.raises(IntegrityError):
        prepared.run(
            prepared.insert([BenchPing(body="sola")], generated_keys=True),
            prepared.insert([again]),
        )
    assert BenchPing.objects.filter(body="sola").exists()
