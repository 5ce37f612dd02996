"""Envelope encryption (DESIGN.md section 7).

A master key, given to the process by AMPARO_MASTER_KEY or AMPARO_MASTER_KEY_FILE, wraps
one data key per scope (one scope per organisation). Values are sealed with AES-256-GCM
under the scope's active data key, with associated data that names the table, the column
and the row, so a sealed value copied onto another row or column does not open.

A sealed value reads ``enc1:<key version>:<base64(nonce || ciphertext || tag)>``.
Data keys are never deleted by rotation: a new version becomes active and old versions
stay available to read whatever a still-running process may have sealed with them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import transaction

from amparo.core.env import MissingSetting
from amparo.core.keyformat import decode_master_key

PREFIX = "enc1"
NONCE_BYTES = 12
KEY_BYTES = 32
# How long a process trusts its idea of a scope's active key version; after a rotation
# other processes move to the new version within this many seconds.
ACTIVE_VERSION_TTL = 60.0


class CryptoError(Exception):
    """Base of the errors this module raises; messages are safe to show an operator."""


class WrongMasterKey(CryptoError):
    pass


class UndecryptableValue(CryptoError):
    pass


def generate_master_key() -> str:
    """A new master key in the form AMPARO_MASTER_KEY takes (urlsafe base64, 32 bytes)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def parse_master_key(text: str) -> bytes:
    raw = decode_master_key(text)
    if raw is None:
        raise CryptoError(
            "AMPARO_MASTER_KEY must be 32 random bytes in urlsafe base64 "
            "(make one with `amparo keygen`)"
        )
    return raw


def master_key_id(key: bytes) -> str:
    """A short public fingerprint that tells which master key wrapped a data key."""
    return hashlib.sha256(b"amparo master key id\x00" + key).hexdigest()[:16]


def current_master_key() -> bytes:
    if not settings.MASTER_KEY:
        raise MissingSetting("AMPARO_MASTER_KEY is not set (give AMPARO_MASTER_KEY or its _FILE)")
    return parse_master_key(settings.MASTER_KEY)


def _wrap_aad(scope: str, version: int) -> bytes:
    return f"amparo data key|{scope}|{version}".encode()


def wrap_data_key(master: bytes, scope: str, version: int, data_key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master).encrypt(nonce, data_key, _wrap_aad(scope, version))


def unwrap_data_key(master: bytes, scope: str, version: int, wrapped: bytes) -> bytes:
    try:
        return AESGCM(master).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_aad(scope, version)
        )
    except InvalidTag:
        raise WrongMasterKey(f"the master key does not open data key {scope} v{version}") from None


@dataclass(frozen=True)
class _Active:
    version: int
    key: bytes
    fetched_at: float


class Keyring:
    """Per-process cache of unwrapped data keys, backed by the DataKey table."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, int], bytes] = {}
        self._active: dict[str, _Active] = {}
        # Keys created by a transaction of this process that has not committed yet: never
        # cached, so a rolled-back key cannot seal a value that outlives its transaction.
        self._uncommitted: set[tuple[str, int]] = set()

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._active.clear()

    def _unwrap_row(self, row: Any) -> bytes:
        master = current_master_key()
        if row.master_key_id != master_key_id(master):
            raise WrongMasterKey(
                f"AMPARO_MASTER_KEY is not the key that wrapped the data keys "
                f"(stored key id {row.master_key_id}, given key id {master_key_id(master)})"
            )
        return unwrap_data_key(master, row.scope, row.version, bytes(row.wrapped))

    def create(self, scope: str) -> int:
        """Create the next data key version for a scope and make it active. Call it in the
        same transaction that creates the scope's owner, so that a rollback takes both."""
        from amparo.core.models import DataKey

        master = current_master_key()
        latest = DataKey.objects.filter(scope=scope).order_by("-version").first()
        version = (latest.version + 1) if latest else 1
        data_key = os.urandom(KEY_BYTES)
        DataKey.objects.create(
            scope=scope,
            version=version,
            wrapped=wrap_data_key(master, scope, version, data_key),
            master_key_id=master_key_id(master),
        )
        self._uncommitted.add((scope, version))
        transaction.on_commit(lambda: self._uncommitted.discard((scope, version)))
        self._forget(scope)
        return version

    def _forget(self, scope: str) -> None:
        with self._lock:
            self._active.pop(scope, None)

    def key(self, scope: str, version: int) -> bytes:
        cached = self._keys.get((scope, version))
        if cached is not None:
            return cached
        from amparo.core.models import DataKey

        row = DataKey.objects.filter(scope=scope, version=version).first()
        if row is None:
            raise UndecryptableValue(f"no data key {scope} v{version}")
        key = self._unwrap_row(row)
        if (scope, version) not in self._uncommitted:
            with self._lock:
                self._keys[(scope, version)] = key
        return key

    def active(self, scope: str) -> tuple[int, bytes]:
        now = time.monotonic()
        entry = self._active.get(scope)
        if entry is not None and now - entry.fetched_at < ACTIVE_VERSION_TTL:
            return entry.version, entry.key
        from amparo.core.models import DataKey

        row = (
            DataKey.objects.filter(scope=scope, retired_at__isnull=True)
            .order_by("-version")
            .first()
        )
        if row is None:
            raise CryptoError(f"no data key exists for {scope}")
        key = self._unwrap_row(row)
        if (scope, row.version) not in self._uncommitted:
            with self._lock:
                self._active[scope] = _Active(row.version, key, now)
                self._keys[(scope, row.version)] = key
        return row.version, key


keyring = Keyring()


def seal(scope: str, plaintext: bytes, aad: bytes) -> str:
    version, key = keyring.active(scope)
    nonce = os.urandom(NONCE_BYTES)
    body = nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
    return f"{PREFIX}:{version}:{base64.b64encode(body).decode()}"


def sealed_version(sealed: str) -> int:
    prefix, version, _ = sealed.split(":", 2)
    if prefix != PREFIX:
        raise UndecryptableValue("not a sealed value")
    return int(version)


def open_sealed(scope: str, sealed: str, aad: bytes) -> bytes:
    try:
        prefix, version_text, body_text = sealed.split(":", 2)
        version = int(version_text)
        body = base64.b64decode(body_text, validate=True)
    except (ValueError, binascii.Error):
        raise UndecryptableValue("malformed sealed value") from None
    if prefix != PREFIX:
        raise UndecryptableValue("not a sealed value")
    key = keyring.key(scope, version)
    try:
        return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], aad)
    except InvalidTag:
        raise UndecryptableValue(
            "a sealed value does not open here: it was altered or moved from another row"
        ) from None


def blind_index(scope: str, value: str) -> str:
    """A keyed digest for finding a sealed value by equality (a phone number) without
    storing it readably. Keyed by the scope's first data key, which rotation keeps."""
    from cryptography.hazmat.primitives import hashes, hmac
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from amparo.core.models import DataKey

    first = (
        DataKey.objects.filter(scope=scope)
        .order_by("version")
        .values_list("version", flat=True)
        .first()
    )
    if first is None:
        raise CryptoError(f"no data key exists for {scope}")
    index_key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"amparo blind index"
    ).derive(keyring.key(scope, first))
    mac = hmac.HMAC(index_key, hashes.SHA256())
    mac.update(value.encode("utf-8"))
    return mac.finalize().hex()
