"""Database triggers that refuse UPDATE and DELETE on the audit log, so that code which
bypasses the model still cannot rewrite history. ``flush`` lifts them for its duration."""

from __future__ import annotations

from typing import Any

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS core_auditentry_no_update
       BEFORE UPDATE ON core_auditentry
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS core_auditentry_no_delete
       BEFORE DELETE ON core_auditentry
       BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_auditentry_no_update",
    "DROP TRIGGER IF EXISTS core_auditentry_no_delete",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION core_auditentry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry",
    """CREATE TRIGGER core_auditentry_append_only BEFORE UPDATE OR DELETE ON core_auditentry
       FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only()""",
    "DROP TRIGGER IF EXISTS core_auditentry_no_truncate ON core_auditentry",
    """CREATE TRIGGER core_auditentry_no_truncate BEFORE TRUNCATE ON core_auditentry
       FOR EACH STATEMENT EXECUTE FUNCTION core_auditentry_append_only()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry",
    "DROP TRIGGER IF EXISTS core_auditentry_no_truncate ON core_auditentry",
    "DROP FUNCTION IF EXISTS core_auditentry_append_only()",
]


def _run(connection: Any, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(connection: Any) -> None:
    _run(connection, POSTGRES if connection.vendor == "postgresql" else SQLITE)


def remove(connection: Any) -> None:
    _run(connection, POSTGRES_DROP if connection.vendor == "postgresql" else SQLITE_DROP)
