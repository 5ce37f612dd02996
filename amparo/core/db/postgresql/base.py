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
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base
from psycopg import _queries

_queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 2000)
_queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 128 * 1024)

# Seconds a connection stays trusted after a request that used it ended cleanly.
HEALTHY_FOR = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_done: bool  # Django's, set in its __init__
    _trusted_until = 0.0

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
        super().close()
