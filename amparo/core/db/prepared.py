"""Writes compiled before their transaction, run inside it.

A write transaction on SQLite holds the database's only write lock from ``BEGIN`` to
``COMMIT`` (amparo/core/db/sqlite3), and on PostgreSQL the audit chain's head row is
locked from its update to the commit. Everything done between those points makes every
other writer wait. Most of a write's time in Django is spent in Python, building and
compiling the statement (each field's ``pre_save``, encryption of sealed fields, value
adaptation, SQL generation), not in the database. So the hot paths (a threat report, a
check-in) build their rows and compile their ``INSERT`` and ``UPDATE`` statements first,
with Django's own compilers, and inside the transaction only execute them:

    report_rows = insert([report])          # compiled now: pre_save, sealing, SQL
    mark = update(Expected.objects.filter(pk=e.pk, state="pending"), state="done")
    with transaction.atomic():
        run(report_rows)
        if run(mark) == 0: ...

What this does not do: return database-generated keys. Objects inserted this way carry
their primary key (a UUID, or a key set by the caller), or the caller says that it needs
no key back (``generated_keys=True``: the escalation steps of a new alert).
The SQL and parameters are exactly what ``bulk_create`` and ``QuerySet.update``
would run, since they come from the same compilers; ``pre_save`` runs at compile time,
so ``auto_now`` values are the time of compiling.

On PostgreSQL ``execute`` (which ``run`` and ``audit.record_many`` use) sends them as
prepared statements, in one round trip, and inserts into different tables with the
statement after them as one statement (amparo/core/db/postgresql/base.py; `_together`).
"""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Field, Model, QuerySet
from django.db.models import sql as django_sql

from amparo.core.ids import time_ordered_id


@dataclass(frozen=True)
class Statements:
    """Compiled statements: (sql, params) pairs, run in order by ``run``."""

    using: str
    parts: tuple[tuple[str, Sequence[Any]], ...]


def insert(
    objs: Iterable[Model], using: str = DEFAULT_DB_ALIAS, *, generated_keys: bool = False
) -> Statements:
    """``INSERT`` statements for model instances of one model (``bulk_create``'s SQL:
    as many rows per statement as the database allows). ``generated_keys``: the rows'
    auto-increment keys are left to the database, and the instances get none."""
    rows = list(objs)
    if not rows:
        return Statements(using, ())
    model = type(rows[0])
    opts = model._meta
    connection = connections[using]
    for obj in rows:
        if type(obj) is not model:
            raise TypeError("insert() takes instances of one model")
        if generated_keys != (obj.pk is None):
            raise ValueError(
                f"{opts.label}: insert() takes rows with their primary key, or with "
                "generated_keys=True rows without one (it returns no keys)"
            )
        obj._prepare_related_fields_for_save(operation_name="insert")  # type: ignore[attr-defined]
    fields = [
        f
        for f in opts.concrete_fields
        if not f.generated and not (generated_keys and f is opts.auto_field)
    ]
    size = max(connection.ops.bulk_batch_size(fields, rows), 1)
    plain = _plain_fields(model, tuple(fields), connection.vendor)
    parts: list[tuple[str, Sequence[Any]]] = []
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        compiled = _plain_insert(model, fields, batch, connection) if plain else None
        if compiled is None:
            query = django_sql.InsertQuery(model)
            query.insert_values(fields, batch, raw=False)
            parts.extend(query.get_compiler(using=using).as_sql())
        else:
            parts.append(compiled)
    for obj in rows:
        obj._state.adding = False
        obj._state.db = using
    return Statements(using, tuple(parts))


@functools.cache
def _plain_fields(model: type[Model], fields: tuple[Any, ...], vendor: str) -> bool:
    """Whether every field takes a plain ``%s``: no database default and no placeholder
    of its own (geometry fields have one), so that the compiler's general path would
    only add time."""
    return not any(
        f.has_db_default() or hasattr(f, "get_placeholder") or getattr(f, "db_returning", False)
        for f in fields
        if not f.primary_key
    )


@functools.cache
def _insert_head(model: type[Model], fields: tuple[Any, ...], rows: int, alias: str) -> str:
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    row = ["%s"] * len(fields)
    values = connection.ops.bulk_insert_sql(fields, [row] * rows)  # type: ignore[list-item]
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) {values}"


def _plain_insert(
    model: type[Model], fields: list[Any], batch: list[Model], connection: Any
) -> tuple[str, list[Any]] | None:
    """``bulk_create``'s statement, built directly: each value through the field's own
    ``pre_save`` and ``get_db_prep_save``, as the compiler does; None when a value is an
    expression (the compiler then takes it)."""
    params: list[Any] = []
    kinds = _value_kinds(tuple(fields), connection.alias, settings.USE_TZ, connection.timezone_name)
    for obj in batch:
        for f, kind in zip(fields, kinds, strict=True):
            if kind is not None:
                value = getattr(obj, f.attname)
                if value is None:
                    params.append(None)
                    continue
                types, convert = kind
                if type(value) in types and (
                    type(value) is not datetime or value.utcoffset() is not None
                ):
                    params.append(value if convert is None else convert(value))
                    continue
                if str in types and isinstance(value, str):  # a choice (a str enum)
                    params.append(value)
                    continue
            value = f.pre_save(obj, True)
            if hasattr(value, "resolve_expression"):
                return None
            params.append(f.get_db_prep_save(value, connection))
    sql = _insert_head(model, tuple(fields), len(batch), connection.alias)
    return sql, params


# Field classes (exactly these, not subclasses: sealed fields subclass TextField) whose
# pre_save reads the attribute and whose get_db_prep_save returns a value of these Python
# types unchanged, on every database.
_PLAIN_TYPES: dict[type[Field[Any, Any]], frozenset[type]] = {
    models.CharField: frozenset({str}),
    models.TextField: frozenset({str}),
    models.SlugField: frozenset({str}),
    models.IntegerField: frozenset({int}),
    models.SmallIntegerField: frozenset({int}),
    models.BigIntegerField: frozenset({int}),
    models.PositiveIntegerField: frozenset({int}),
    models.PositiveSmallIntegerField: frozenset({int}),
    models.BooleanField: frozenset({bool}),
}
# Keys (the standard library's and the time-ordered ones) and aware date-times (a naive
# one still goes through the field, which warns and makes it aware), with what the
# field's get_db_prep_save makes of them: PostgreSQL's uuid and timestamptz columns take
# them as they are, SQLite gets the key's hex digits and the time as naive text in the
# connection's time zone (Django's DatabaseOperations for SQLite).
_UUIDS: frozenset[type] = frozenset({uuid.UUID, type(time_ordered_id())})
_DATETIMES: frozenset[type] = frozenset({datetime})

_Kind = tuple[frozenset[type], Callable[[Any], Any] | None]


@functools.cache
def _value_kinds(
    fields: tuple[Any, ...], alias: str, use_tz: bool, zone: str | None
) -> tuple[_Kind | None, ...]:
    """For each field, the Python types whose values go into the statement as they are
    or through one known conversion (skipping two calls per value: a report has about
    300 values), or None. Cached per connection and time-zone settings."""
    connection = connections[alias]
    return tuple(_kind(f, connection) for f in fields)


def _kind(f: Any, connection: Any) -> _Kind | None:
    plain = _PLAIN_TYPES.get(type(f))
    if plain is not None:
        return plain, None
    key = type(f) is models.UUIDField or (
        type(f) is models.ForeignKey and type(f.target_field) is models.UUIDField
    )
    when = type(f) is models.DateTimeField and not (f.auto_now or f.auto_now_add)
    if connection.vendor == "postgresql":
        if key:
            return _UUIDS, None
        if when:
            return _DATETIMES, None
    elif connection.vendor == "sqlite" and settings.USE_TZ:
        if key:
            return _UUIDS, operator.attrgetter("hex")
        if when:
            zone = connection.timezone
            return _DATETIMES, lambda value: str(value.astimezone(zone).replace(tzinfo=None))
    return None


def update(queryset: QuerySet[Any], **values: Any) -> Statements:
    """The ``UPDATE`` that ``queryset.update(**values)`` would run."""
    query: Any = queryset.query.chain(django_sql.UpdateQuery)
    query.add_update_values(values)
    if query.related_updates:
        raise ValueError("update() of fields of a parent model is not supported")
    query.annotations = {}
    compiler = query.get_compiler(queryset.db)
    compiler.pre_sql_setup()
    sql, params = compiler.as_sql()
    return Statements(queryset.db, ((sql, params),) if sql else ())


def run(*statements: Statements) -> int:
    """Execute compiled statements in order; the number of rows the last one touched.
    Call it inside the transaction the writes belong to.

    On PostgreSQL they cost one round trip, not one each (``execute``): the server runs
    them in order and stops at the first error, which is raised here as from a single
    statement."""
    count = 0
    by_database: dict[str, list[tuple[str, Sequence[Any]]]] = {}
    for compiled in statements:
        by_database.setdefault(compiled.using, []).extend(compiled.parts)
    for using, parts in by_database.items():
        count, _ = execute(connections[using], parts)
    return count


def execute(
    connection: Any, parts: Sequence[tuple[str, Sequence[Any]]], fetch: str | None = None
) -> tuple[int, Any]:
    """Run ``parts`` in order, then the query ``fetch`` (no parameters) if given; the
    last part's row count and ``fetch``'s first row.

    On PostgreSQL they run as prepared statements in one round trip (psycopg's pipeline:
    ``run_prepared`` in amparo/core/db/postgresql/base.py), or, where prepared statements
    are off, as one query with client-side binding; the first error stops the rest."""
    if getattr(connection, "run_prepared", None) is not None and connection.prepares():
        # Outside a transaction each statement commits on its own, so none is merged.
        together = None if connection.get_autocommit() else _together(parts)
        # ``fetch`` stays a statement of its own, after them: it may take a lock (the
        # audit head's), and in a WITH the main statement runs before the inserts are
        # finished, which would take that lock before the tallies' rows, against the
        # order every other writer takes them in, and hold it longer.
        return connection.run_prepared(  # type: ignore[no-any-return]
            [together] if together is not None else parts, fetch
        )
    count, row = 0, None
    with connection.cursor() as cursor:
        if parts and (len(parts) > 1 or fetch) and one_query(connection, parts):
            query, values = joined(parts)
            if fetch is not None:
                query = f"{query}; {fetch}"
            cursor.execute(query, values)
            count = cursor.rowcount
            while cursor.nextset():
                if fetch is None:
                    count = cursor.rowcount
            return count, cursor.fetchone() if fetch is not None else None
        for sql, params in parts:
            cursor.execute(sql, params)
            count = cursor.rowcount
        if fetch is not None:
            cursor.execute(fetch)
            row = cursor.fetchone()
    return count, row


def _together(parts: Sequence[tuple[str, Sequence[Any]]]) -> tuple[str, list[Any]] | None:
    """Inserts into different tables, and the statement after them, as one statement:
    PostgreSQL runs each insert of a ``WITH`` to completion whatever the main statement
    (the last part). One statement to prepare, bind and run instead of one per table: a
    threat report's writes went from ten to one, a third less time in psycopg.

    Only where the result is the same as running them in turn: every part before the
    last an ``INSERT`` with parameters, no two into the same table (an upsert could meet
    its own row), and the last not naming those tables (it would see them as they were
    before the inserts). Foreign keys are checked at the commit (Django makes them
    deferred), so the order of the inserts does not matter; the main statement runs
    first, so it must not be one whose locks have to come after theirs (``execute`` never
    puts a read here). None when the parts are not such."""
    if len(parts) < 2:
        return None
    *ahead, main = parts
    tables: set[str] = set()
    for sql, params in ahead:
        if not params or not sql.startswith("INSERT INTO "):
            return None
        table = sql[len("INSERT INTO ") :].split(" ", 1)[0]
        if table in tables:
            return None
        tables.add(table)
    if any(table.strip('"') in main[0] for table in tables):
        return None
    ctes = ", ".join(f"w{i} AS ({sql})" for i, (sql, _) in enumerate(ahead))
    values = [value for _, params in ahead for value in params]
    return f"WITH {ctes} {main[0]}", [*values, *main[1]]


def one_query(connection: Any, parts: Sequence[tuple[str, Sequence[Any]]]) -> bool:
    """Whether the parts can be sent as one query: PostgreSQL's simple query protocol,
    which client-side binding uses, runs several statements (server-side binding does
    not); each part must have parameters, so that every "%" in it is already escaped."""
    return (
        connection.vendor == "postgresql"
        and not connection.settings_dict["OPTIONS"].get("server_side_binding")
        and all(params for _, params in parts)
        # Outside a transaction the statements of one query would commit together.
        and not connection.get_autocommit()
    )


def joined(parts: Sequence[tuple[str, Sequence[Any]]]) -> tuple[str, list[Any]]:
    """The parts as one query and its parameters (where ``one_query`` allows it)."""
    return "; ".join(sql for sql, _ in parts), [value for _, params in parts for value in params]
