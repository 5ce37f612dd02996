"""The OpenRosa endpoints as ODK Collect and Tella use them: formList, form download,
manifest, HEAD submission, Digest and Basic authentication, and who may use them."""

from __future__ import annotations

import base64
import hashlib
import time
import xml.etree.ElementTree as ET  # noqa: S405 - parsing our own responses

import pytest
from django.test import Client

from amparo.channels.openrosa import actions, auth, xforms
from amparo.core.models import AuditEntry
from tests.channels.openrosa_phone import Phone, digest_fields, digest_header

NS = "{http://openrosa.org/xforms/xformsList}"


@pytest.fixture
def device(world):
    return actions.create_device("test", world.org_a, label="Teléfono de Rosa")


@pytest.fixture
def phone(device, client):
    registered, password = device
    return Phone(client, registered.username, password)


def test_it_challenges_without_credentials(world, client):
    response = client.get("/openrosa/org-a/formList", headers={"X-OpenRosa-Version": "1.0"})
    assert response.status_code == 401
    assert response["X-OpenRosa-Version"] == "1.0"
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Digest realm="Amparo org-a", qop="auth", algorithm=MD5')
    assert "Basic" not in challenge  # never offered over plain HTTP
    secure = client.get("/openrosa/org-a/formList", secure=True)
    assert 'Basic realm="Amparo org-a"' in secure["WWW-Authenticate"]


def test_it_lists_the_forms_with_digest_auth(phone):
    response = phone.send("GET", "/openrosa/org-a/formList")
    assert phone.log == [401, 200]
    assert response["X-OpenRosa-Version"] == "1.0"
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)  # noqa: S314
    assert root.tag == f"{NS}xforms"
    forms = {x.findtext(f"{NS}formID"): x for x in root.findall(f"{NS}xform")}
    assert set(forms) == {"amparo_threat_report", "amparo_hotspot_observation"}
    threat = forms["amparo_threat_report"]
    assert threat.findtext(f"{NS}name") == "Amparo: reporte de amenaza"
    assert threat.findtext(f"{NS}version") == "2026112801"
    download = threat.findtext(f"{NS}downloadUrl")
    assert download == "http://testserver/openrosa/org-a/forms/amparo_threat_report/form.xml"
    assert threat.findtext(f"{NS}manifestUrl").endswith("/amparo_threat_report/manifest")
    # The hash is the MD5 of exactly the bytes the download gives.
    form = phone.send("GET", download.removeprefix("http://testserver"))
    assert form.status_code == 200
    assert threat.findtext(f"{NS}hash") == "md5:" + hashlib.md5(form.content).hexdigest()  # noqa: S324
    assert b"<h:title>Amparo: reporte de amenaza</h:title>" in form.content
    # Once authenticated, the phone sends Digest proactively: no second challenge.
    assert phone.log == [401, 200, 200]


def test_it_filters_the_list_by_form_id(phone):
    response = phone.send("GET", "/openrosa/org-a/formList?formID=amparo_hotspot_observation")
    ids = [e.text for e in ET.fromstring(response.content).iter(f"{NS}formID")]  # noqa: S314
    assert ids == ["amparo_hotspot_observation"]


def test_it_serves_an_empty_manifest(phone):
    response = phone.send("GET", "/openrosa/org-a/forms/amparo_threat_report/manifest")
    assert response.status_code == 200
    assert b'<manifest xmlns="http://openrosa.org/xforms/xformsManifest"/>' in response.content


def test_unknown_forms_are_not_found(phone):
    assert phone.send("GET", "/openrosa/org-a/forms/nope/form.xml").status_code == 404
    assert phone.send("GET", "/openrosa/org-a/forms/nope/manifest").status_code == 404


def test_head_submission_answers_204_with_the_size_it_takes(phone):
    response = phone.send("HEAD", "/openrosa/org-a/submission")
    assert response.status_code == 204
    assert response["X-OpenRosa-Version"] == "1.0"
    assert int(response["X-OpenRosa-Accept-Content-Length"]) == 10 * 1024 * 1024


def test_it_takes_basic_auth_over_https_only(device, client):
    registered, password = device
    token = base64.b64encode(f"{registered.username}:{password}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "X-OpenRosa-Version": "1.0"}
    assert client.get("/openrosa/org-a/formList", headers=headers, secure=True).status_code == 200
    assert client.get("/openrosa/org-a/formList", headers=headers).status_code == 401


def test_it_refuses_a_wrong_password(device, client):
    registered, _password = device
    phone = Phone(client, registered.username, "not the password")
    assert phone.send("GET", "/openrosa/org-a/formList").status_code == 401
    token = base64.b64encode(f"{registered.username}:nope".encode()).decode()
    basic = client.get(
        "/openrosa/org-a/formList", headers={"Authorization": f"Basic {token}"}, secure=True
    )
    assert basic.status_code == 401


def test_it_refuses_a_revoked_device(world, device, phone):
    assert phone.send("GET", "/openrosa/org-a/formList").status_code == 200
    actions.revoke_device(world.coordinator.user, device[0])
    assert phone.send("GET", "/openrosa/org-a/formList").status_code == 401
    assert AuditEntry.objects.filter(action="openrosa.device_revoked").exists()


def test_it_validates_ownership(world, device, client):
    """A device of organisation A is nobody at organisation B, and an unknown
    organisation answers exactly like a wrong password."""
    registered, password = device
    phone = Phone(client, registered.username, password)
    assert phone.send("GET", "/openrosa/org-b/formList").status_code == 401
    assert phone.send("HEAD", "/openrosa/org-b/submission").status_code == 401
    assert phone.send("GET", "/openrosa/no-such-org/formList").status_code == 401
    device_b, password_b = actions.create_device("test", world.org_b, label="B")
    phone_b = Phone(client, device_b.username, password_b)
    assert phone_b.send("GET", "/openrosa/org-a/formList").status_code == 401
    assert phone_b.send("GET", "/openrosa/org-b/formList").status_code == 200


def test_a_digest_for_another_uri_is_refused(device, client):
    registered, password = device
    first = client.get("/openrosa/org-a/formList")
    fields = digest_fields(first["WWW-Authenticate"])
    header = digest_header(
        fields, registered.username, password, "GET", "/openrosa/org-a/submission", 1
    )
    response = client.get("/openrosa/org-a/formList", headers={"Authorization": header})
    assert response.status_code == 401


def test_an_old_nonce_is_stale_not_wrong(device, client, time_machine):
    registered, password = device
    fields = digest_fields(client.get("/openrosa/org-a/formList")["WWW-Authenticate"])
    time_machine.move_to(time.time() + auth.NONCE_SECONDS + 60)
    header = digest_header(
        fields, registered.username, password, "GET", "/openrosa/org-a/formList", 1
    )
    response = client.get("/openrosa/org-a/formList", headers={"Authorization": header})
    assert response.status_code == 401
    assert "stale=true" in response["WWW-Authenticate"]


def test_the_password_is_never_stored_and_ha1_is_sealed(device):
    from tests.core.raw import raw_column

    registered, password = device
    stored = raw_column(type(registered), "digest_ha1", registered.pk)
    assert stored.startswith("enc1:")
    assert password not in stored
    assert auth.digest_ha1(registered.username, "Amparo org-a", password) == registered.digest_ha1


def test_every_form_converts_once_per_process():
    assert xforms.xform("amparo_threat_report") is xforms.xform("amparo_threat_report")


def test_a_client_without_openrosa_headers_still_gets_them(phone):
    response = phone.send("GET", "/openrosa/org-a/")
    assert response.status_code == 200
    assert response["X-OpenRosa-Version"] == "1.0"


def test_tella_lists_the_forms(device, client):
    registered, password = device
    tella = Phone(Client(), registered.username, password, app="tella")
    assert tella.send("GET", "/openrosa/org-a/formList").status_code == 200
