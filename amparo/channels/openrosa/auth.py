"""HTTP authentication of OpenRosa app users, as the OpenRosa Authentication API asks:
RFC 2617 Digest (algorithm MD5, qop "auth" or none) and Basic over HTTPS only.

Nonces are stateless: a timestamp, a random part and an HMAC of both with the realm,
under a key derived from SECRET_KEY. A nonce older than NONCE_SECONDS is answered with
``stale=true`` so the phone recomputes without asking its user. Replays inside that
window are not tracked: every request a replay could repeat is read-only or idempotent
(a submission is kept by its instanceID)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from amparo.channels.models import OpenRosaDevice
from amparo.people.models import Organisation

NONCE_SECONDS = 600
SEEN_EVERY_SECONDS = 300


def realm_of(organisation: Organisation) -> str:
    return f"Amparo {organisation.slug}"


def md5(text: str) -> str:
    # MD5 is what RFC 2617 Digest and every OpenRosa client use; not our choice.
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def digest_ha1(username: str, realm: str, password: str) -> str:
    return md5(f"{username}:{realm}:{password}")


def _nonce_key() -> bytes:
    return hashlib.sha256(b"amparo.openrosa.nonce|" + settings.SECRET_KEY.encode()).digest()


def _nonce_mac(stamp: str, salt: str, realm: str) -> str:
    message = f"{stamp}:{salt}:{realm}".encode()
    return hmac.new(_nonce_key(), message, hashlib.sha256).hexdigest()[:32]


def new_nonce(realm: str) -> str:
    stamp, salt = str(int(time.time())), secrets.token_hex(8)
    return f"{stamp}.{salt}.{_nonce_mac(stamp, salt, realm)}"


def nonce_state(nonce: str, realm: str) -> str:
    """ "fresh", "stale" (ours but old) or "bad"."""
    try:
        stamp, salt, mac = nonce.split(".")
        issued = int(stamp)
    except ValueError:
        return "bad"
    if not hmac.compare_digest(mac, _nonce_mac(stamp, salt, realm)):
        return "bad"
    age = time.time() - issued
    if age < -5 or age > NONCE_SECONDS:
        return "stale"
    return "fresh"


def challenge(realm: str, *, secure: bool, stale: bool = False) -> str:
    """One WWW-Authenticate value with the challenges, Digest first. Basic is offered
    only over HTTPS (OpenRosa: Basic MUST NOT be performed over HTTP)."""
    digest = (
        f'Digest realm="{realm}", qop="auth", algorithm=MD5, '
        f'nonce="{new_nonce(realm)}", opaque="{secrets.token_hex(8)}"'
    )
    if stale:
        digest += ", stale=true"
    return f'{digest}, Basic realm="{realm}"' if secure else digest


@dataclass
class Outcome:
    device: OpenRosaDevice | None = None
    stale: bool = False


def authenticate(request: HttpRequest, organisation: Organisation) -> Outcome:
    header = request.headers.get("Authorization", "")
    scheme, _sep, credentials = header.partition(" ")
    realm = realm_of(organisation)
    if scheme.lower() == "digest":
        return _digest(request, organisation, realm, credentials)
    if scheme.lower() == "basic" and request.is_secure():
        return _basic(organisation, realm, credentials)
    return Outcome()


def _device(organisation: Organisation, username: str) -> OpenRosaDevice | None:
    device: OpenRosaDevice | None = OpenRosaDevice.objects.filter(
        organisation=organisation, username=username, revoked_at__isnull=True
    ).first()
    return device


def _seen(device: OpenRosaDevice) -> OpenRosaDevice:
    now = timezone.now()
    if device.last_seen_at is None or (now - device.last_seen_at).total_seconds() > (
        SEEN_EVERY_SECONDS
    ):
        OpenRosaDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now
    return device


def _basic(organisation: Organisation, realm: str, credentials: str) -> Outcome:
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return Outcome()
    username, sep, password = decoded.partition(":")
    if not sep:
        return Outcome()
    device = _device(organisation, username)
    if device is None or device.realm != realm:
        return Outcome()
    if not hmac.compare_digest(device.digest_ha1, digest_ha1(username, realm, password)):
        return Outcome()
    return Outcome(_seen(device))


def _digest(request: HttpRequest, organisation: Organisation, realm: str, text: str) -> Outcome:
    fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(text))
    needed = ("username", "realm", "nonce", "uri", "response")
    if any(not fields.get(key) for key in needed):
        return Outcome()
    if fields.get("algorithm", "MD5").upper() != "MD5" or fields["realm"] != realm:
        return Outcome()
    qop = fields.get("qop", "")
    if qop not in ("", "auth") or (qop and not (fields.get("nc") and fields.get("cnonce"))):
        return Outcome()
    # The digest covers the URI the client names; it must be this request's.
    named = urlsplit(fields["uri"])
    if (named.path, named.query) != (request.path, request.META.get("QUERY_STRING", "")):
        return Outcome()
    state = nonce_state(fields["nonce"], realm)
    if state == "bad":
        return Outcome()
    device = _device(organisation, fields["username"])
    if device is None or device.realm != realm:
        return Outcome()
    ha2 = md5(f"{request.method}:{fields['uri']}")
    if qop:
        expected = md5(
            f"{device.digest_ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{qop}:{ha2}"
        )
    else:
        expected = md5(f"{device.digest_ha1}:{fields['nonce']}:{ha2}")
    if not hmac.compare_digest(expected, fields["response"].lower()):
        return Outcome()
    if state == "stale":
        # The right password with an old nonce: ask again without prompting the user.
        return Outcome(stale=True)
    return Outcome(_seen(device))
