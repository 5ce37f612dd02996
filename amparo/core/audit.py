"""Writing and verifying the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import connections, models, router, transaction
from django.utils import timezone

from amparo.core.db import prepared
from amparo.core.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def actor_label(user: Any) -> str:
    """How an entry names who acted: ``user:<id>``, ``anonymous`` or a system name."""
    if user is None:
        return "system"
    if isinstance(user, str):
        return user
    if getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return "anonymous"


def canonical(
    seq: int,
    at: datetime,
    actor: str,
    organisation_id: UUID | str | None,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any],
) -> bytes:
    return json.dumps(
        [
            seq,
            at.astimezone(UTC).isoformat(),
            actor,
            str(organisation_id) if organisation_id else None,
            action,
            object_type,
            object_id,
            details,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def chain_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + content).hexdigest()


def record(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    organisation_id: UUID | str | None = None,
    details: dict[str, Any] | None = None,
    after: Sequence[prepared.Statements] = (),
) -> AuditEntry:
    """Append one entry. Call it inside the action's transaction, so the entry commits
    or rolls back with the change it describes (``after``: as for ``record_many``)."""
    return record_many([Pending(actor, action, obj, organisation_id, details or {})], after)[0]


@dataclass(frozen=True)
class Pending:
    """An entry to append later with ``record_many``: a batch of work (the escalation
    clock) takes the chain's head lock once, at the end, instead of once per entry."""

    actor: Any
    action: str
    obj: models.Model | None = None
    organisation_id: UUID | str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def record_many(
    pending: list[Pending], after: Sequence[prepared.Statements] = ()
) -> list[AuditEntry]:
    """Append entries in order, in one statement, under one lock of the chain's head.
    Call it inside the transaction of the changes the entries describe; ``after``:
    those changes, compiled (amparo/core/db/prepared.py), to run first. On PostgreSQL
    they go in one query with the read of the head.

    The head is read, the entries inserted and the head moved with plain SQL: from the
    head's lock to the commit every other writer waits (on PostgreSQL for the head row,
    on SQLite for the whole database), so nothing is compiled in between
    (amparo/core/db/prepared.py)."""
    if not pending:
        prepared.run(*after)
        return []
    described = []
    for item in pending:
        obj = item.obj
        organisation_id = item.organisation_id
        if organisation_id is None and obj is not None:
            organisation_id = getattr(obj, "organisation_id", None)
        described.append(
            (
                actor_label(item.actor),
                organisation_id,
                item.action,
                obj._meta.label_lower if obj is not None else "",
                str(obj.pk) if obj is not None else "",
                item.details,
            )
        )
    connection = connections[router.db_for_write(AuditEntry)]
    sql = _statements(connection)
    fields = {f.name: f for f in AuditEntry._meta.concrete_fields}
    entries, rows = [], []
    writes = [part for compiled in after for part in compiled.parts]
    with transaction.atomic(using=connection.alias, savepoint=False):
        if all(c.using == connection.alias for c in after):
            _, (seq, last_hash) = prepared.execute(connection, writes, fetch=sql.head)
        else:
            prepared.run(*after)
            _, (seq, last_hash) = prepared.execute(connection, [], fetch=sql.head)
        for label, organisation_id, action, object_type, object_id, details in described:
            seq += 1
            at = timezone.now()
            content = canonical(
                seq, at, label, organisation_id, action, object_type, object_id, details
            )
            entry = AuditEntry(
                seq=seq,
                at=at,
                actor=label,
                organisation_id=organisation_id,
                action=action,
                object_type=object_type,
                object_id=object_id,
                details=details,
                prev_hash=last_hash,
                entry_hash=chain_hash(last_hash, content),
            )
            rows.append(
                tuple(
                    fields[name].get_db_prep_save(getattr(entry, fields[name].attname), connection)
                    for name in _ENTRY_COLUMNS
                )
            )
            entries.append(entry)
            last_hash = entry.entry_hash
        append = (
            f"{sql.insert_head} VALUES {', '.join([sql.row] * len(rows))}",
            [value for row in rows for value in row],
        )
        prepared.execute(connection, [append, (sql.move, [seq, last_hash])])
    for entry in entries:
        entry._state.adding, entry._state.db = False, connection.alias
    return entries


_ENTRY_COLUMNS = (
    "seq",
    "at",
    "actor",
    "organisation_id",
    "action",
    "object_type",
    "object_id",
    "details",
    "prev_hash",
    "entry_hash",
)


@dataclass(frozen=True)
class _Sql:
    head: str
    insert_head: str
    row: str
    insert: str
    move: str


_SQL: dict[str, _Sql] = {}


def _statements(connection: Any) -> _Sql:
    """The three statements, written once per kind of database."""
    sql = _SQL.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name
        entries, head = quote(AuditEntry._meta.db_table), quote(AuditHead._meta.db_table)
        fields = {f.name: f for f in AuditEntry._meta.concrete_fields}
        columns = ", ".join(quote(fields[name].column) for name in _ENTRY_COLUMNS)
        marks = ", ".join(["%s"] * len(_ENTRY_COLUMNS))
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        # Table and column names come from the models, never from input.
        sql = _SQL[connection.vendor] = _Sql(
            head=f"SELECT seq, last_hash FROM {head} WHERE id = 1{lock}",  # noqa: S608
            insert_head=f"INSERT INTO {entries} ({columns})",  # noqa: S608
            row=f"({marks})",
            insert=f"INSERT INTO {entries} ({columns}) VALUES ({marks})",  # noqa: S608
            move=f"UPDATE {head} SET seq = %s, last_hash = %s WHERE id = 1",  # noqa: S608
        )
    return sql


@dataclass(frozen=True)
class ChainBreak:
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"audit entry #{self.seq}" if self.seq is not None else "audit log"
        return f"{where}: {self.reason}"


def verify_chain(entries: Iterator[AuditEntry] | None = None) -> tuple[int, list[ChainBreak]]:
    """Recompute the chain. Returns how many entries were checked and every break."""
    breaks: list[ChainBreak] = []
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    rows = entries if entries is not None else AuditEntry.objects.order_by("seq").iterator(2000)
    for entry in rows:
        count += 1
        if entry.seq != expected_seq:
            breaks.append(ChainBreak(entry.seq, f"expected #{expected_seq}: entries are missing"))
        if entry.prev_hash != prev_hash:
            breaks.append(ChainBreak(entry.seq, "does not link to the entry before it"))
        content = canonical(
            entry.seq,
            entry.at,
            entry.actor,
            entry.organisation_id,
            entry.action,
            entry.object_type,
            entry.object_id,
            entry.details,
        )
        if chain_hash(entry.prev_hash, content) != entry.entry_hash:
            breaks.append(ChainBreak(entry.seq, "its content does not match its hash (altered)"))
        prev_hash = entry.entry_hash
        expected_seq = entry.seq + 1
    head = AuditHead.objects.filter(pk=1).first()
    if entries is None and head is not None:
        if head.seq != count or head.last_hash != prev_hash:
            breaks.append(
                ChainBreak(None, f"the chain ends at #{count} but its head says #{head.seq}")
            )
    return count, breaks
