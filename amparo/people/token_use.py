"""When an API token was last used: bookkeeping, batched.

``ApiToken.last_used_at`` tells an administrator which integrations are alive; it is not
an audited change and it is kept to the minute. Writing it from the request that used the
token made a check-in two write transactions instead of one (bench/checkins.py: every
traveller has a token of their own, so nearly every check-in was a token's first use in
its minute, and on SQLite each write is a turn at the only write lock). So a use is noted
in memory, and a process writes the uses it noted in one transaction once
``FLUSH_AFTER`` has passed since the oldest unwritten one: at the next request it serves
(see ``flush_if_due``, connected to ``request_finished``) or when it exits. A process
killed with SIGKILL loses at most that much bookkeeping, never a request's data.
"""

from __future__ import annotations

import atexit
import logging
import threading
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

RESOLUTION = timedelta(minutes=1)
FLUSH_AFTER = timedelta(seconds=10)

_lock = threading.Lock()
_pending: dict[UUID, datetime] = {}
_oldest: datetime | None = None


def note(token_id: UUID, last_written: datetime | None, now: datetime | None = None) -> None:
    """Note a use of the token; ``last_written`` is the ``last_used_at`` read with it."""
    global _oldest
    now = now or timezone.now()
    with _lock:
        seen = _pending.get(token_id) or last_written
        if seen is not None and now - seen < RESOLUTION:
            return
        _pending[token_id] = now
        if _oldest is None:
            _oldest = now
    flush_if_due(now)


def flush_if_due(now: datetime | None = None, **_signal: Any) -> None:
    oldest = _oldest
    if oldest is not None and (now or timezone.now()) - oldest >= FLUSH_AFTER:
        try:
            flush()
        except DatabaseError:
            # Kept for the next try; the request that triggered it has its answer.
            logger.warning("token uses not written yet", exc_info=True)


def flush() -> int:
    """Write every noted use now, in one transaction; how many tokens were written."""
    global _oldest
    with _lock:
        batch = dict(_pending)
        _pending.clear()
        _oldest = None
    if not batch:
        return 0
    from amparo.people.models import ApiToken

    meta = ApiToken._meta
    at_field = meta.get_field("last_used_at")
    try:
        # One statement for the batch (executemany), never moving a time backwards; on
        # SQLite the transaction queues with the other writers (amparo/core/db/sqlite3).
        with transaction.atomic(), connection.cursor() as cursor:
            quote = connection.ops.quote_name
            table, pk, column = quote(meta.db_table), quote(meta.pk.column), quote("last_used_at")
            rows = []
            for token_id, at in batch.items():
                value = at_field.get_db_prep_value(at, connection)
                rows.append((value, meta.pk.get_db_prep_value(token_id, connection), value))
            cursor.executemany(
                f"UPDATE {table} SET {column} = %s WHERE {pk} = %s "  # noqa: S608 - names from the model
                f"AND ({column} IS NULL OR {column} < %s)",
                rows,
            )
    except Exception:
        # Noted again for the next flush: a busy database must not lose the bookkeeping.
        with _lock:
            for token_id, at in batch.items():
                if token_id not in _pending or _pending[token_id] < at:
                    _pending[token_id] = at
            _oldest = min(_pending.values()) if _pending else None
        raise
    return len(batch)


def discard() -> None:
    """Forget what was noted (tests: each test's database is its own)."""
    global _oldest
    with _lock:
        _pending.clear()
        _oldest = None


def _flush_at_exit() -> None:
    try:
        flush()
    except Exception:  # noqa: S110 - the process is ending; nothing is left to tell
        pass


atexit.register(_flush_at_exit)
