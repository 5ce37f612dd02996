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
"""

from __future__ import annotations

import base64
import hashlib
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

MAGIC = b"AMPV1\n"
CHUNK = 64 * 1024
SNIFF_BYTES = 8 * 1024

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


class VaultError(Exception):
    """A blob that does not open: altered, truncated, or under another key."""


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
        self._out.write(MAGIC)

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
            self._out.close()
            self._out = None
        self.path.unlink(missing_ok=True)

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
        blob_path(self.organisation_id, self.evidence_id, part=True).unlink(missing_ok=True)
        blob_path(self.organisation_id, self.evidence_id).unlink(missing_ok=True)


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
        self.staged = StagedEvidence(organisation_id, os.path.basename(name)[:200] or "file")
        self.max_bytes = settings.AMPARO_EVIDENCE_MAX_BYTES if max_bytes is None else max_bytes
        self._hash = hashlib.sha256()
        self._head = bytearray()
        self._writer: BlobWriter | None = BlobWriter(
            organisation_id, self.staged.evidence_id, self.staged.key
        )

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
        self._writer.write(data)

    def finish(self) -> StagedEvidence:
        staged = self.staged
        if not staged.refused and not staged.content_type:
            self._check_type()
        if not staged.refused and staged.size == 0:
            self._refuse(_("it is empty"))
        if not staged.refused:
            assert self._writer is not None
            self._writer.close()
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
