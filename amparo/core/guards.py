"""Database triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on the
append-only tables: the audit log and the evidence custody log. Code that bypasses the
models still cannot rewrite history. ``flush`` lifts them for its duration."""

from __future__ import annotations

from typing import Any

# Every append-only table, with the migration that creates its guard.
TABLES = ("core_auditentry", "incidents_custodyevent", "crisis_timelineentry")


def _sqlite(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update
           BEFORE UPDATE ON {table}
           BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete
           BEFORE DELETE ON {table}
           BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
    ]


def _sqlite_drop(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update",
        f"DROP TRIGGER IF EXISTS {table}_no_delete",
    ]


def _postgres(table: str) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
           FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
           FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()""",
    ]


def _postgres_drop(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_append_only() CASCADE",
    ]


def _run(connection: Any, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _existing(connection: Any, tables: tuple[str, ...]) -> list[str]:
    with connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
    return [t for t in tables if t in present]


def install(connection: Any, tables: tuple[str, ...] = TABLES) -> None:
    for table in _existing(connection, tables):
        _run(connection, _postgres(table) if connection.vendor == "postgresql" else _sqlite(table))


def remove(connection: Any, tables: tuple[str, ...] = TABLES) -> None:
    for table in _existing(connection, tables):
        _run(
            connection,
            _postgres_drop(table) if connection.vendor == "postgresql" else _sqlite_drop(table),
        )
