"""Django's SQLite backend, with the writers of one process queued on a mutex.

SQLite has one write lock per database. With ``transaction_mode`` IMMEDIATE every
``transaction.atomic`` block takes it at ``BEGIN``; a second writer that finds it taken
waits in SQLite's busy handler, which sleeps in growing naps (1, 2, 5, 10 ... up to
100 ms) between tries, so the lock often sits free while the waiters sleep. The web
process serves requests from several threads, and they are the writers that meet most
often: here they queue on a ``threading.Lock`` first, and the next one begins the moment
the last one commits. Other processes (the worker) still meet at SQLite's lock.

The mutex is taken at ``BEGIN`` and released when the transaction ends (commit,
rollback, the connection closed, autocommit restored). It is never waited on for longer
than the busy timeout: after that the writer goes on to ``BEGIN`` and SQLite decides, as
without the mutex, so a transaction left open elsewhere in the process can slow writers
down but never deadlock them. In-memory databases (the test suite's) are shared by the
threads of a test through one connection and are left as Django has them.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.backends.sqlite3 import base

# One per process: every connection of every thread to any file database. One database
# per process is the norm here; two would only share a queue.
_writers = threading.Lock()

# The stubs leave out the private transaction hooks overridden here.
_SQLiteWrapper: Any = base.DatabaseWrapper


class DatabaseWrapper(_SQLiteWrapper):
    _holds_writers = False

    def _writers_timeout(self) -> float:
        return float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))

    def _start_transaction_under_autocommit(self) -> None:
        took = False
        if not self.is_in_memory_db():
            took = _writers.acquire(timeout=self._writers_timeout())
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            if took:
                _writers.release()
            raise
        self._holds_writers = took

    def _release_writers(self) -> None:
        if self._holds_writers:
            self._holds_writers = False
            _writers.release()

    def _commit(self) -> Any:
        try:
            return super()._commit()
        finally:
            self._release_writers()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()
        finally:
            self._release_writers()

    def _close(self) -> Any:
        try:
            return super()._close()
        finally:
            self._release_writers()

    def _set_autocommit(self, autocommit: bool) -> None:
        super()._set_autocommit(autocommit)
        if autocommit:
            self._release_writers()
