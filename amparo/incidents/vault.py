"""The evidence vault: files encrypted at rest as they arrive, never whole in memory and
never in plaintext on disk.

Each file has its own random 256-bit key, sealed in its database row by the
organisation's data key (core.crypto, through EncryptedTextField). The file is cut into
64 KiB chunks, each sealed with AES-256-GCM: the nonce is the chunk's number and a "last
chunk" flag, the associated data the file's id, so chunks cannot be reordered, dropped,
moved to another file or cut off at the end without the reader noticing (the STREAM
construction of Hoang, Reyhanitabar, Rogaway and Vizár, as age and Tink use it).

Blob layout: ``AMPV1\\n`` then, per chunk, a 4-byte big-endian length and the sealed chunk.

Uploads are written by ``VaultUploadHandler`` while the request body streams in: it hashes
with SHA-256, checks the size limit and the content type (from the bytes, not from the
name or the browser's word), and writes sealed chunks to ``<id>.part``; the report action
renames the blob when the report commits (``commit``) or removes it (``discard``).

When the store itself fails (no space left, read-only, gone) while a file arrives, the file
is refused like any other, with a reason the person can read, and what was written of it
is removed: the report goes on without it and the receipt says so (issue 10, point 2).
The error goes to the log for the operator.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import struct
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import puremagic
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

log = logging.getLogger("amparo.incidents.vault")

MAGIC = b"AMPV1\n"
CHUNK = 64 * 1024
SNIFF_BYTES = 8 * 1024
# Files kept per request from the web form, as the API's schema allows (incidents.api);
# later ones are refused by name and never written. Each is at most
# AMPARO_EVIDENCE_MAX_BYTES, so one request stages at most this many times that.
MAX_FILES = 20
NAME_LENGTH = 200

# Reference, Section 1, Step 2: "any recordings, photos, or screenshots available"; the
# report form also takes video and PDF. Judged from the content, never from the name.
ALLOWED_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/heic",
        "image/heif",
        "image/bmp",
        "audio/mpeg",
        "audio/mp4",
        "audio/x-m4a",
        "audio/aac",
        "audio/ogg",
        "audio/opus",
        "audio/wav",
        "audio/x-wav",
        "audio/wave",
        "audio/amr",
        "audio/3gpp",
        "audio/webm",
        "audio/flac",
        "video/mp4",
        "video/quicktime",
        "video/3gpp",
        "video/webm",
        "video/x-matroska",
        "video/ogg",
        "application/ogg",  # what the bytes of an Ogg Opus voice note say
        "application/pdf",
    }
)


# The file name extensions each accepted type may carry. A download whose name ends
# otherwise gets the type's own extension added (``download_name``).
EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg", ".jfif"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/heic": (".heic",),
    "image/heif": (".heif", ".heic"),
    "image/bmp": (".bmp",),
    "audio/mpeg": (".mp3",),
    "audio/mp4": (".m4a", ".mp4", ".aac"),
    "audio/x-m4a": (".m4a",),
    "audio/aac": (".aac",),
    "audio/ogg": (".ogg", ".oga", ".opus"),
    "audio/opus": (".opus", ".ogg"),
    "audio/wav": (".wav",),
    "audio/x-wav": (".wav",),
    "audio/wave": (".wav",),
    "audio/amr": (".amr",),
    "audio/3gpp": (".3gp", ".3ga"),
    "audio/webm": (".webm", ".weba"),
    "audio/flac": (".flac",),
    "video/mp4": (".mp4", ".m4v"),
    "video/quicktime": (".mov", ".qt"),
    "video/3gpp": (".3gp",),
    "video/webm": (".webm",),
    "video/x-matroska": (".mkv",),
    "video/ogg": (".ogv", ".ogg"),
    "application/ogg": (".ogg", ".opus", ".oga", ".ogv"),
    "application/pdf": (".pdf",),
}


def safe_name(name: str) -> str:
    """The name a file is kept under (sealed, never a path): its last component after
    ``/`` or ``\\`` (a browser on Windows may send the whole path), without control
    characters, at most NAME_LENGTH characters with its extension kept; "file" when
    nothing is left, or only dots."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    if not name.strip("."):
        return "file"
    if len(name) > NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= 16:
            name = stem[: NAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            name = name[:NAME_LENGTH]
    return name


def download_name(name: str, content_type: str) -> str:
    """The name to hand a download under: the kept name, with the extension of the type
    the bytes were judged to be added when the name claims another (``report.html`` that
    is a JPEG becomes ``report.html.jpg``), so that opening the saved file cannot run it
    as a page or a program."""
    name = safe_name(name)
    allowed = EXTENSIONS.get(content_type)
    if not allowed:
        return name
    if "." in name and "." + name.rsplit(".", 1)[-1].lower() in allowed:
        return name
    return name + allowed[0]


class VaultError(Exception):
    """A blob that does not open: altered, truncated, or under another key."""


def store_failure() -> str:
    """Why a file was not kept when the evidence store failed under it."""
    return _(
        "the server could not store it: its evidence storage is full or cannot be written "
        "to. Your report was kept without it; send the file again later"
    )


def remove_quietly(path: Path) -> None:
    """Remove a staged or orphaned blob; a store that refuses even that (read-only) is
    logged, not raised: cleaning up must not hide the answer or the first error."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.error("evidence store: could not remove %s (%s)", path, exc.strerror or exc)


def evidence_dir() -> Path:
    return Path(settings.EVIDENCE_DIR)


def blob_path(organisation_id: Any, evidence_id: Any, part: bool = False) -> Path:
    return evidence_dir() / str(organisation_id) / f"{evidence_id}{'.part' if part else '.bin'}"


def new_key() -> bytes:
    return secrets.token_bytes(32)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def decode_key(text: str) -> bytes:
    return base64.b64decode(text)


def _nonce(index: int, last: bool) -> bytes:
    return struct.pack(">QI", index, 1 if last else 0)


class BlobWriter:
    """Seals a stream chunk by chunk into ``<id>.part``."""

    def __init__(self, organisation_id: Any, evidence_id: uuid.UUID, key: bytes) -> None:
        self.path = blob_path(organisation_id, evidence_id, part=True)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._aead = AESGCM(key)
        self._aad = evidence_id.bytes
        self._buffer = bytearray()
        self._index = 0
        self._out: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        try:
            self._out.write(MAGIC)
        except OSError:
            self.abort()
            raise

    def write(self, data: bytes) -> None:
        self._buffer += data
        # Keep at least one byte back: the last chunk must be known to be the last.
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]

    def close(self) -> None:
        if self._out is None:
            return
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        self._out = None

    def abort(self) -> None:
        if self._out is not None:
            out, self._out = self._out, None
            try:
                out.close()  # closes the file even when flushing its buffer fails
            except OSError:
                pass
        remove_quietly(self.path)

    def _seal(self, chunk: bytes, last: bool) -> None:
        assert self._out is not None
        sealed = self._aead.encrypt(_nonce(self._index, last), chunk, self._aad)
        self._out.write(struct.pack(">I", len(sealed)))
        self._out.write(sealed)
        self._index += 1


def read_blob(path: Path, evidence_id: uuid.UUID, key: bytes) -> Iterator[bytes]:
    """The plaintext, chunk by chunk; raises VaultError on any tampering."""
    aead = AESGCM(key)
    aad = evidence_id.bytes
    with open(path, "rb") as blob:
        if blob.read(len(MAGIC)) != MAGIC:
            raise VaultError("not an evidence blob")
        index = 0
        while True:
            header = blob.read(4)
            if len(header) < 4:
                raise VaultError("the file ends before its last chunk (truncated)")
            (length,) = struct.unpack(">I", header)
            sealed = blob.read(length)
            if len(sealed) < length:
                raise VaultError("the file ends inside a chunk (truncated)")
            for last in (False, True):
                try:
                    chunk = aead.decrypt(_nonce(index, last), sealed, aad)
                    break
                except InvalidTag:
                    continue
            else:
                raise VaultError(f"chunk {index} does not open (altered)")
            yield chunk
            index += 1
            if last:
                if blob.read(1):
                    raise VaultError("data after the last chunk")
                return


# What puremagic names by extension only (no MIME type, or a generic one), and its
# older names for types accepted under their standard name.
BY_EXTENSION = {".amr": "audio/amr", ".3ga": "audio/3gpp", ".m4a": "audio/mp4"}
ALIASES = {"image/x-ms-bmp": "image/bmp", "audio/x-opus+ogg": "audio/ogg"}


def sniff(head: bytes) -> str:
    """The content type the bytes say, or "" when they say nothing known."""
    if not head:
        return ""
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return ""
    for match in matches:
        mime = (match.mime_type or "").lower()
        if not mime or mime == "application/octet-stream":
            # AMR, what call recorders and basic phones record in, has no MIME type in
            # puremagic's table, only its extension.
            by_extension = BY_EXTENSION.get((match.extension or "").lower())
            if by_extension:
                return by_extension
            continue
        return ALIASES.get(mime, mime)
    return ""


EXECUTABLE_HINTS = (
    "executable",
    "x-elf",
    "mach",
    "appimage",
    "msdownload",
    "sharedlib",
    "x-dosexec",
)
ARCHIVE_HINTS = (
    "zip",
    "x-7z",
    "gzip",
    "x-rar",
    "x-tar",
    "bzip",
    "x-xz",
    "openxmlformats",
    "x-iso9660",
)


def refusal(content_type: str) -> str:
    """Why a content type is refused ("" when it is accepted). The sniffer's guess at
    what a refused file is can be wrong in its details (an ELF program may read as an
    "AppImage", a zip as a ".docx"), so the reason names the family, not the guess."""
    if content_type in ALLOWED_TYPES:
        return ""
    if any(hint in content_type for hint in EXECUTABLE_HINTS):
        return _("it is a program; only audio, photos, video and PDF files are accepted")
    if any(hint in content_type for hint in ARCHIVE_HINTS):
        return _(
            "it is an archive or an office document; only audio, photos, video and PDF "
            "files are accepted"
        )
    return _("it is not an audio, photo, video or PDF file, the only kinds accepted")


@dataclass
class StagedEvidence:
    """A file received by the upload handler: sealed on disk as ``<id>.part``, or
    refused with a reason (its bytes dropped)."""

    organisation_id: Any
    name: str
    evidence_id: uuid.UUID = field(default_factory=uuid.uuid4)
    key: bytes = field(default_factory=new_key)
    content_type: str = ""
    size: int = 0
    sha256: str = ""
    refused: str = ""

    def row_fields(self) -> dict[str, Any]:
        """The columns every model of a vault file shares (evidence, hotspot photos, travel
        documents): its id is the blob's name, its key sealed by the row's field."""
        return {
            "id": self.evidence_id,
            "organisation_id": self.organisation_id,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "file_key": encode_key(self.key),
        }

    def commit(self) -> None:
        """Make the blob final (the report committed), durably: the rename is on disk
        before the report's commit confirms it."""
        final = blob_path(self.organisation_id, self.evidence_id)
        os.replace(blob_path(self.organisation_id, self.evidence_id, part=True), final)
        directory = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def discard(self) -> None:
        remove_quietly(blob_path(self.organisation_id, self.evidence_id, part=True))
        remove_quietly(blob_path(self.organisation_id, self.evidence_id))


class StagedUpload(UploadedFile):
    """What the handler hands to ``request.FILES``: no content, only the staged file."""

    def __init__(self, staged: StagedEvidence) -> None:
        super().__init__(file=None, name=staged.name, content_type=staged.content_type)
        self.size = staged.size
        self.staged = staged


def stage_stream(
    organisation_id: Any, name: str, chunks: Iterator[bytes], max_bytes: int | None = None
) -> StagedEvidence:
    """Stage a file from chunks (the API's base64 body, a test, an import)."""
    stager = Stager(organisation_id, name, max_bytes)
    for chunk in chunks:
        stager.feed(chunk)
    return stager.finish()


class Stager:
    """Hash, size-check, sniff and seal a file as its bytes arrive."""

    def __init__(self, organisation_id: Any, name: str, max_bytes: int | None = None) -> None:
        self.staged = StagedEvidence(organisation_id, safe_name(name))
        self.max_bytes = settings.AMPARO_EVIDENCE_MAX_BYTES if max_bytes is None else max_bytes
        self._hash = hashlib.sha256()
        self._head = bytearray()
        self._writer: BlobWriter | None = None
        try:
            self._writer = BlobWriter(organisation_id, self.staged.evidence_id, self.staged.key)
        except OSError as exc:
            self._store_failed(exc)

    def feed(self, data: bytes) -> None:
        staged = self.staged
        if staged.refused:
            staged.size += len(data)
            return
        staged.size += len(data)
        if staged.size > self.max_bytes:
            self._refuse(
                _("it is larger than the limit of %(size)s")
                % {"size": filesizeformat(self.max_bytes)}
            )
            return
        if len(self._head) < SNIFF_BYTES:
            self._head += data[: SNIFF_BYTES - len(self._head)]
            if len(self._head) >= SNIFF_BYTES and not self._check_type():
                return
        self._hash.update(data)
        assert self._writer is not None
        try:
            self._writer.write(data)
        except OSError as exc:
            self._store_failed(exc)

    def finish(self) -> StagedEvidence:
        staged = self.staged
        if not staged.refused and not staged.content_type:
            self._check_type()
        if not staged.refused and staged.size == 0:
            self._refuse(_("it is empty"))
        if not staged.refused:
            assert self._writer is not None
            try:
                self._writer.close()
            except OSError as exc:
                self._store_failed(exc)
                return staged
            staged.sha256 = self._hash.hexdigest()
        return staged

    def _check_type(self) -> bool:
        content_type = sniff(bytes(self._head))
        reason = refusal(content_type)
        if reason:
            self._refuse(reason)
            return False
        self.staged.content_type = content_type
        return True

    def _store_failed(self, exc: OSError) -> None:
        """The store failed (ENOSPC, EFBIG, EROFS, EACCES...): the file is refused and what
        was written of it removed; the operator finds why in the log."""
        log.error(
            "evidence store: could not write a file of organisation %s (%s); it was refused",
            self.staged.organisation_id,
            f"{exc.strerror or exc} [errno {exc.errno}]",
        )
        self._refuse(store_failure())

    def _refuse(self, reason: str) -> None:
        self.staged.refused = reason
        if self._writer is not None:
            self._writer.abort()
            self._writer = None


class VaultUploadHandler(FileUploadHandler):
    """Streams each uploaded file of a request into the vault of ``organisation_id``.
    Install it before the body is read: ``request.upload_handlers = [...]`` in a view that
    is ``csrf_exempt`` outside and ``csrf_protect`` inside (Django's documented pattern)."""

    def __init__(self, request: Any = None, organisation_id: Any = None) -> None:
        super().__init__(request)
        self.organisation_id = organisation_id
        self.stager: Stager | None = None
        self.staged: list[StagedEvidence] = []

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.stager = Stager(self.organisation_id, self.file_name or "file")
        if sum(1 for s in self.staged if s.refused != "empty") >= MAX_FILES:
            # Refused at once, its bytes dropped as they come: one request cannot fill
            # the disk.
            self.stager._refuse(_("a report takes at most %(count)s files") % {"count": MAX_FILES})
        # Known from the start, so a request cut off mid-file still has it removed.
        self.staged.append(self.stager.staged)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        assert self.stager is not None
        self.stager.feed(raw_data)
        return None

    def file_complete(self, file_size: int) -> StagedUpload | None:
        assert self.stager is not None
        staged = self.stager.finish()  # the object new_file listed in self.staged
        self.stager = None
        if not self.file_name and staged.size == 0:
            # An empty file input (no file chosen): nothing was uploaded.
            staged.refused = staged.refused or "empty"
            return None
        return StagedUpload(staged)

    def upload_interrupted(self) -> None:
        if self.stager is not None:
            self.stager._refuse("interrupted")
            self.stager = None

    def discard_all(self) -> None:
        for staged in self.staged:
            staged.discard()
