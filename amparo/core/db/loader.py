"""Reading model instances with SQL written once, for the few reads on hot paths.

Building and compiling a QuerySet costs far more than running it here: reading a
deployment by its key took 435 microseconds through the ORM (1 ms with its organisation
and traveller joined), of which SQLite needed about 20 (bench/checkins.py, 2026-11-29).
A check-in or a threat report makes four or five such reads before it writes. A
``Loader`` writes the ``SELECT`` of a model's columns (and of the models that named
foreign keys point to, joined) once, and turns each row into instances with the same
converters and ``Model.from_db`` that a QuerySet uses, so sealed fields, UUIDs, dates
and JSON come back exactly as they would through the ORM, with the related instances
cached as ``select_related`` caches them.

The caller writes the ``WHERE`` (and any ``ORDER BY``/``LIMIT``) against the aliases
``t0`` (the model) and ``t1``, ``t2``... (the related models, in the order given), and
passes its values through ``param`` so they are adapted as the ORM adapts them. Only the
reads measured to matter use it; everything else stays on the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, ForeignKey, Model

M = TypeVar("M", bound=Model)

Converter = Callable[[Any, Any, Any], Any]


class _Part:
    def __init__(self, model: type[Model], alias: str, vendor_ops: Any, connection: Any) -> None:
        self.model = model
        self.fields: list[Field[Any, Any]] = [
            f for f in model._meta.concrete_fields if not f.generated
        ]
        self.attnames = [f.attname for f in self.fields]
        quote = vendor_ops.quote_name
        self.columns = [f"{alias}.{quote(f.column)}" for f in self.fields]
        self.converters: list[list[tuple[Converter, Any]]] = []
        for f in self.fields:
            col = f.get_col(alias)
            own: list[Converter] = f.get_db_converters(connection)  # type: ignore[attr-defined]
            found = vendor_ops.get_db_converters(col) + own
            self.converters.append([(c, col) for c in found])


class Loader(Generic[M]):
    """``Loader(Deployment, ["organisation", "traveller"])``: then
    ``loader.first("t0.id = %s", [loader.param("id", pk)])``."""

    def __init__(
        self, model: type[M], related: Sequence[str] = (), using: str = DEFAULT_DB_ALIAS
    ) -> None:
        self.model = model
        self.related = list(related)
        self.using = using
        self._built: dict[str, tuple[str, list[_Part], list[ForeignKey[Any, Any]]]] = {}

    def _build(self) -> tuple[str, list[_Part], list[ForeignKey[Any, Any]]]:
        connection = connections[self.using]
        built = self._built.get(connection.vendor)
        if built is not None:
            return built
        ops, quote = connection.ops, connection.ops.quote_name
        parts = [_Part(self.model, "t0", ops, connection)]
        joins, links = [], []
        for i, name in enumerate(self.related, start=1):
            link = self.model._meta.get_field(name)
            if not isinstance(link, ForeignKey):
                raise TypeError(f"{self.model._meta.label}.{name} is not a foreign key")
            target = link.related_model
            assert isinstance(target, type)
            parts.append(_Part(target, f"t{i}", ops, connection))
            kind = "LEFT OUTER JOIN" if link.null else "INNER JOIN"
            joins.append(
                f"{kind} {quote(target._meta.db_table)} t{i} "
                f"ON t{i}.{quote(link.target_field.column)} = t0.{quote(link.column)}"
            )
            links.append(link)
        columns = ", ".join(c for part in parts for c in part.columns)
        table = quote(self.model._meta.db_table)
        head = f"SELECT {columns} FROM {table} t0 " + " ".join(joins)  # noqa: S608 - model names
        built = self._built[connection.vendor] = (head, parts, links)
        return built

    def param(self, field: str, value: Any, model: type[Model] | None = None) -> Any:
        """``value`` adapted for a comparison with ``field`` (of the model, or of
        ``model``), as the ORM would adapt it."""
        target = (model or self.model)._meta.get_field(field)
        assert isinstance(target, Field)
        return target.get_db_prep_value(value, connections[self.using], prepared=False)

    def all(self, where: str, params: Sequence[Any]) -> list[M]:
        """The instances the rows ``WHERE <where>`` give, in their order."""
        head, parts, links = self._build()
        connection: Any = connections[self.using]
        sql = f"{head} WHERE {where}"
        if getattr(connection, "fetch_prepared", None) is not None and connection.prepares():
            # A prepared statement: planned once per connection (amparo/core/db/postgresql).
            rows = connection.fetch_prepared(sql, params)
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
        found = []
        for row in rows:
            offset, objects = 0, []
            for part in parts:
                values = list(row[offset : offset + len(part.fields)])
                offset += len(part.fields)
                for i, converters in enumerate(part.converters):
                    for convert, col in converters:
                        values[i] = convert(values[i], col, connection)
                pk_index = part.fields.index(part.model._meta.pk)  # type: ignore[arg-type]
                objects.append(
                    None
                    if values[pk_index] is None
                    else part.model.from_db(self.using, part.attnames, values)
                )
            obj = objects[0]
            assert obj is not None
            for link, related in zip(links, objects[1:], strict=True):
                link.set_cached_value(obj, related)
            found.append(obj)
        return found  # type: ignore[return-value]

    def first(self, where: str, params: Sequence[Any]) -> M | None:
        found = self.all(f"{where} LIMIT 1", params)
        return found[0] if found else None
