"""Reading a submission POST: the multipart body streamed through the vault (attachments
are hashed, sniffed and sealed as they arrive; the XML part is kept in memory up to a
limit), with a Content-Length or with chunked transfer encoding."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser

from amparo.incidents import vault

XML_PART = "xml_submission_file"
INCOMPLETE_PART = "*isIncomplete*"


class TooLarge(Exception):
    pass


class LengthRequired(Exception):
    pass


def advertised_bytes() -> int:
    """X-OpenRosa-Accept-Content-Length: above this, phones split a submission
    (``AMPARO_OPENROSA_MAX_BYTES``, read by settings.py)."""
    return int(settings.AMPARO_OPENROSA_MAX_BYTES)


def body_limit() -> int:
    """The largest body taken: a phone sends a single attachment larger than the
    advertised size on its own, so up to the evidence limit plus the XML."""
    return max(advertised_bytes(), int(settings.AMPARO_EVIDENCE_MAX_BYTES)) + 2 * XML_MAX_BYTES


XML_MAX_BYTES = 1024 * 1024
MAX_ATTACHMENTS = 30


class CappedReader:
    """A chunked body as the WSGI server hands it over (read to its end), refused past
    ``limit`` bytes."""

    def __init__(self, stream: Any, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.stream.read(size if size and size > 0 else 64 * 1024)
        self.count += len(data)
        if self.count > self.limit:
            raise TooLarge
        return data


class SubmissionUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest, organisation_id: Any) -> None:
        super().__init__(request)
        self.organisation_id = organisation_id
        self.xml: bytearray | None = None
        self._in_xml = False
        self._stager: vault.Stager | None = None
        self.staged: list[vault.StagedEvidence] = []

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name == XML_PART:
            self._in_xml = True
            self.xml = bytearray()
            return
        if len(self.staged) >= MAX_ATTACHMENTS:
            raise TooLarge
        # ODK Collect names each attachment part, and its file, by the file's name.
        self._stager = vault.Stager(self.organisation_id, file_name or field_name)
        self.staged.append(self._stager.staged)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self._in_xml:
            assert self.xml is not None
            self.xml += raw_data
            if len(self.xml) > XML_MAX_BYTES:
                raise TooLarge
            return None
        assert self._stager is not None
        self._stager.feed(raw_data)
        return None

    def file_complete(self, file_size: int) -> Any:
        if self._in_xml:
            self._in_xml = False
            return None
        assert self._stager is not None
        staged = self._stager.finish()
        self._stager = None
        return vault.StagedUpload(staged)

    def upload_interrupted(self) -> None:
        if self._stager is not None:
            self._stager._refuse("interrupted")
            self._stager = None

    def discard_all(self) -> None:
        for staged in self.staged:
            staged.discard()


def parse_body(request: HttpRequest, handler: SubmissionUploadHandler) -> tuple[Any, Any]:
    """POST fields and files, through ``handler``. Raises TooLarge, LengthRequired, or
    Django's MultiPartParserError for a body that is not multipart."""
    limit = body_limit()
    meta = request.META
    length = meta.get("CONTENT_LENGTH") or ""
    stream: Any
    if length:
        try:
            if int(length) > limit:
                raise TooLarge
        except ValueError:
            raise LengthRequired from None
        stream = request
    elif "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower() and meta.get(
        "wsgi.input_terminated"
    ):
        # Django reads a body by its Content-Length only; a server that de-chunks
        # (gunicorn) says so with wsgi.input_terminated, and the body ends at EOF.
        stream = CappedReader(meta["wsgi.input"], limit)
        meta = {**meta, "CONTENT_LENGTH": str(limit)}
    else:
        raise LengthRequired
    parser = MultiPartParser(meta, stream, [handler], request.encoding)
    return parser.parse()
