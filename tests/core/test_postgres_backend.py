"""The PostgreSQL backend (amparo/core/db/postgresql/base.py).

Its health check: skipped for a connection that ended its last request cleanly less
than HEALTHY_FOR seconds ago, run otherwise, so a connection the server dropped while
idle is still replaced before the request uses it.

psycopg's cache of parsed queries, opened to long queries: a threat report's writes,
sent as one query of hundreds of parameters, are parsed once.

PostgreSQL only: SQLite has no server to drop a connection and Amparo runs it without
health checks. The requests are played as Django plays them (``close_old_connections``
at the start and at the end), on a connection in autocommit (a transactional test's
open transaction would make Django drop the connection at each of them)."""

from __future__ import annotations

import os

import psycopg
import pytest
from django.db import OperationalError, ProgrammingError, connection

from amparo.core.db.postgresql import base

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL's backend (the suite's other run)"
    ),
]


@pytest.fixture
def checks(monkeypatch):
    """Health checks counted; a persistent connection with health checks on, as served."""
    made: list[bool] = []
    real = connection.is_usable

    def counted() -> bool:
        usable = real()
        made.append(usable)
        return usable

    monkeypatch.setattr(connection, "is_usable", counted)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", None)  # 0 in the tests
    connection.close()
    connection.ensure_connection()
    yield made
    connection.close()


def test_a_long_query_is_parsed_once():
    from psycopg import _queries  # what the backend changes: fails if psycopg renames it

    cache = _queries._query2pg_client
    values = list(range(1200))
    sql = "SELECT " + ", ".join(["%s"] * len(values))
    assert len(values) > 50 and len(sql) > 4096  # beyond psycopg's own limits
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        before = cache.cache_info()
        cursor.execute(sql, values)
        assert cursor.fetchone() == tuple(values)
    after = cache.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses


def request(sql: str = "SELECT 1") -> None:
    connection.close_if_unusable_or_obsolete()  # request_started
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close_if_unusable_or_obsolete()  # request_finished


def test_it_trusts_a_connection_between_requests_and_checks_it_after_a_pause(checks, monkeypatch):
    request()  # a new connection: made, so checked
    request()
    request()
    assert checks == []
    monkeypatch.setattr(base, "HEALTHY_FOR", 0.0)  # the pause outlasts the window
    request()  # trusted by the end of the one before, under the old window
    request()
    assert checks == [True]
    request()
    assert checks == [True, True]
    monkeypatch.setattr(base, "HEALTHY_FOR", 60.0)
    request()  # checked: the one before ended under the zero window
    request()
    request()
    assert checks == [True, True, True]


def test_it_trusts_nothing_from_a_failed_request_but_djangos_own_check(checks, monkeypatch):
    request()
    connection.close_if_unusable_or_obsolete()
    with pytest.raises(ProgrammingError), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    assert checks == []  # the connection was trusted for this request
    monkeypatch.setattr(base, "HEALTHY_FOR", 60.0)
    connection.close_if_unusable_or_obsolete()  # it ends with an error: Django checks
    assert checks == [True]
    request()  # that check was just made
    assert checks == [True]


def test_it_replaces_a_connection_the_server_dropped_while_it_was_idle(checks, monkeypatch):
    request()
    pid = backend_pid()
    terminate(pid)
    monkeypatch.setattr(base, "HEALTHY_FOR", 0.0)  # idle for longer than the window
    request("SELECT 2")  # no error: the check found the dead connection and replaced it
    assert checks == [False]
    assert backend_pid() != pid


def test_within_the_window_a_dropped_connection_fails_one_request_then_is_replaced(checks):
    request()
    pid = backend_pid()
    terminate(pid)
    connection.close_if_unusable_or_obsolete()
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    connection.close_if_unusable_or_obsolete()  # the request ends: checked, closed
    request()
    assert backend_pid() != pid


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def terminate(pid: int) -> None:
    """End a backend from another session, as a server restart or an idle timeout does."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or os.environ.get("PGPASSWORD", ""),
        dbname=settings["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


# Prepared statements for the hot paths (run_prepared, fetch_prepared).

INSERT = "INSERT INTO core_benchping (body, at) VALUES (%s, now())"


def server_prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_hot_paths_statements_are_prepared_on_the_server_once():
    connection.ensure_connection()
    assert connection.prepares()
    connection.run_prepared(
        [(INSERT, ["uno"]), (INSERT, ["dos"])], fetch="SELECT count(*) FROM core_benchping"
    )
    first = server_prepared()
    assert len([s for s in first if "core_benchping" in s]) == 2  # the insert and the count
    count, row = connection.run_prepared(
        [(INSERT, ["tres"])], fetch="SELECT count(*) FROM core_benchping"
    )
    assert row == (3,) and count == 1
    assert server_prepared() == first  # the same statements, not prepared again
    assert connection.fetch_prepared(
        "SELECT body FROM core_benchping WHERE body = %s", ["dos"]
    ) == [("dos",)]
    # Django's own cursors still bind on the client and prepare nothing.
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM core_benchping WHERE body <> %s", ["x"])
        cursor.execute("SELECT body FROM core_benchping WHERE body <> %s", ["x"])
    assert not [s for s in server_prepared() if "<>" in s]


def test_a_new_connection_prepares_again_after_the_server_dropped_the_old(checks, monkeypatch):
    connection.run_prepared([(INSERT, ["uno"])])
    pid = backend_pid()
    terminate(pid)
    monkeypatch.setattr(base, "HEALTHY_FOR", 0.0)
    connection.close_if_unusable_or_obsolete()  # a new request: the check replaces it
    assert connection.fetch_prepared("SELECT count(*) FROM core_benchping", []) == [(1,)]
    assert backend_pid() != pid


def test_prepared_statements_can_be_turned_off(settings):
    settings.AMPARO_DB_PREPARED = False
    assert connection.get_connection_params()["prepare_threshold"] is None
    settings.AMPARO_DB_PREPARED = True
    assert connection.get_connection_params()["prepare_threshold"] == base.PREPARE_THRESHOLD
    options = dict(connection.settings_dict["OPTIONS"], prepare_threshold=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(connection.settings_dict, "OPTIONS", options)
        assert connection.get_connection_params()["prepare_threshold"] is None  # theirs
    connection.close()
    settings.AMPARO_DB_PREPARED = False
    try:
        connection.ensure_connection()
        assert not connection.prepares()
    finally:
        connection.close()
