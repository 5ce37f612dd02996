"""Django's SQLite backend, with writers queued on locks that wake them at once.

SQLite has one write lock per database. With ``transaction_mode`` IMMEDIATE every
``transaction.atomic`` block takes it at ``BEGIN``; a second writer that finds it taken
waits in SQLite's busy handler, which sleeps in growing naps (1, 2, 5, 10 ... up to
100 ms) between tries, so the lock often sits free while the waiters sleep: under load
some requests wait seconds for a lock that is free most of the time.

Here a writer queues first on two locks of its own, then begins:

1. the threads of one process, on a ``threading.Lock`` (a thread that waits sleeps in
   the kernel and is woken the moment the lock is released);
2. the processes (the web server's, the worker), on an exclusive ``flock`` of a file
   beside the database (``<database>-writers``), tried every half millisecond to two
   milliseconds; the kernel releases it if its process dies.

Both are taken at ``BEGIN`` and released when the transaction ends (commit, rollback,
the connection closed, autocommit restored). Neither is waited on for longer than the
busy timeout (``OPTIONS["timeout"]``): after that the writer goes on to ``BEGIN`` and
SQLite decides, as without these locks, so a transaction left open can slow writers
down but never deadlock them. In-memory databases (the test suite's) are shared by the
threads of a test through one connection and are left as Django has them.
"""

from __future__ import annotations

import fcntl
import functools
import os
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base

# One per process: every connection of every thread. One database per process is the
# norm here; two would only share a queue.
_writers = threading.Lock()
# The lock file of each database, opened once per process (only under ``_writers``),
# with the process that opened it: an flock belongs to the open file, which a forked
# child shares with its parent, so a child opens its own.
_lock_files: dict[str, tuple[int, int]] = {}

# The stubs leave out the private transaction hooks overridden here.
_SQLiteWrapper: Any = base.DatabaseWrapper


def _lock_file(database: str) -> int:
    opened = _lock_files.get(database)
    if opened is not None and opened[0] == os.getpid():
        return opened[1]
    fd = os.open(f"{database}-writers", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    _lock_files[database] = (os.getpid(), fd)
    return fd


def _flock(fd: int, deadline: float) -> bool:
    """The file lock, tried until ``deadline`` (monotonic): True once held."""
    pause = 0.0005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.002)


@functools.lru_cache(maxsize=1024)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


_SQLiteCursor: Any = base.SQLiteCursorWrapper


class CursorWrapper(_SQLiteCursor):
    """Django's, with each query's "%s" to "?" conversion done once: the hot paths run
    the same texts every time (a threat report's thirteen took 128 µs of regular
    expressions a report), and sqlite3's own statement cache keys on the converted text."""

    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(_SQLiteWrapper):
    _holds_writers = False
    _holds_file: int | None = None

    def create_cursor(self, name: Any = None) -> Any:
        return self.connection.cursor(factory=CursorWrapper)

    def _writers_timeout(self) -> float:
        return float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))

    def _start_transaction_under_autocommit(self) -> None:
        took = False
        fd: int | None = None
        if not self.is_in_memory_db():
            deadline = time.monotonic() + self._writers_timeout()
            took = _writers.acquire(timeout=self._writers_timeout())
            if took:
                candidate = _lock_file(str(self.settings_dict["NAME"]))
                if _flock(candidate, deadline):
                    fd = candidate
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._holds_writers, self._holds_file = took, fd
            self._release_writers()
            raise
        self._holds_writers, self._holds_file = took, fd

    def _release_writers(self) -> None:
        fd, self._holds_file = self._holds_file, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
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
