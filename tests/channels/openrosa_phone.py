"""A phone for the OpenRosa tests: requests shaped as ODK Collect (OkHttp with its Digest
authenticator) and Tella (Retrofit) send them: X-OpenRosa-Version, a Date in the app's
own format, a User-Agent, HEAD before POST, and multipart bodies laid out part by part
as those apps write them."""

from __future__ import annotations

import hashlib
import secrets
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.test import Client

COLLECT_AGENT = (
    "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 6 Build/TQ3A.230901.001) "
    "org.odk.collect.android/v2024.3.1"
)
TELLA_AGENT = "okhttp/4.9.3"

# A tiny JPEG and an AMR voice note (what call recorders and basic phones make).
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\x00" * 64
    + b"\xff\xd9"
)
AMR = b"#!AMR\n" + b"\x3c" * 400


def collect_date() -> str:
    # Collect: SimpleDateFormat("E, dd MMM yyyy hh:mm:ss zz") in GMT (12-hour clock).
    return datetime.now(UTC).strftime("%a, %d %b %Y %I:%M:%S GMT")


def tella_date() -> str:
    # Tella: "EEE, d MMM yyyy HH:mm:ss " + "GMT" + "+00:00".
    now = datetime.now(UTC)
    return f"{now:%a}, {now.day} {now:%b %Y %H:%M:%S} GMT+00:00"


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def digest_fields(challenge: str) -> dict[str, str]:
    """The Digest challenge's parameters out of a WWW-Authenticate value that may also
    offer Basic."""
    text = challenge.split("Digest ", 1)[1].split(", Basic ", 1)[0]
    return urllib.request.parse_keqv_list(urllib.request.parse_http_list(text))


def digest_header(
    fields: dict[str, str], username: str, password: str, method: str, uri: str, nc: int
) -> str:
    ha1 = md5(f"{username}:{fields['realm']}:{password}")
    ha2 = md5(f"{method}:{uri}")
    cnonce = secrets.token_hex(8)
    count = f"{nc:08x}"
    response = md5(f"{ha1}:{fields['nonce']}:{count}:{cnonce}:auth:{ha2}")
    header = (
        f'Digest username="{username}", realm="{fields["realm"]}", '
        f'nonce="{fields["nonce"]}", uri="{uri}", response="{response}", qop=auth, '
        f'nc={count}, cnonce="{cnonce}", algorithm=MD5'
    )
    if "opaque" in fields:
        header += f', opaque="{fields["opaque"]}"'
    return header


@dataclass
class Part:
    name: str
    content: bytes
    filename: str | None = None
    content_type: str | None = None


def multipart(parts: list[Part], *, tella: bool = False) -> tuple[bytes, str]:
    """OkHttp's MultipartBody.FORM: Content-Disposition, then Content-Type (and, from
    Retrofit's @PartMap, Content-Transfer-Encoding: binary), CRLF line ends."""
    boundary = str(uuid.uuid4())
    out = bytearray()
    for part in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'Content-Disposition: form-data; name="{part.name}"'
        if part.filename is not None:
            disposition += f'; filename="{part.filename}"'
        out += disposition.encode() + b"\r\n"
        if tella and part.filename is not None:
            out += b"Content-Transfer-Encoding: binary\r\n"
        if part.content_type:
            out += f"Content-Type: {part.content_type}\r\n".encode()
        if part.content_type is None and part.filename is None:
            out += f"Content-Length: {len(part.content)}\r\n".encode()
        out += b"\r\n" + part.content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def submission_parts(
    xml: bytes, files: list[tuple[str, bytes, str]], *, incomplete: bool = False
) -> list[Part]:
    parts = [Part("xml_submission_file", xml, "submission.xml", "text/xml")]
    parts += [Part(name, content, name, kind) for name, content, kind in files]
    if incomplete:
        parts.append(Part("*isIncomplete*", b"yes"))
    return parts


@dataclass
class Phone:
    """An app with a user name and password; it answers 401 challenges with Digest and
    then sends the header proactively, as OkHttp's caching authenticator does."""

    client: Client
    username: str
    password: str
    app: str = "collect"
    secure: bool = False
    challenge: dict[str, str] | None = None
    nc: int = 0
    log: list[int] = field(default_factory=list)

    def headers(self) -> dict[str, str]:
        return {
            "User-Agent": COLLECT_AGENT if self.app == "collect" else TELLA_AGENT,
            "X-OpenRosa-Version": "1.0",
            "Date": collect_date() if self.app == "collect" else tella_date(),
            "Accept-Language": "es-PE",
            "Accept-Encoding": "gzip",
        }

    def send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        content_type: str = "application/octet-stream",
        **extra: Any,
    ) -> Any:
        for _attempt in range(2):
            headers = self.headers()
            if self.challenge is not None:
                self.nc += 1
                headers["Authorization"] = digest_header(
                    self.challenge, self.username, self.password, method, path, self.nc
                )
            response = self.client.generic(
                method,
                path,
                body,
                content_type=content_type,
                headers=headers,
                secure=self.secure,
                **extra,
            )
            self.log.append(response.status_code)
            if response.status_code != 401 or "Digest" not in response.get("WWW-Authenticate", ""):
                return response
            self.challenge = digest_fields(response["WWW-Authenticate"])
            self.nc = 0
        return response

    def submit(
        self,
        slug: str,
        xml: bytes,
        files: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
        *,
        incomplete: bool = False,
    ) -> Any:
        head = self.send("HEAD", f"/openrosa/{slug}/submission")
        assert head.status_code == 204, head.status_code
        body, content_type = multipart(
            submission_parts(xml, list(files), incomplete=incomplete), tella=self.app == "tella"
        )
        return self.send("POST", f"/openrosa/{slug}/submission", body, content_type)


def threat_xml(
    instance_id: str | None = None,
    *,
    physical_violence: str = "",
    attempted_assault: str = "",
    signs: str = "",
    illicit: str = "",
    knowledge: str = "",
    known: str = "",
    verbatim: str = "Nos dijeron que nos van a quemar la casa",
    photo: str = "",
    audio: str = "",
    occurred_date: str = "",
    occurred_time: str = "",
    location: str = "",
    form_id: str = "amparo_threat_report",
) -> bytes:
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    return (
        "<?xml version='1.0' ?>"
        f'<data id="{form_id}" version="2026112801" '
        'xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">'
        f"<step1><physical_violence>{physical_violence}</physical_violence>"
        f"<attempted_assault>{attempted_assault}</attempted_assault>"
        f"<imminent_harm_signs>{signs}</imminent_harm_signs>"
        f"<source_illicit_activity>{illicit}</source_illicit_activity>"
        f"<shows_knowledge_of_work>{knowledge}</shows_knowledge_of_work>"
        f"<source_known>{known}</source_known></step1>"
        f"<step2><occurred_date>{occurred_date}</occurred_date>"
        f"<occurred_time>{occurred_time}</occurred_time><place>Puerto Maldonado</place>"
        f"<location>{location}</location><region>Madre de Dios</region>"
        "<community>Tres Islas</community>"
        "<perpetrator_description>Dos hombres en moto</perpetrator_description>"
        f"<channel>in_person</channel><verbatim>{verbatim}</verbatim>"
        f"<evidence_photo>{photo}</evidence_photo><evidence_screenshot/>"
        f"<evidence_audio>{audio}</evidence_audio><evidence_video/></step2>"
        f"<meta><instanceID>{instance_id}</instanceID></meta></data>"
    ).encode()
