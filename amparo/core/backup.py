"""Encrypted, consistent backups: the logic of ``amparo backup`` and ``amparo restore``.

One archive holds the database, every file of the evidence store as it is stored (already
sealed, each under a key of its own), and a manifest. It is written and read as a stream,
a megabyte at a time, so neither a large database nor a large store is held in memory.

**Consistency.** The database is copied first, as one snapshot: SQLite's online backup
API (``sqlite3.Connection.backup``) on SQLite; on PostgreSQL a ``REPEATABLE READ``
transaction exports its snapshot (``pg_export_snapshot``) and ``pg_dump --snapshot`` dumps
exactly that state, while the same transaction reads what the manifest says of it. The
evidence store is copied after the snapshot, so every file a row of the snapshot refers to
is in the archive, and files written meanwhile are in it too (unreferenced, harmless). A
file that a row refers to but that is not on disk is named in the manifest and reported.

**Archive layout.** On disk::

    b"AMPBAK1\\n"       magic (8 bytes)
    key source (1)      b"M": the key is derived from the master key;
                        b"B": a separate backup key (AMPARO_BACKUP_KEY)
    key id (8)          M: the master key's id (crypto.master_key_id);
                        B: SHA-256("amparo backup key id\\0" + key)[:8]
    salt (32)           random, one per archive
    chunks              4-byte big-endian length, then AES-256-GCM(stream key, 1 MiB)

The stream key is HKDF-SHA256(backup key, salt, "amparo backup stream v1"); each chunk's
nonce is its number and a last-chunk flag, its associated data the 49 bytes above: the
STREAM construction that ``incidents.vault`` uses for evidence files, so reordered,
dropped, altered or cut-off chunks, and an altered header, are all detected. The backup
key is ``AMPARO_BACKUP_KEY`` when set, else HKDF-SHA256(master key, info "amparo backup key
v1"): never the master key itself, which is not in the archive.

Inside the encryption, records: a kind (1 byte), a name (2-byte length, UTF-8), then the
body as frames (4-byte length, bytes) closed by an empty frame. ``H`` a header (JSON:
format, vendor, when), ``D`` the database (an SQLite file or a ``pg_dump`` custom-format
dump), ``E`` one evidence file (named by its path under the store), ``M`` the manifest
(JSON), last.

``core`` imports no Amparo app (docs/architecture.md section 1), so the files the database
refers to are found by convention: every model with ``organisation``, ``sha256`` and
``file_key`` fields keeps its file at ``<evidence dir>/<organisation id>/<id>.bin`` in the
vault's blob format (``incidents.vault``: ``AMPV1\\n`` and the same STREAM chunks, under the
file's own key), which restore re-reads to check each file against its intake SHA-256.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.models import Model

from amparo.core import audit, crypto
from amparo.core.keyformat import decode_master_key
from amparo.core.models import AuditEntry, AuditHead, DataKey

FORMAT = 1
MAGIC = b"AMPBAK1\n"
SOURCE_MASTER = b"M"
SOURCE_BACKUP = b"B"
SALT_BYTES = 32
HEADER_BYTES = len(MAGIC) + 1 + 8 + SALT_BYTES
CHUNK = 1024 * 1024  # plaintext bytes per sealed chunk
FRAME = 1024 * 1024  # largest frame of a record
TAG_BYTES = 16
BACKUP_KEY_INFO = b"amparo backup key v1"
STREAM_KEY_INFO = b"amparo backup stream v1"

# The evidence vault's blob format (incidents.vault).
VAULT_MAGIC = b"AMPV1\n"
VAULT_MAX_SEALED = 64 * 1024 * 1024  # far above the vault's 64 KiB chunks

KIND_HEADER = b"H"
KIND_DATABASE = b"D"
KIND_EVIDENCE = b"E"
KIND_MANIFEST = b"M"

SUFFIX = ".amparo-backup"
DATABASE_NAMES = {"sqlite": "amparo.sqlite3", "postgresql": "amparo.pgdump"}
# Keys of DATABASES[...]["OPTIONS"] that are Django's or psycopg's, not libpq's.
NOT_LIBPQ = {
    "assume_role",
    "isolation_level",
    "pool",
    "server_side_binding",
    "cursor_factory",
    "context",
    "prepare_threshold",
}


class BackupError(Exception):
    """Base of this module's errors; messages are meant for the operator."""


class WrongKey(BackupError):
    pass


class Damaged(BackupError):
    """The archive (or a blob) was altered, cut off or damaged."""


class TargetNotEmpty(BackupError):
    pass


# Keys


@dataclass(frozen=True)
class BackupKey:
    key: bytes
    source: bytes  # SOURCE_MASTER or SOURCE_BACKUP
    key_id: bytes  # 8 bytes, shown as 16 hex digits

    @property
    def described(self) -> str:
        if self.source == SOURCE_MASTER:
            return f"the key derived from the master key (master key id {self.key_id.hex()})"
        return f"a separate backup key (backup key id {self.key_id.hex()})"


def _parse_key(text: str, what: str) -> bytes:
    raw = decode_master_key(text)
    if raw is None:
        raise BackupError(
            f"{what} must be 32 random bytes in urlsafe base64 (make one with `amparo keygen`)"
        )
    return raw


def backup_key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"amparo backup key id\x00" + key).digest()[:8]


def separate_key(text: str, what: str = "AMPARO_BACKUP_KEY") -> BackupKey:
    key = _parse_key(text, what)
    return BackupKey(key, SOURCE_BACKUP, backup_key_id(key))


def derived_key() -> BackupKey:
    """The backup key derived from the master key: HKDF with its own label, so it is
    never the master key nor any other key derived from it."""
    master = crypto.current_master_key()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=BACKUP_KEY_INFO).derive(master)
    return BackupKey(key, SOURCE_MASTER, bytes.fromhex(crypto.master_key_id(master)))


def read_key_file(path: Path) -> BackupKey:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BackupError(f"cannot read the key file {path}: {exc.strerror}") from None
    return separate_key(text, f"the key in {path}")


def configured_key(key_file: Path | None = None) -> BackupKey:
    """The key a new backup is made with: --key-file, else AMPARO_BACKUP_KEY, else the
    key derived from the master key."""
    if key_file is not None:
        return read_key_file(key_file)
    if settings.AMPARO_BACKUP_KEY:
        return separate_key(settings.AMPARO_BACKUP_KEY)
    return derived_key()


def _stream_key(key: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=STREAM_KEY_INFO).derive(key)


def _nonce(index: int, last: bool) -> bytes:
    return struct.pack(">QI", index, 1 if last else 0)


# Progress


class Progress:
    """Prints what is happening: every message given to ``say``, and a ``tick`` at most
    every ``every`` seconds, so long work shows it is moving without flooding a log."""

    def __init__(self, write: Callable[[str], None] | None = None, every: float = 2.0) -> None:
        self._write = write
        self._every = every
        self._last = time.monotonic()

    def say(self, message: str) -> None:
        if self._write is not None:
            self._write(message)
        self._last = time.monotonic()

    def tick(self, message: str) -> None:
        if self._write is None:
            return
        now = time.monotonic()
        if now - self._last >= self._every:
            self._write(message)
            self._last = now


def size_text(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover - the loop returns


# The encrypted stream


class _Sink(Protocol):
    def write(self, data: bytes) -> Any: ...


class _Source(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class ArchiveWriter:
    """Seals the inner stream chunk by chunk onto ``out`` and frames its records."""

    def __init__(self, out: BinaryIO, key: BackupKey) -> None:
        salt = os.urandom(SALT_BYTES)
        self._header = MAGIC + key.source + key.key_id + salt
        out.write(self._header)
        self._out = out
        self._aead = AESGCM(_stream_key(key.key, salt))
        self._buffer = bytearray()
        self._index = 0
        self._closed = False

    def _write(self, data: bytes) -> None:
        self._buffer += data
        # Keep at least one byte back: the last chunk must be known to be the last.
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]

    def _seal(self, chunk: bytes, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index, last), chunk, self._header)
        self._out.write(struct.pack(">I", len(sealed)))
        self._out.write(sealed)
        self._index += 1

    def close(self) -> None:
        if not self._closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True

    def begin(self, kind: bytes, name: str) -> None:
        encoded = name.encode("utf-8")
        self._write(kind + struct.pack(">H", len(encoded)) + encoded)

    def frame(self, data: bytes) -> None:
        for start in range(0, len(data), FRAME):
            part = data[start : start + FRAME]
            self._write(struct.pack(">I", len(part)))
            self._write(part)

    def end(self) -> None:
        self._write(struct.pack(">I", 0))

    def record(self, kind: bytes, name: str, data: bytes) -> None:
        self.begin(kind, name)
        self.frame(data)
        self.end()

    def copy(
        self, kind: bytes, name: str, source: _Source, on_data: Callable[[int], None] | None = None
    ) -> tuple[int, str]:
        """A record whose body is everything ``source`` gives; answers its size and SHA-256."""
        digest = hashlib.sha256()
        size = 0
        self.begin(kind, name)
        while True:
            data = source.read(FRAME)
            if not data:
                break
            digest.update(data)
            size += len(data)
            self.frame(data)
            if on_data is not None:
                on_data(len(data))
        self.end()
        return size, digest.hexdigest()


def stream_chunks(
    source: _Source, aead: AESGCM, aad: bytes, max_sealed: int, what: str
) -> Iterator[bytes]:
    """The plaintext of a STREAM of sealed chunks (4-byte length, sealed bytes), checked
    chunk by chunk; raises Damaged when a chunk is altered, missing or cut off."""
    index = 0
    while True:
        header = source.read(4)
        if len(header) < 4:
            raise Damaged(f"{what} ends before its last chunk (truncated)")
        (length,) = struct.unpack(">I", header)
        if length < TAG_BYTES or length > max_sealed:
            raise Damaged(f"{what}: chunk {index} has an impossible length (altered or damaged)")
        sealed = source.read(length)
        if len(sealed) < length:
            raise Damaged(f"{what} ends inside chunk {index} (truncated)")
        for last in (False, True):
            try:
                chunk = aead.decrypt(_nonce(index, last), sealed, aad)
                break
            except InvalidTag:
                continue
        else:
            raise Damaged(f"{what}: chunk {index} does not open (altered or damaged)")
        yield chunk
        if last:
            if source.read(1):
                raise Damaged(f"{what} has data after its last chunk (altered)")
            return
        index += 1


class _PlainReader:
    """Exact reads over the authenticated plaintext chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self._pos = 0

    def _fill(self) -> bool:
        while self._pos >= len(self._buffer):
            chunk = next(self._chunks, None)
            if chunk is None:
                return False
            self._buffer, self._pos = chunk, 0
        return True

    def read_exact(self, size: int) -> bytes:
        parts = []
        need = size
        while need:
            if not self._fill():
                raise Damaged("the archive ends early (truncated)")
            part = self._buffer[self._pos : self._pos + need]
            self._pos += len(part)
            need -= len(part)
            parts.append(part)
        return b"".join(parts)

    def at_end(self) -> bool:
        return not self._fill()


def _open_header(archive: BinaryIO) -> tuple[bytes, bytes, bytes, bytes]:
    header = archive.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES or not header.startswith(MAGIC):
        raise Damaged("this is not an Amparo backup archive (or its header is damaged)")
    source = header[len(MAGIC) : len(MAGIC) + 1]
    key_id = header[len(MAGIC) + 1 : len(MAGIC) + 9]
    salt = header[len(MAGIC) + 9 :]
    if source not in (SOURCE_MASTER, SOURCE_BACKUP):
        raise Damaged("this is not an Amparo backup archive (or its header is damaged)")
    return header, source, key_id, salt


def key_for_archive(source: bytes, key_id: bytes, key_file: Path | None) -> BackupKey:
    """The key that should open an archive with this header, or WrongKey saying which
    key is needed and which was given."""
    if key_file is not None:
        key = read_key_file(key_file)
        given = f"the key in {key_file}"
    elif source == SOURCE_BACKUP:
        if not settings.AMPARO_BACKUP_KEY:
            raise WrongKey(
                f"this archive is encrypted with a separate backup key (backup key id "
                f"{key_id.hex()}); give it as AMPARO_BACKUP_KEY, AMPARO_BACKUP_KEY_FILE or "
                "--key-file"
            )
        key = separate_key(settings.AMPARO_BACKUP_KEY)
        given = "AMPARO_BACKUP_KEY"
    else:
        key = derived_key()
        given = "AMPARO_MASTER_KEY"
    if key.source == source and key.key_id == key_id:
        return key
    if source == SOURCE_MASTER:
        raise WrongKey(
            f"wrong key: this archive is encrypted with the key derived from the master key "
            f"of id {key_id.hex()}, and the key given ({given}) is {key.described}. Restore "
            "with the AMPARO_MASTER_KEY that was in use when the backup was made"
        )
    raise WrongKey(
        f"wrong key: this archive is encrypted with the backup key of id {key_id.hex()}, "
        f"and the key given ({given}) is {key.described}"
    )


@dataclass
class Unpacked:
    """What reading an archive found: its header, manifest and record digests."""

    header: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    database: tuple[int, str] | None = None
    evidence: dict[str, tuple[int, str]] = field(default_factory=dict)
    key: BackupKey | None = None


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)


def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if (
        not name
        or path.is_absolute()
        or "\\" in name
        or "\x00" in name
        or any(part in ("", ".", "..") for part in name.split("/"))
    ):
        raise Damaged(f"the archive names an unsafe path: {name!r}")
    return path


def unpack(
    archive_path: Path,
    *,
    key_file: Path | None = None,
    staging: Path | None = None,
    progress: Progress | None = None,
    on_header: Callable[[dict[str, Any]], None] | None = None,
) -> Unpacked:
    """Read and authenticate a whole archive. With ``staging``, write the database to
    ``staging/database`` and the evidence files under ``staging/evidence``; without it,
    only check. Nothing outside ``staging`` is touched, and nothing read may be trusted
    until this returns: a chunk altered near the end is only found there."""
    progress = progress or Progress()
    result = Unpacked()
    try:
        total = archive_path.stat().st_size
        archive = open(archive_path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise BackupError(f"cannot read {archive_path}: {exc.strerror}") from None
    with archive:
        header, source, key_id, salt = _open_header(archive)
        result.key = key = key_for_archive(source, key_id, key_file)
        aead = AESGCM(_stream_key(key.key, salt))
        reader = _PlainReader(
            stream_chunks(archive, aead, header, CHUNK + TAG_BYTES, "the archive")
        )
        seen_database = False
        while True:
            kind = reader.read_exact(1)
            (name_length,) = struct.unpack(">H", reader.read_exact(2))
            name = reader.read_exact(name_length).decode("utf-8", errors="replace")
            if not result.header and kind != KIND_HEADER:
                raise Damaged("the archive does not start with its header")
            sink: _Sink = _Discard()
            target: Path | None = None
            keep = bytearray() if kind in (KIND_HEADER, KIND_MANIFEST) else None
            if kind == KIND_DATABASE:
                if seen_database:
                    raise Damaged("the archive holds two databases")
                seen_database = True
                if staging is not None:
                    target = staging / "database"
            elif kind == KIND_EVIDENCE:
                relative = _safe_relative(name)
                if staging is not None:
                    target = staging / "evidence" / Path(*relative.parts)
            elif kind not in (KIND_HEADER, KIND_MANIFEST):
                raise Damaged(f"the archive holds a record of unknown kind {kind!r}")
            out: BinaryIO | None = None
            if target is not None:
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                out = open(target, "xb")  # noqa: SIM115 - closed below
                sink = out
            digest = hashlib.sha256()
            size = 0
            try:
                while True:
                    (length,) = struct.unpack(">I", reader.read_exact(4))
                    if length == 0:
                        break
                    if length > FRAME:
                        raise Damaged("the archive holds an impossible frame (altered)")
                    data = reader.read_exact(length)
                    digest.update(data)
                    size += length
                    if keep is not None:
                        keep += data
                    else:
                        sink.write(data)
                    progress.tick(
                        f"  reading the archive: {archive.tell() * 100 // max(total, 1)}%"
                        f" ({size_text(archive.tell())} of {size_text(total)})"
                    )
            finally:
                if out is not None:
                    out.close()
            if kind == KIND_HEADER:
                result.header = _json(bytes(keep or b""), "header")
                if on_header is not None:
                    on_header(result.header)
            elif kind == KIND_DATABASE:
                result.database = (size, digest.hexdigest())
            elif kind == KIND_EVIDENCE:
                if name in result.evidence:
                    raise Damaged(f"the archive holds {name} twice")
                result.evidence[name] = (size, digest.hexdigest())
            else:
                result.manifest = _json(bytes(keep or b""), "manifest")
                if not reader.at_end():
                    raise Damaged("the archive has data after its manifest (altered)")
                break
    _check_manifest(result)
    return result


def _json(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Damaged(f"the archive's {what} is not readable") from None
    if not isinstance(value, dict):
        raise Damaged(f"the archive's {what} is not readable")
    return value


def _check_manifest(result: Unpacked) -> None:
    """The records must be exactly what the manifest lists (authenticated encryption
    already guarantees the bytes; this catches a writer that lost a record)."""
    manifest = result.manifest
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"this archive has format {manifest.get('format')!r}; this Amparo reads {FORMAT}"
        )
    if any(
        manifest.get(name) != result.header.get(name)
        for name in ("vendor", "created_at", "migrations")
    ):
        raise Damaged("the archive's header and manifest disagree")
    database = manifest.get("database") or {}
    if result.database != (database.get("bytes"), database.get("sha256")):
        raise Damaged("the database in the archive does not match its manifest")
    listed = {e["path"]: (e["bytes"], e["sha256"]) for e in manifest.get("evidence", [])}
    if listed != result.evidence:
        raise Damaged("the evidence files in the archive do not match its manifest")


# What the database refers to


def vault_models() -> list[type[Model]]:
    """Models whose rows each own a file in the evidence store (by convention: fields
    ``organisation``, ``sha256`` and ``file_key``; today incidents.EvidenceFile and
    travel.TravelDocument)."""
    found = []
    for model in apps.get_models():
        names = {f.name for f in model._meta.concrete_fields}
        if {"organisation", "sha256", "file_key"} <= names:
            found.append(model)
    return sorted(found, key=lambda m: m._meta.label_lower)


def blob_relative_path(organisation_id: Any, file_id: Any) -> str:
    return f"{_uuid(organisation_id)}/{_uuid(file_id)}.bin"


def _uuid(value: Any) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


@dataclass
class Snapshot:
    migrations: list[list[str]]
    audit_seq: int
    audit_hash: str
    audit_entries: int
    master_key_ids: list[str]
    referenced: dict[str, tuple[str, str]]  # path -> (model label, row id)
    referenced_by_model: dict[str, int]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_snapshot(cursor: Any) -> Snapshot:
    """What the manifest says of the database, read through a DB-API cursor on the very
    snapshot that is backed up (the SQLite copy; the exported PostgreSQL snapshot)."""
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    migrations = [[str(app), str(name)] for app, name in cursor.fetchall()]
    cursor.execute(f"SELECT seq, last_hash FROM {_q(AuditHead._meta.db_table)} WHERE id = 1")  # noqa: S608 - model names
    head = cursor.fetchone()
    cursor.execute(f"SELECT count(*) FROM {_q(AuditEntry._meta.db_table)}")  # noqa: S608 - model names
    entries = int(cursor.fetchone()[0])
    cursor.execute(f"SELECT DISTINCT master_key_id FROM {_q(DataKey._meta.db_table)}")  # noqa: S608 - model names
    master_key_ids = sorted(str(row[0]) for row in cursor.fetchall())
    referenced: dict[str, tuple[str, str]] = {}
    by_model: dict[str, int] = {}
    for model in vault_models():
        meta = model._meta
        pk = str(meta.pk.column) if meta.pk is not None else "id"
        organisation = str(meta.get_field("organisation").column)  # type: ignore[union-attr]
        table = _q(meta.db_table)
        cursor.execute(f"SELECT {_q(pk)}, {_q(organisation)} FROM {table}")  # noqa: S608 - model names
        count = 0
        for row_id, organisation_id in cursor.fetchall():
            referenced[blob_relative_path(organisation_id, row_id)] = (
                meta.label_lower,
                _uuid(row_id),
            )
            count += 1
        by_model[meta.label_lower] = count
    return Snapshot(
        migrations=migrations,
        audit_seq=int(head[0]) if head else 0,
        audit_hash=str(head[1]) if head else audit.GENESIS,
        audit_entries=entries,
        master_key_ids=master_key_ids,
        referenced=referenced,
        referenced_by_model=by_model,
    )


# Backup


@dataclass
class BackupResult:
    path: Path
    size: int
    vendor: str
    database_bytes: int
    evidence_files: int
    evidence_bytes: int
    audit_seq: int
    key: BackupKey
    missing: list[dict[str, str]]
    unreferenced: int
    warnings: list[str] = field(default_factory=list)


def amparo_version() -> str:
    try:
        return metadata.version("amparo")
    except metadata.PackageNotFoundError:
        return "unknown"


def default_name(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"amparo-{now.strftime('%Y%m%dT%H%M%SZ')}{SUFFIX}"


def _fsync_dir(path: Path) -> None:
    directory = os.open(path, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def libpq_params(settings_dict: dict[str, Any]) -> dict[str, str]:
    """Connection parameters for libpq tools (pg_dump, pg_restore) and psycopg, without
    the password (given through PGPASSWORD, never on a command line)."""
    params: dict[str, str] = {}
    if settings_dict.get("NAME"):
        params["dbname"] = str(settings_dict["NAME"])
    for key, name in (("USER", "user"), ("HOST", "host"), ("PORT", "port")):
        if settings_dict.get(key):
            params[name] = str(settings_dict[key])
    for key, value in (settings_dict.get("OPTIONS") or {}).items():
        if key not in NOT_LIBPQ and isinstance(value, str | int) and not isinstance(value, bool):
            params[key] = str(value)
    return params


def _conninfo(params: dict[str, str]) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(**params)


def _pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return env


def _tool(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else "")
    if not found:
        raise BackupError(f"{name} is not installed (it comes with postgresql-client)")
    return found


def create_backup(
    destination: Path,
    *,
    key: BackupKey,
    progress: Progress | None = None,
    using: str = "default",
) -> BackupResult:
    """Write one archive to ``destination`` (a new file; written as ``.partial`` and
    renamed when complete, so an interrupted backup never looks like a finished one)."""
    progress = progress or Progress()
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in DATABASE_NAMES:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    if connection.in_atomic_block:
        raise BackupError("run the backup outside a transaction")
    if destination.exists():
        raise BackupError(f"{destination} already exists")
    destination = destination.resolve()
    if not destination.parent.is_dir():
        raise BackupError(f"the directory {destination.parent} does not exist")
    partial = destination.with_name(destination.name + ".partial")
    evidence_dir = Path(settings.EVIDENCE_DIR)
    created_at = datetime.now(UTC).isoformat()
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(
            f"{partial} exists: another backup is writing it, or one was interrupted "
            "(then remove it)"
        ) from None
    except OSError as exc:
        raise BackupError(f"cannot write {partial}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            writer = ArchiveWriter(out, key)

            def header(snapshot: Snapshot) -> None:
                # First in the archive, so that a restore refuses the wrong kind of
                # database or a newer schema before it reads the rest.
                writer.record(
                    KIND_HEADER,
                    "header.json",
                    json.dumps(
                        {
                            "format": FORMAT,
                            "vendor": vendor,
                            "created_at": created_at,
                            "amparo_version": amparo_version(),
                            "migrations": snapshot.migrations,
                        }
                    ).encode(),
                )

            progress.say(f"database: taking a consistent snapshot ({vendor})")
            if vendor == "sqlite":
                snapshot, db_size, db_sha = _backup_sqlite(connection, writer, header, progress)
            else:
                snapshot, db_size, db_sha = _backup_postgresql(connection, writer, header, progress)
            progress.say(
                f"database: {size_text(db_size)}; audit chain head #{snapshot.audit_seq}; "
                f"{len(snapshot.referenced)} stored file(s) referenced"
            )
            evidence, missing, unreferenced = _copy_evidence(
                writer, evidence_dir, snapshot, progress
            )
            manifest = {
                "format": FORMAT,
                "created_at": created_at,
                "amparo_version": amparo_version(),
                "vendor": vendor,
                "database": {"name": DATABASE_NAMES[vendor], "bytes": db_size, "sha256": db_sha},
                "migrations": snapshot.migrations,
                "audit": {
                    "head_seq": snapshot.audit_seq,
                    "head_hash": snapshot.audit_hash,
                    "entries": snapshot.audit_entries,
                },
                "master_key_ids": snapshot.master_key_ids,
                "referenced": snapshot.referenced_by_model,
                "evidence": evidence,
                "missing": missing,
                "unreferenced": unreferenced,
            }
            writer.record(KIND_MANIFEST, "manifest.json", json.dumps(manifest).encode())
            writer.close()
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, destination)
        _fsync_dir(destination.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    # A backup is a copy of everything: who took one, and when, is on the record (in
    # the live database, after the snapshot). A read-only database (a replica) cannot
    # record it; the archive is good all the same.
    warnings = []
    try:
        audit.record(
            "cli",
            "backup.created",
            details={
                "vendor": vendor,
                "created_at": created_at,
                "audit_head": snapshot.audit_seq,
                "evidence_files": len(evidence),
                "missing": len(missing),
                "key": "master" if key.source == SOURCE_MASTER else "backup",
                "key_id": key.key_id.hex(),
            },
        )
    except DatabaseError as exc:
        warnings.append(f"the backup could not be recorded in the audit log: {exc}")
    return BackupResult(
        path=destination,
        size=destination.stat().st_size,
        vendor=vendor,
        database_bytes=db_size,
        evidence_files=len(evidence),
        evidence_bytes=sum(e["bytes"] for e in evidence),
        audit_seq=snapshot.audit_seq,
        key=key,
        missing=missing,
        unreferenced=unreferenced,
        warnings=warnings,
    )


def _backup_sqlite(
    connection: BaseDatabaseWrapper,
    writer: ArchiveWriter,
    header: Callable[[Snapshot], None],
    progress: Progress,
) -> tuple[Snapshot, int, str]:
    # The copy is as sensitive as the database; it lives next to it, owner only, and
    # only until it is in the archive.
    data_dir = Path(settings.DATA_DIR)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(prefix=".amparo-backup-", dir=data_dir) as scratch:
        copy_path = Path(scratch) / "amparo.sqlite3"
        connection.ensure_connection()
        source = connection.connection
        target = sqlite3.connect(copy_path)
        try:
            # One step (pages=-1): a single read transaction, so one consistent state.
            # In WAL mode writers go on meanwhile.
            source.backup(target)  # type: ignore[union-attr]
        finally:
            target.close()
        check = sqlite3.connect(f"file:{copy_path}?mode=ro", uri=True)
        try:
            snapshot = read_snapshot(check.cursor())
        finally:
            check.close()
        header(snapshot)
        total = copy_path.stat().st_size
        done = 0

        def moved(count: int) -> None:
            nonlocal done
            done += count
            progress.tick(f"  database: {size_text(done)} of {size_text(total)}")

        with open(copy_path, "rb") as copy:
            size, digest = writer.copy(KIND_DATABASE, DATABASE_NAMES["sqlite"], copy, moved)
    return snapshot, size, digest


def _backup_postgresql(
    connection: BaseDatabaseWrapper,
    writer: ArchiveWriter,
    header: Callable[[Snapshot], None],
    progress: Progress,
) -> tuple[Snapshot, int, str]:
    import psycopg

    settings_dict = connection.settings_dict
    params = libpq_params(settings_dict)
    pg_dump = _tool("pg_dump")
    conninfo = _conninfo(params)
    if settings_dict.get("PASSWORD"):
        conninfo = _conninfo({**params, "password": str(settings_dict["PASSWORD"])})
    with psycopg.connect(conninfo, autocommit=True) as pg:
        # The manifest and pg_dump read the same snapshot: exported by this transaction,
        # which stays open until pg_dump is done.
        pg.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        row = pg.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        snapshot_id = str(row[0])
        with pg.cursor() as cursor:
            snapshot = read_snapshot(cursor)
        header(snapshot)
        args = [
            pg_dump,
            "--format=custom",
            f"--snapshot={snapshot_id}",
            "--dbname",
            _conninfo(params),
        ]
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(  # noqa: S603 - fixed program, no shell
                args, stdout=subprocess.PIPE, stderr=errors, env=_pg_env(settings_dict)
            )
            assert process.stdout is not None
            done = 0

            def moved(count: int) -> None:
                nonlocal done
                done += count
                progress.tick(f"  database: {size_text(done)} dumped")

            try:
                size, digest = writer.copy(
                    KIND_DATABASE, DATABASE_NAMES["postgresql"], process.stdout, moved
                )
            finally:
                process.stdout.close()
                code = process.wait()
            if code != 0:
                errors.seek(0)
                message = errors.read().decode("utf-8", errors="replace").strip()
                raise BackupError(f"pg_dump failed (exit {code}): {message[-2000:]}")
        pg.execute("COMMIT")
    return snapshot, size, digest


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    """Every regular file under ``root``, as (relative POSIX path, path), sorted."""
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(root).as_posix(), path


def _copy_evidence(
    writer: ArchiveWriter, evidence_dir: Path, snapshot: Snapshot, progress: Progress
) -> tuple[list[dict[str, Any]], list[dict[str, str]], int]:
    """Copy every file of the store, after the snapshot: so each file a row of the
    snapshot refers to is there, unless it is missing from disk (reported)."""
    listed: list[dict[str, Any]] = []
    copied = 0
    copied_bytes = 0
    if evidence_dir.is_dir():
        for relative, path in _walk(evidence_dir):
            try:
                source = open(path, "rb")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                continue  # removed meanwhile (a discarded upload)
            with source:
                size, digest = writer.copy(KIND_EVIDENCE, relative, source)
            listed.append({"path": relative, "bytes": size, "sha256": digest})
            copied += 1
            copied_bytes += size
            progress.tick(f"  evidence: {copied} file(s), {size_text(copied_bytes)} so far")
    progress.say(f"evidence: {copied} file(s), {size_text(copied_bytes)}")
    present = {entry["path"] for entry in listed}
    missing = [
        {"path": path, "model": label, "id": row_id}
        for path, (label, row_id) in sorted(snapshot.referenced.items())
        if path not in present
    ]
    unreferenced = sum(1 for path in present if path not in snapshot.referenced)
    return listed, missing, unreferenced


# Restore


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    lines: list[str]
    problems: list[str]


def _table_names(connection: BaseDatabaseWrapper) -> list[str]:
    with connection.cursor() as cursor:
        return list(connection.introspection.table_names(cursor))


def _store_files(evidence_dir: Path) -> int:
    if not evidence_dir.is_dir():
        return 0
    return sum(1 for _ in _walk(evidence_dir))


def check_target(connection: BaseDatabaseWrapper, evidence_dir: Path, force: bool) -> None:
    """Refuse a database with tables or an evidence store with files, unless forced."""
    if connection.vendor == "sqlite" and getattr(connection, "is_in_memory_db", bool)():
        raise BackupError("cannot restore into an in-memory SQLite database")
    try:
        tables = _table_names(connection)
    except DatabaseError as exc:
        raise BackupError(
            f"cannot open the database {_database_label(connection)}: {str(exc).strip()}"
        ) from None
    files = _store_files(evidence_dir)
    if force:
        return
    problems = []
    if tables:
        problems.append(f"the database {_database_label(connection)} has {len(tables)} table(s)")
    if files:
        problems.append(f"the evidence store {evidence_dir} holds {files} file(s)")
    if problems:
        raise TargetNotEmpty(
            "refusing to restore over existing data: "
            + "; ".join(problems)
            + ". Restore into an empty database and evidence store, or give --force to "
            "replace them"
        )


def _database_label(connection: BaseDatabaseWrapper) -> str:
    return str(connection.settings_dict.get("NAME") or "")


def _check_migrations(manifest: dict[str, Any]) -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(migration.replaces)  # squashed since the backup
    unknown = sorted(
        f"{app}.{name}" for app, name in manifest.get("migrations", []) if (app, name) not in known
    )
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise BackupError(
            f"this backup was made by a newer Amparo: its database has {len(unknown)} "
            f"migration(s) this version does not know ({shown}). Restore it with the "
            f"version that made it ({manifest.get('amparo_version', 'unknown')}) or newer"
        )


def restore_backup(
    archive: Path,
    *,
    key_file: Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    using: str = "default",
) -> RestoreResult:
    """Bring an archive back into this installation's database and evidence store, then
    verify the audit chain and every stored file. Refuses a non-empty target unless
    ``force``; nothing is changed until the whole archive is authenticated."""
    progress = progress or Progress()
    connection = connections[using]
    evidence_dir = Path(settings.EVIDENCE_DIR)
    check_target(connection, evidence_dir, force)
    vendor = connection.vendor

    def header_check(header: dict[str, Any]) -> None:
        if header.get("vendor") != vendor:
            raise BackupError(
                f"this archive holds a {header.get('vendor')} database and this installation "
                f"uses {vendor}; restore it where DATABASE_URL names the same kind of database"
            )
        _check_migrations(header)

    evidence_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=".amparo-restore-", dir=evidence_dir.parent))
    lines: list[str] = []
    try:
        progress.say(f"reading and authenticating {archive}")
        try:
            unpacked = unpack(
                archive,
                key_file=key_file,
                staging=staging,
                progress=progress,
                on_header=header_check,
            )
        except OSError as exc:
            raise BackupError(f"cannot unpack the archive into {staging}: {exc}") from None
        manifest = unpacked.manifest
        described = unpacked.key.described if unpacked.key else ""
        lines.append(
            f"archive authenticated: made {manifest.get('created_at')} by Amparo "
            f"{manifest.get('amparo_version')} ({vendor}), encrypted with {described}"
        )
        progress.say("database: restoring")
        if vendor == "sqlite":
            _restore_sqlite(connection, staging / "database")
        else:
            _restore_postgresql(connection, staging / "database", force)
        lines.append(f"database restored ({vendor}, {size_text(manifest['database']['bytes'])})")
        moved = _place_evidence(staging / "evidence", evidence_dir, progress)
        lines.append(
            f"evidence restored: {moved} file(s), "
            f"{size_text(sum(e['bytes'] for e in manifest.get('evidence', [])))}"
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    crypto.keyring.clear()
    connections.close_all()
    pending = _pending_migrations(connection)
    if pending:
        from django.core.management import call_command

        progress.say(f"migrations: applying {pending} migration(s) newer than the backup")
        call_command("migrate", interactive=False, verbosity=0)
        lines.append(f"migrations: applied {pending} migration(s) newer than the backup")
    else:
        lines.append("migrations: the database is up to date")

    verification_lines, problems = verify_restored(manifest, progress)
    lines.extend(verification_lines)
    audit.record(
        "cli",
        "backup.restored",
        details={
            "created_at": manifest.get("created_at"),
            "vendor": vendor,
            "evidence_files": len(manifest.get("evidence", [])),
            "audit_head": manifest.get("audit", {}).get("head_seq"),
            "problems": len(problems),
        },
    )
    return RestoreResult(manifest=manifest, lines=lines, problems=problems)


def _pending_migrations(connection: BaseDatabaseWrapper) -> int:
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _restore_sqlite(connection: BaseDatabaseWrapper, staged: Path) -> None:
    database = Path(connection.settings_dict["NAME"])
    connections.close_all()
    # A write-ahead log left by the database being replaced would be replayed onto the
    # restored one: remove it first.
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(staged, 0o600)
    shutil.move(staged, database)
    _fsync_dir(database.parent)


def _restore_postgresql(connection: BaseDatabaseWrapper, staged: Path, force: bool) -> None:
    settings_dict = connection.settings_dict
    connections.close_all()
    args = [
        _tool("pg_restore"),
        "--exit-on-error",
        "--single-transaction",  # all of it, or nothing
        "--no-owner",  # objects belong to the role restoring them
        "--no-privileges",
        "--dbname",
        _conninfo(libpq_params(settings_dict)),
    ]
    if force:
        args += ["--clean", "--if-exists"]
    args.append(str(staged))
    result = subprocess.run(  # noqa: S603 - fixed program, no shell
        args, capture_output=True, env=_pg_env(settings_dict), check=False
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip()
        raise BackupError(
            f"pg_restore failed (exit {result.returncode}); nothing was restored: {message[-2000:]}"
        )


def _place_evidence(staged: Path, evidence_dir: Path, progress: Progress) -> int:
    moved = 0
    directories: set[Path] = set()
    if not staged.is_dir():
        return 0
    for relative, path in _walk(staged):
        target = evidence_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path, 0o600)
        shutil.move(path, target)
        directories.add(target.parent)
        moved += 1
        progress.tick(f"  evidence: {moved} file(s) put back")
    for directory in directories:
        _fsync_dir(directory)
    return moved


# Verification


def vault_blob_sha256(path: Path, file_id: uuid.UUID, key: bytes) -> str:
    """The SHA-256 of an evidence blob's plaintext (the vault's format, read as
    ``incidents.vault.read_blob`` does); raises Damaged or OSError."""
    aead = AESGCM(key)
    digest = hashlib.sha256()
    with open(path, "rb") as blob:
        if blob.read(len(VAULT_MAGIC)) != VAULT_MAGIC:
            raise Damaged("not an evidence blob")
        for chunk in stream_chunks(blob, aead, file_id.bytes, VAULT_MAX_SEALED, "the file"):
            digest.update(chunk)
    return digest.hexdigest()


def verify_restored(
    manifest: dict[str, Any], progress: Progress | None = None
) -> tuple[list[str], list[str]]:
    """Check a restored installation: the master key opens its data keys, the audit chain
    is whole and ends where the backup's did, and every stored file the database refers
    to is there and matches its intake SHA-256. Answers summary lines and problems."""
    progress = progress or Progress()
    lines: list[str] = []
    problems: list[str] = []

    master_ok = True
    stored_ids = set(DataKey.objects.values_list("master_key_id", flat=True))
    current_id = crypto.master_key_id(crypto.current_master_key())
    if stored_ids - {current_id}:
        master_ok = False
        problems.append(
            f"the restored data keys are wrapped by master key id(s) "
            f"{', '.join(sorted(stored_ids))}, but AMPARO_MASTER_KEY has id {current_id}: "
            "start Amparo with the master key the backup was made with"
        )
    else:
        lines.append(f"master key: id {current_id} opens the restored data keys")

    progress.say("verifying the audit chain")
    count, breaks = audit.verify_chain()
    problems.extend(f"audit: {b}" for b in breaks)
    expected = manifest.get("audit", {})
    head = AuditHead.objects.filter(pk=1).first()
    if head is None or (head.seq, head.last_hash) != (
        expected.get("head_seq"),
        expected.get("head_hash"),
    ):
        problems.append(
            f"audit: the restored chain ends at #{head.seq if head else 'nothing'}, the backup's "
            f"at #{expected.get('head_seq')}"
        )
    elif not breaks:
        lines.append(f"audit chain verified: {count} entries; head #{head.seq} matches the backup")

    progress.say("verifying the stored files against their intake SHA-256")
    evidence_dir = Path(settings.EVIDENCE_DIR)
    checked = matched = 0
    for model in vault_models():
        if not master_ok:
            break
        for row in model._default_manager.order_by("pk").iterator(chunk_size=200):
            checked += 1
            label = f"{model._meta.label_lower} {row.pk}"
            path = evidence_dir / blob_relative_path(row.organisation_id, row.pk)  # type: ignore[attr-defined]
            try:
                key = base64.b64decode(row.file_key)  # type: ignore[attr-defined]
                digest = vault_blob_sha256(path, uuid.UUID(str(row.pk)), key)
            except FileNotFoundError:
                problems.append(f"{label}: the file is missing from the evidence store ({path})")
                continue
            except (OSError, Damaged, binascii.Error, ValueError) as exc:
                problems.append(f"{label}: {exc}")
                continue
            except crypto.CryptoError as exc:
                problems.append(f"{label}: its file key does not open: {exc}")
                continue
            if digest != row.sha256:  # type: ignore[attr-defined]
                problems.append(
                    f"{label}: SHA-256 is {digest}, intake said {row.sha256}"  # type: ignore[attr-defined]
                )
                continue
            matched += 1
            progress.tick(f"  stored files: {checked} checked")
    if master_ok:
        lines.append(f"stored files verified: {matched} of {checked} match their intake SHA-256")
    return lines, problems


def check_archive(
    archive: Path, *, key_file: Path | None = None, progress: Progress | None = None
) -> Unpacked:
    """Authenticate a whole archive and read its manifest, writing nothing."""
    return unpack(archive, key_file=key_file, staging=None, progress=progress)
