"""Model fields whose values are sealed with the envelope keys (core.crypto).

The model names the key scope of a row through ``encryption_scope()``. Values are sealed
in ``pre_save`` with associated data ``table|column|primary key``, so models that use these
fields take a primary key that exists before the first save (a UUID).

Reading is lazy: a row loaded from the database holds a ``Sealed`` string until the
attribute is first read. Sealed fields cannot be filtered on or written through
``QuerySet.update()``: the database never sees their plaintext.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from amparo.core import crypto


class Sealed(str):
    """A value as stored: still sealed, not yet opened."""


class Ciphertext(str):
    """A value sealed by pre_save, on its way to the database."""


def associated_data(instance: models.Model, field: models.Field) -> bytes:
    if instance.pk is None:
        raise crypto.CryptoError(
            f"{type(instance).__name__} needs its primary key before sealing {field.name}"
        )
    return f"{instance._meta.db_table}|{field.column}|{instance.pk}".encode()


def scope_of(instance: models.Model) -> str:
    scope = instance.encryption_scope()  # type: ignore[attr-defined]
    if not scope:
        raise crypto.CryptoError(f"{type(instance).__name__} has no encryption scope")
    return str(scope)


class _SealedDescriptor(DeferredAttribute):
    """Opens the sealed value on first read. A data descriptor (it has __set__), so that
    reads come here even though the value lives in the instance's __dict__."""

    field: Any

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        if self.field.attname not in instance.__dict__:
            super().__get__(instance, owner)  # a deferred field: load it
        value = instance.__dict__.get(self.field.attname)
        if isinstance(value, Sealed):
            value = self.field.open(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: models.Model, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class _EncryptedMixin:
    attname: str
    column: str
    name: str

    descriptor_class = _SealedDescriptor

    # The database side is always text, whatever the Python value is.
    def get_internal_type(self) -> str:
        return "TextField"

    def encode(self, value: Any) -> str:
        return str(value)

    def decode(self, text: str) -> Any:
        return text

    def open(self, instance: models.Model, sealed: str) -> Any:
        plaintext = crypto.open_sealed(
            scope_of(instance),
            sealed,
            associated_data(instance, self),  # type: ignore[arg-type]
        )
        return self.decode(plaintext.decode("utf-8"))

    def seal_value(self, instance: models.Model, value: Any) -> Ciphertext:
        sealed = crypto.seal(
            scope_of(instance),
            self.encode(value).encode("utf-8"),
            associated_data(instance, self),  # type: ignore[arg-type]
        )
        return Ciphertext(sealed)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        raw = model_instance.__dict__.get(self.attname)
        if raw is None:
            return None
        if isinstance(raw, Sealed):
            # Untouched since it was loaded: store the same sealed bytes.
            return Ciphertext(raw)
        return self.seal_value(model_instance, raw)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return Sealed(value)

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, (Ciphertext, Sealed)):
            return None if value is None else str(value)
        raise TypeError(
            f"{self.name} is encrypted: it can only be saved through a model instance, "
            "never filtered on or set by QuerySet.update()"
        )

    def get_lookup(self, lookup_name: str) -> Any:
        # Only "is it empty" can be asked of a sealed column; every other lookup would run
        # against ciphertext and silently match nothing (or the wrong rows).
        if lookup_name != "isnull":
            raise TypeError(f"{self.name} is encrypted: it cannot be filtered on ({lookup_name})")
        return super().get_lookup(lookup_name)  # type: ignore[misc]

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisers (dumpdata, backups) get the sealed form, never the plaintext.
        raw = obj.__dict__.get(self.attname)
        if raw is None:
            return ""
        if isinstance(raw, Sealed):
            return str(raw)
        return str(self.seal_value(obj, raw))


class EncryptedTextField(_EncryptedMixin, models.TextField):
    """A text value sealed at rest (names, contacts, narratives, addresses)."""

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return str(value)


class EncryptedJSONField(_EncryptedMixin, models.TextField):
    """A JSON value (lists of phone numbers, languages, coordinates) sealed at rest."""

    def encode(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def decode(self, text: str) -> Any:
        return json.loads(text)

    def to_python(self, value: Any) -> Any:
        return value

    def formfield(self, **kwargs: Any) -> Any:  # type: ignore[override]
        from django import forms

        return forms.JSONField(**kwargs)


def encrypted_fields(model: type[models.Model]) -> list[_EncryptedMixin]:
    return [f for f in model._meta.concrete_fields if isinstance(f, _EncryptedMixin)]
