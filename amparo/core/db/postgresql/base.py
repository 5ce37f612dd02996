"""Django's PostgreSQL backend, with the health check skipped for a connection that has
just proved itself, and psycopg's cache of parsed queries open to the long ones.

With ``CONN_HEALTH_CHECKS`` Django runs ``SELECT 1`` before the first query of every
request on a persistent connection, so that a connection the server dropped while it sat
idle (a restart, an idle timeout, a failover) is replaced instead of failing the request.
Under load that is one more round trip per request for a connection that finished the
previous request without an error a few milliseconds ago: on the intake benchmark it was
a tenth of the web workers' time.

Here a connection whose last request used it and ended with no database error is taken
as healthy for ``HEALTHY_FOR`` seconds; after that, or after any error, the check runs
as before. The window is far shorter than any idle timeout; a server that ends sessions
inside it fails the one request that finds it out, as it would mid-request anyway, and
Django closes that connection when the request ends (``errors_occurred``).

psycopg binds parameters on the client (Django's default): it finds the placeholders of
a query, then puts each value in. It keeps the first step in a cache, but only for
queries of at most 50 parameters and 4 KB. A threat report's writes go as one query
(amparo/core/db/prepared.py) of about 600 parameters and 30 KB, the same text for every
report of the same shape, and finding its placeholders again each time took a sixth of
a report's CPU. The two limits are raised here (psycopg reads them at each query; the
cache keeps its 128 entries). They are psycopg's module constants, not its documented
API: tests/core/test_postgres_backend.py fails if a new psycopg drops or renames them.

Prepared statements for the hot paths. The statements a threat report or a check-in
runs are the same few texts every time, but with client-side binding the server parses,
analyses and plans each of them anew: on the intake benchmark that was two fifths of the
server's time per report (``perf``, 2026-11-29). ``run_prepared`` and ``fetch_prepared``
run them with server-side binding as prepared statements instead (psycopg keeps the 100
last per connection), several in one round trip through psycopg's pipeline mode. Django
turns prepared statements off, for connection poolers in transaction mode
(``prepare_threshold`` None); here they are on unless ``AMPARO_DB_PREPARED`` is false or
the OPTIONS set ``prepare_threshold`` or ``server_side_binding``, and only these two
methods use them: Django's own cursors bind on the client and never prepare. Behind
such a pooler set ``AMPARO_DB_PREPARED=false`` (docs/operations.md), or use PgBouncer
1.21 or newer with ``max_prepared_statements``. The statements they run are logged as
Django logs its own (``connection.queries`` and the ``django.db.backends`` logger), each
entry with the number of the round trip it went in.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from django.db.backends.utils import logger
from psycopg import _queries

_queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 2000)
_queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 128 * 1024)

# Seconds a connection stays trusted after a request that used it ended cleanly.
HEALTHY_FOR = 1.0


# psycopg's default; the cursors of run_prepared and fetch_prepared ask for preparation
# at once, and Django's own cursors (client-side binding) never prepare, whatever it is.
PREPARE_THRESHOLD = 5


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_done: bool  # Django's, set in its __init__
    _trusted_until = 0.0
    _binding: psycopg.Cursor[Any] | None = None
    round_trips = 0  # of run_prepared and fetch_prepared, numbering their logged queries

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        options = self.settings_dict["OPTIONS"]
        # With Django's own server-side binding turned on, its cursors would prepare too:
        # that case keeps Django's setting (prepared statements off unless set).
        if "prepare_threshold" not in options and not options.get("server_side_binding"):
            prepared = getattr(settings, "AMPARO_DB_PREPARED", True)
            params["prepare_threshold"] = PREPARE_THRESHOLD if prepared else None
        return params

    def prepares(self) -> bool:
        """Whether ``run_prepared`` and ``fetch_prepared`` may be used (else the caller
        takes Django's cursor)."""
        if self.connection is None:
            self.ensure_connection()
        return self.connection.prepare_threshold is not None

    def _binding_cursor(self) -> psycopg.Cursor[Any]:
        """A cursor with server-side binding on the current connection (what Django's
        ``cursor()`` checks first, checked)."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        self.validate_thread_sharing()
        self.validate_no_broken_transaction()
        cursor = self._binding
        if cursor is None or cursor.connection is not self.connection or cursor.closed:
            cursor = self._binding = psycopg.Cursor(self.connection)
        return cursor

    def run_prepared(
        self,
        parts: Sequence[tuple[str, Sequence[Any]]],
        fetch: str | None = None,
    ) -> tuple[int, Any]:
        """Run the statements in order as prepared statements, in one round trip, then
        the query ``fetch`` (no parameters) if given; the last statement's row count and
        ``fetch``'s first row. The first error stops the rest and is raised as Django
        raises it. Parameters go as Django's cursor passes them: a statement's, even
        empty ("%%" is then "%"), and none for ``fetch`` (its "%" stays)."""
        statements: list[tuple[str, Sequence[Any] | None]] = [*parts]
        if fetch is not None:
            statements.append((fetch, None))
        if not statements:
            return 0, None
        cursor = self._binding_cursor()
        started = time.monotonic()
        try:
            with self.wrap_database_errors:
                if len(statements) == 1 or self.get_autocommit():
                    # Outside a transaction each statement commits on its own, as
                    # through Django's cursor (a pipeline would make them one).
                    for sql, params in statements:
                        cursor.execute(sql, params, prepare=True)
                else:
                    with self.connection.pipeline():
                        for sql, params in statements:
                            cursor.execute(sql, params, prepare=True)
                count = cursor.rowcount
                row = cursor.fetchone() if fetch is not None else None
        finally:
            self._log([sql for sql, _ in statements], started)
        return count, row

    def fetch_prepared(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of one query, run as a prepared statement."""
        cursor = self._binding_cursor()
        started = time.monotonic()
        try:
            with self.wrap_database_errors:
                cursor.execute(sql, params, prepare=True)
                return cursor.fetchall()
        finally:
            self._log([sql], started)

    def _log(self, statements: list[str], started: float) -> None:
        """As Django's debug cursor logs what it runs (``connection.queries``)."""
        self.round_trips += 1
        if not self.queries_logged:
            return
        each = (time.monotonic() - started) / len(statements)
        for sql in statements:
            self.queries_log.append(
                {"sql": sql, "time": f"{each:.3f}", "round_trip": self.round_trips}
            )
            logger.debug("(%.3f) %s; (prepared)", each, sql, extra={"duration": each, "sql": sql})

    def close_if_unusable_or_obsolete(self) -> None:
        # Called when a request starts and when it ends. ``health_check_done`` is true
        # only at the end of a request that ran a query (and was checked or trusted).
        if self.connection is not None and self.health_check_done:
            self._trusted_until = 0.0 if self.errors_occurred else time.monotonic() + HEALTHY_FOR
        super().close_if_unusable_or_obsolete()

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and not self.health_check_done
            and time.monotonic() < self._trusted_until
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close(self) -> None:
        self._trusted_until = 0.0
        self._binding = None
        super().close()
