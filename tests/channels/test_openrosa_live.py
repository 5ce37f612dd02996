"""The Digest flow over real HTTP on loopback, as a phone meets it: a HEAD refused with
a challenge, the same HEAD with Digest answered 204, the form list, and a submission."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from amparo.channels.openrosa import actions
from amparo.incidents.models import ThreatReport
from tests.channels.openrosa_phone import (
    COLLECT_AGENT,
    collect_date,
    digest_fields,
    digest_header,
    multipart,
    submission_parts,
    threat_xml,
)


@pytest.mark.django_db(transaction=True)
def test_digest_over_http(live_server, world, settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    device, password = actions.create_device(
        "test", world.org_a, label="Rosa", person=world.defender_person
    )
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    base = {"User-Agent": COLLECT_AGENT, "X-OpenRosa-Version": "1.0"}

    def send(method: str, path: str, body: bytes | None = None, **headers: str):
        connection.request(method, path, body, {**base, "Date": collect_date(), **headers})
        response = connection.getresponse()
        return response, response.read()

    path = "/openrosa/org-a/submission"
    refused, _ = send("HEAD", path)
    assert refused.status == 401
    assert refused.getheader("X-OpenRosa-Version") == "1.0"
    challenge = digest_fields(refused.getheader("WWW-Authenticate"))
    assert challenge["qop"] == "auth" and challenge["algorithm"] == "MD5"

    def auth(method: str, uri: str, nc: int) -> str:
        return digest_header(challenge, device.username, password, method, uri, nc)

    head, _ = send("HEAD", path, Authorization=auth("HEAD", path, 1))
    assert head.status == 204
    assert head.getheader("X-OpenRosa-Accept-Content-Length")

    listed, body = send(
        "GET", "/openrosa/org-a/formList", Authorization=auth("GET", "/openrosa/org-a/formList", 2)
    )
    assert listed.status == 200
    assert b"<formID>amparo_threat_report</formID>" in body

    payload, content_type = multipart(submission_parts(threat_xml(physical_violence="yes"), []))
    posted, answer = send(
        "POST", path, payload, Authorization=auth("POST", path, 3), **{"Content-Type": content_type}
    )
    assert posted.status == 201, answer
    assert b"OpenRosaResponse" in answer
    assert ThreatReport.objects.get().level == "high"

    wrong = digest_header(challenge, device.username, "wrong", "HEAD", path, 4)
    refused_again, _ = send("HEAD", path, Authorization=wrong)
    assert refused_again.status == 401
    connection.close()
