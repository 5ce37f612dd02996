"""The evidence vault (incidents.vault): files stream in and out sealed, are never whole in
memory nor plain on disk, and any change to a blob is detected. Real files in a scratch
directory."""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import struct
import tracemalloc
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import translation

from amparo.incidents import vault

ORG = uuid.UUID("00000000-0000-0000-0000-0000000000aa")
PIECE = 64 * 1024
MARKER = b"MARCADOR-PLANO-EVIDENCIA-5521"
# Enough bytes for the sniffer to see a whole head (vault.SNIFF_BYTES), none of them a
# known signature.
FILLER = bytes(range(256)) * 64

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
# A WhatsApp voice note: an Ogg page (version 0, first page) carrying Opus.
OGG = b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00"


@pytest.fixture(autouse=True)
def store(settings, tmp_path: Path) -> Path:
    settings.EVIDENCE_DIR = tmp_path
    return tmp_path


def pieces(data: bytes, size: int = PIECE) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def stage(data: bytes, name: str = "evidence.jpg", **kwargs) -> vault.StagedEvidence:
    staged = vault.stage_stream(ORG, name, pieces(data), **kwargs)
    if not staged.refused:
        staged.commit()
    return staged


def read(staged: vault.StagedEvidence, evidence_id: uuid.UUID | None = None) -> bytes:
    path = vault.blob_path(ORG, staged.evidence_id)
    return b"".join(vault.read_blob(path, evidence_id or staged.evidence_id, staged.key))


def files_in(store: Path) -> list[Path]:
    return sorted(p for p in store.rglob("*") if p.is_file())


def records(blob: bytes) -> list[bytes]:
    """The sealed chunks of a blob, each with its 4-byte length (vault's layout)."""
    assert blob.startswith(vault.MAGIC)
    rest, out = blob[len(vault.MAGIC) :], []
    while rest:
        (length,) = struct.unpack(">I", rest[:4])
        out.append(rest[: 4 + length])
        rest = rest[4 + length :]
    return out


def test_it_streams_a_large_file_through_without_holding_it(store):
    # About 12 MB in 64 KiB pieces, generated as it is fed: the file never exists whole
    # in this process, and the vault must not make it so.
    total = 12 * 1024 * 1024
    expected = hashlib.sha256()

    def generate() -> Iterator[bytes]:
        first = (JPEG + FILLER * 4)[:PIECE]
        expected.update(first)
        yield first
        for index in range(1, total // PIECE):
            piece = index.to_bytes(8, "big") * (PIECE // 8)
            expected.update(piece)
            yield piece

    tracemalloc.start()
    try:
        staged = vault.stage_stream(ORG, "video.jpg", generate(), max_bytes=64 * 1024 * 1024)
        _, peak_in = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert staged.refused == ""
        staged.commit()
        digest, size = hashlib.sha256(), 0
        for chunk in vault.read_blob(
            vault.blob_path(ORG, staged.evidence_id), staged.evidence_id, staged.key
        ):
            digest.update(chunk)
            size += len(chunk)
        _, peak_out = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert staged.size == size == total
    assert staged.sha256 == expected.hexdigest() == digest.hexdigest()
    # A few chunks' worth at most, against 12 MB.
    assert peak_in < 2 * 1024 * 1024, peak_in
    assert peak_out < 2 * 1024 * 1024, peak_out


def test_it_records_the_sha256_of_the_original(store):
    data = JPEG + FILLER * 20 + MARKER
    staged = stage(data)
    assert staged.sha256 == hashlib.sha256(data).hexdigest()
    assert staged.size == len(data)
    assert staged.content_type == "image/jpeg"
    assert read(staged) == data


def test_it_keeps_no_plaintext_on_disk(store):
    data = JPEG + (FILLER + MARKER) * 30
    staged = stage(data)
    blobs = files_in(store)
    assert blobs == [vault.blob_path(ORG, staged.evidence_id)]
    raw = blobs[0].read_bytes()
    assert MARKER not in raw
    assert JPEG not in raw
    assert raw.startswith(vault.MAGIC)


@pytest.fixture
def multi_chunk(store) -> vault.StagedEvidence:
    """A file of five chunks, its blob read back once to show it opens."""
    data = JPEG + FILLER * 19 + MARKER
    staged = stage(data)
    assert len(records(vault.blob_path(ORG, staged.evidence_id).read_bytes())) == 5
    assert read(staged) == data
    return staged


def test_it_detects_a_flipped_byte(multi_chunk):
    path = vault.blob_path(ORG, multi_chunk.evidence_id)
    blob = bytearray(path.read_bytes())
    blob[len(vault.MAGIC) + 4 + 1000] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(vault.VaultError, match="altered"):
        read(multi_chunk)


@pytest.mark.parametrize("cut", [1, 100])
def test_it_detects_a_truncated_blob(multi_chunk, cut):
    path = vault.blob_path(ORG, multi_chunk.evidence_id)
    blob = path.read_bytes()
    path.write_bytes(blob[:-cut])
    with pytest.raises(vault.VaultError, match="truncated"):
        read(multi_chunk)


def test_it_detects_a_blob_cut_at_a_chunk_boundary(multi_chunk):
    # Dropping the whole last chunk leaves a blob of well-formed chunks: only the "last
    # chunk" flag in the nonce tells that it ends too early.
    path = vault.blob_path(ORG, multi_chunk.evidence_id)
    blob = path.read_bytes()
    path.write_bytes(vault.MAGIC + b"".join(records(blob)[:-1]))
    with pytest.raises(vault.VaultError, match="truncated"):
        read(multi_chunk)


def test_it_detects_two_swapped_chunks(multi_chunk):
    path = vault.blob_path(ORG, multi_chunk.evidence_id)
    chunks = records(path.read_bytes())
    chunks[1], chunks[2] = chunks[2], chunks[1]
    path.write_bytes(vault.MAGIC + b"".join(chunks))
    with pytest.raises(vault.VaultError, match="altered"):
        read(multi_chunk)


def test_it_detects_a_blob_moved_under_another_id(multi_chunk):
    other = stage(PNG + FILLER * 3)
    # Even with the right key, a blob does not open under another file's id (the id is
    # the associated data of every chunk) ...
    with pytest.raises(vault.VaultError, match="altered"):
        read(multi_chunk, evidence_id=other.evidence_id)
    # ... and copied over another file, it does not open as that file.
    shutil.copyfile(
        vault.blob_path(ORG, multi_chunk.evidence_id), vault.blob_path(ORG, other.evidence_id)
    )
    with pytest.raises(vault.VaultError, match="altered"):
        read(other)


def test_it_detects_data_appended_after_the_last_chunk(multi_chunk):
    path = vault.blob_path(ORG, multi_chunk.evidence_id)
    path.write_bytes(path.read_bytes() + b"\x00" * 16)
    with pytest.raises(vault.VaultError):
        read(multi_chunk)


def test_it_refuses_a_file_over_the_size_limit_and_leaves_nothing(store):
    data = JPEG + FILLER * 40  # about 640 KiB
    with translation.override("en"):
        staged = vault.stage_stream(ORG, "big.jpg", pieces(data), max_bytes=256 * 1024)
    assert staged.refused == "it is larger than the limit of 256.0\xa0KB"
    assert staged.size == len(data)
    assert staged.sha256 == ""
    assert files_in(store) == []
    assert not vault.blob_path(ORG, staged.evidence_id, part=True).exists()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", FILLER.hex())
    return buffer.getvalue()


REFUSED = {
    "elf": lambda: Path("/bin/ls").read_bytes()[: 64 * 1024],
    "windows_pe": lambda: (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        + b"\x00" * 44
        + b"\x80\x00\x00\x00"
        + b"\x00" * 64
        + b"PE\x00\x00L\x01"
        + FILLER
    ),
    "zip": zip_bytes,
    "gzip": lambda: gzip.compress(FILLER * 4),
    "7z": lambda: b"7z\xbc\xaf\x27\x1c\x00\x04" + FILLER,
    "unknown": lambda: b"\x13\x37 nothing anyone knows " + FILLER,
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_it_refuses_executables_archives_and_unknown_bytes_with_a_reason(store, kind):
    # Named like a photo: the bytes decide, not the name.
    staged = vault.stage_stream(ORG, "photo.jpg", pieces(REFUSED[kind]()))
    assert staged.refused, f"{kind} was accepted as {staged.content_type}"
    assert len(staged.refused) > 10
    assert files_in(store) == []


def test_it_refuses_a_tiny_unknown_file_and_an_empty_one(store):
    assert vault.stage_stream(ORG, "a.jpg", iter([b"MZ\x90\x00"])).refused
    assert vault.stage_stream(ORG, "b.jpg", iter([])).refused
    assert files_in(store) == []


ACCEPTED = {
    "jpeg": (JPEG, "image/jpeg"),
    "png": (PNG, "image/png"),
    "pdf": (PDF, "application/pdf"),
    "mp4": (MP4, "video/mp4"),
    "ogg": (OGG, None),  # audio/ogg or a similar Ogg type: any that the vault accepts
}


@pytest.mark.parametrize("kind", sorted(ACCEPTED))
def test_it_accepts_photos_recordings_video_and_pdf(store, kind):
    head, content_type = ACCEPTED[kind]
    data = head + FILLER * 2 + MARKER
    # Named with a misleading extension: the content type still comes from the bytes.
    staged = stage(data, name="file.bin")
    assert staged.refused == ""
    assert staged.content_type in vault.ALLOWED_TYPES
    if content_type:
        assert staged.content_type == content_type
    assert read(staged) == data


@pytest.mark.parametrize(
    ("kind", "head", "expected"),
    [
        # What call recorders and basic phones write: puremagic knows it only by extension.
        ("amr", b"#!AMR\n" + b"\x3c\x48\xf5\x1f" * 64, "audio/amr"),
        ("amr-wb", b"#!AMR-WB\n" + b"\x04\x10\x20\x30" * 64, "audio/amr"),
        ("bmp", b"BM" + b"\x36\x00\x0c\x00" + b"\x00" * 250, "image/bmp"),
    ],
)
def test_it_accepts_phone_voice_recordings_and_bitmaps(store, kind, head, expected):
    staged = vault.stage_stream(ORG, f"file.{kind}", iter([head]))
    assert staged.refused == ""
    assert staged.content_type == expected
