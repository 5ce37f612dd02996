"""Raw database reads and writes for tests that must look past the ORM, the way someone
holding a copy of the database would."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connection, models

from amparo.core.fields import encrypted_fields


def db_pk(model: type[models.Model], pk: Any) -> Any:
    """The primary key as the database stores it (SQLite keeps UUIDs as 32 hex digits)."""
    return model._meta.pk.get_db_prep_value(pk, connection)


def raw_column(model: type[models.Model], column: str, pk: Any) -> Any:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s",  # noqa: S608
            [db_pk(model, pk)],
        )
        row = cursor.fetchone()
    assert row is not None, f"no {model.__name__} row {pk}"
    return row[0]


def sealed_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if encrypted_fields(m)]


def sealed_snapshot() -> dict[tuple[str, str, str], str | None]:
    """Every encrypted column of every row, exactly as stored."""
    snapshot: dict[tuple[str, str, str], str | None] = {}
    for model in sealed_models():
        columns = [f.column for f in encrypted_fields(model)]
        table = connection.ops.quote_name(model._meta.db_table)
        pk_column = connection.ops.quote_name(model._meta.pk.column)
        select = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk_column}, {select} FROM {table}")  # noqa: S608
            for pk, *values in cursor.fetchall():
                for column, value in zip(columns, values, strict=True):
                    snapshot[(model._meta.db_table, str(pk), column)] = value
    return snapshot


def data_key_snapshot() -> list[tuple[str, int, bytes, str, Any]]:
    from amparo.core.models import DataKey

    return [
        (k.scope, k.version, bytes(k.wrapped), k.master_key_id, k.retired_at)
        for k in DataKey.objects.order_by("scope", "version")
    ]


def plaintext_snapshot() -> dict[tuple[str, str, str], Any]:
    """Every encrypted value of every row, opened through the ORM."""
    snapshot: dict[tuple[str, str, str], Any] = {}
    for model in sealed_models():
        for instance in model._base_manager.order_by("pk"):
            for field in encrypted_fields(model):
                snapshot[(model._meta.db_table, str(instance.pk), field.column)] = getattr(
                    instance, field.attname
                )
    return snapshot
