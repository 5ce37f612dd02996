"""Rate limits (issue 10, amparo/core/ratelimit.py) on what anyone can reach without an
account: the anonymous report form and API (one budget), receipt lookups (page and API,
one budget), the SMS webhooks and OpenRosa submissions. The request after the limit is
refused with 429 before anything is stored; other addresses, and other organisations'
gateways, are not affected; the counters' table holds no IP address, in any form; the
limits can be turned off by settings."""

from __future__ import annotations

import ipaddress
import pickle
import threading
import time
from typing import Any

import pytest
from django.core.cache import caches
from django.db import DatabaseError, connection, connections
from django.test import Client, override_settings
from django.utils import translation

from amparo.channels.models import InboundSms
from amparo.channels.sms import actions as sms_actions
from amparo.core import ratelimit
from amparo.incidents.models import ThreatReport
from tests.incidents.test_pages import form_data

ADDRESS = "203.0.113.77"
OTHER = "198.51.100.9"
IPV6 = "2001:db8:abcd:12:0:0:0:77"
TABLE = ratelimit.TABLE


@pytest.fixture(autouse=True)
def limits_on(settings):
    """The suite runs with the limits off (tests.testenv): a live server's counters
    outlive their test. Here they are on."""
    settings.AMPARO_RATE_LIMITS = settings.RATELIMIT_ENABLE = True


@pytest.fixture(autouse=True)
def evidence_store(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


def rows() -> list[tuple[Any, ...]]:
    """Every row of the counters' table, every column, as stored."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(TABLE)}")  # noqa: S608
        return list(cursor.fetchall())


def web_report(address: str = ADDRESS, **extra: Any) -> Any:
    return Client(REMOTE_ADDR=address, **extra).post("/report/org-a/", form_data())


def api_report(address: str = ADDRESS) -> Any:
    return Client(REMOTE_ADDR=address).post(
        "/api/v1/public/threats/org-a",
        {"verbatim": "Te vamos a desaparecer", "channel": "phone_call"},
        content_type="application/json",
    )


# Anonymous reports


@override_settings(AMPARO_RATE_ANON_REPORTS="3/h")
def test_the_web_form_refuses_the_report_after_the_limit(world):
    for _ in range(3):
        assert web_report().status_code == 200
    with translation.override("en"):
        refused = web_report(HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    text = refused.content.decode()
    assert "Your report was not saved" in text
    assert "back button" in text
    assert ThreatReport.objects.count() == 3
    # Another address is not affected; showing the form is not counted.
    assert web_report(OTHER).status_code == 200
    assert Client(REMOTE_ADDR=ADDRESS).get("/report/org-a/").status_code == 200
    assert ThreatReport.objects.count() == 4


@override_settings(AMPARO_RATE_ANON_REPORTS="2/h")
def test_the_api_and_the_web_form_share_one_budget(world):
    assert api_report().status_code == 201
    assert web_report().status_code == 200
    refused = api_report()
    assert refused.status_code == 429
    assert set(refused.json()) == {"detail"}
    assert int(refused["Retry-After"]) > 0
    assert web_report().status_code == 429
    assert ThreatReport.objects.count() == 2
    assert api_report(OTHER).status_code == 201


def test_the_api_documents_its_429(client, db):
    spec = client.get("/api/openapi.json").json()
    responses = spec["paths"]["/api/v1/public/threats/{org_slug}"]["post"]["responses"]
    assert "429" in responses


@override_settings(AMPARO_RATE_ANON_REPORTS="1/h")
def test_an_ipv6_client_is_counted_by_its_64(world):
    assert web_report(IPV6).status_code == 200
    assert web_report("2001:db8:abcd:12:ffff::1").status_code == 429  # the same /64
    assert web_report("2001:db8:abcd:13::77").status_code == 200  # another /64


@override_settings(AMPARO_RATE_ANON_REPORTS="1/h", AMPARO_CLIENT_IP_HEADER="X-Real-IP")
def test_behind_a_proxy_the_clients_address_comes_from_the_configured_header(world):
    proxy = "10.0.0.2"
    assert web_report(proxy, HTTP_X_REAL_IP=ADDRESS).status_code == 200
    assert web_report(proxy, HTTP_X_REAL_IP=OTHER).status_code == 200
    assert web_report(proxy, HTTP_X_REAL_IP=ADDRESS).status_code == 429
    # The header's last address is the one the proxy added; what the client sent is not.
    assert web_report(proxy, HTTP_X_REAL_IP=f"192.0.2.1, {OTHER}").status_code == 429


# Receipt lookups


def receipt_page(code: str, address: str = ADDRESS) -> Any:
    return Client(REMOTE_ADDR=address).post("/report/status/", {"code": code})


def receipt_api(code: str, address: str = ADDRESS) -> Any:
    return Client(REMOTE_ADDR=address).get(f"/api/v1/public/threats/status/{code}")


@override_settings(AMPARO_RATE_RECEIPTS="3/h")
def test_receipt_lookups_are_limited_on_the_page_and_the_api_together(world):
    code = api_report().json()["receipt"]
    assert receipt_page(code).context["found"]["receipt"] == code
    assert receipt_api(code).status_code == 200
    assert receipt_api("AAAA-BBBB-CCCC").status_code == 404  # a miss counts too
    refused = receipt_api(code)
    assert refused.status_code == 429
    assert set(refused.json()) == {"detail"}
    assert int(refused["Retry-After"]) > 0
    with translation.override("en"):
        page = Client(REMOTE_ADDR=ADDRESS, HTTP_ACCEPT_LANGUAGE="en").post(
            "/report/status/", {"code": code}
        )
    assert page.status_code == 429
    assert "No status was looked up" in page.content.decode()
    assert code not in page.content.decode()
    # Showing the empty form is not counted; another address is not affected.
    assert Client(REMOTE_ADDR=ADDRESS).get("/report/status/").status_code == 200
    assert receipt_api(code, OTHER).status_code == 200


def test_the_receipt_api_documents_its_429(client, db):
    spec = client.get("/api/openapi.json").json()
    responses = spec["paths"]["/api/v1/public/threats/status/{receipt}"]["get"]["responses"]
    assert "429" in responses


# SMS webhooks and OpenRosa


@override_settings(AMPARO_RATE_SMS="3/m")
def test_the_sms_webhook_answers_429_after_the_limit_and_names_nothing(world):
    token = sms_actions.set_inbound_token("test", world.org_a)
    gateway = Client(REMOTE_ADDR=ADDRESS)
    url = f"/channels/sms/generic/org-a/?token={token}"
    for _ in range(3):
        ok = gateway.post(url, {"From": "+51 999 000 111", "Body": "AYUDA"})
        assert ok.status_code == 200
    refused = gateway.post(url, {"From": "+51 999 000 111", "Body": "ALERTA"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.content == b"Too many requests.\n"
    assert InboundSms.objects.count() == 3
    # Another gateway address, and the same address for another organisation, go on.
    assert Client(REMOTE_ADDR=OTHER).post(url, {"From": "+1", "Body": "AYUDA"}).status_code == 200
    other_org = sms_actions.set_inbound_token("test", world.org_b)
    response = gateway.post(
        f"/channels/sms/generic/org-b/?token={other_org}", {"From": "+1", "Body": "AYUDA"}
    )
    assert response.status_code == 200


@override_settings(AMPARO_RATE_SMS="2/m")
def test_the_limit_comes_before_the_token_and_covers_the_twilio_webhook(world):
    gateway = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(2):
        assert gateway.post("/channels/sms/twilio/org-a/", {"Body": "x"}).status_code == 403
    refused = gateway.post("/channels/sms/twilio/org-a/", {"Body": "x"})
    assert refused.status_code == 429
    assert b"org-a" not in refused.content
    # The generic webhook shares the budget of this gateway address.
    assert gateway.post("/channels/sms/generic/org-a/?token=x", {"Body": "x"}).status_code == 429


@override_settings(AMPARO_RATE_OPENROSA="2/m")
def test_openrosa_submissions_are_limited_before_authentication(world):
    phone = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(2):
        assert phone.post("/openrosa/org-a/submission").status_code == 401
    refused = phone.post("/openrosa/org-a/submission")
    assert refused.status_code == 429
    assert refused["X-OpenRosa-Version"] == "1.0"
    assert b"<OpenRosaResponse" in refused.content
    assert int(refused["Retry-After"]) > 0
    # HEAD (how Collect asks before sending) is not counted; other phones go on.
    assert phone.head("/openrosa/org-a/submission").status_code == 401
    assert Client(REMOTE_ADDR=OTHER).post("/openrosa/org-a/submission").status_code == 401


# Turning limits off


@override_settings(AMPARO_RATE_LIMITS=False, AMPARO_RATE_ANON_REPORTS="1/h", AMPARO_RATE_SMS="1/m")
def test_every_limit_can_be_turned_off(world):
    for _ in range(3):
        assert web_report().status_code == 200
        assert Client(REMOTE_ADDR=ADDRESS).post("/channels/sms/generic/org-a/").status_code == 403
    assert rows() == []


@override_settings(AMPARO_RATE_ANON_REPORTS="off")
def test_one_limit_can_be_turned_off(world):
    for _ in range(12):
        assert api_report().status_code == 201


def test_the_benchmarks_turn_the_limits_off():
    from pathlib import Path

    harness = (Path(__file__).resolve().parents[2] / "bench" / "harness.py").read_text()
    assert 'env.setdefault("AMPARO_RATE_LIMITS", "false")' in harness


# What the counters' table keeps


def forms_of(address: str) -> set[str]:
    """The ways an address could be written down: as text, packed, packed in hex."""
    ip = ipaddress.ip_address(address)
    return {address, ip.exploded, ip.compressed, ip.packed.hex(), str(int(ip))}


@override_settings(AMPARO_RATE_ANON_REPORTS="1/h", AMPARO_RATE_SMS="1/m")
def test_the_counters_table_holds_no_ip_address(world):
    for address in (ADDRESS, OTHER, IPV6):
        web_report(address)
        web_report(address)  # refused: the counter goes past the limit
        Client(REMOTE_ADDR=address).post("/channels/sms/generic/org-a/?token=x")
    stored = rows()
    assert len(stored) == 6  # three addresses, two limits
    raw = repr(stored).lower()
    for address in (ADDRESS, OTHER, IPV6, "2001:db8:abcd:12::"):
        for form in forms_of(address):
            assert form.lower() not in raw, form
    # Each row: a hash for the key, a pickled counter, an expiry. Nothing else.
    for key, value, _expires in stored:
        assert len(key.rsplit(":", 1)[-1]) == 64
        assert pickle.loads(ratelimit.base64.b64decode(value)) in {1, 2}  # noqa: S301


def test_the_key_is_an_hmac_that_changes_every_day(rf, settings):
    request = rf.post("/report/org-a/", REMOTE_ADDR=ADDRESS)
    today = ratelimit.client_key(request)
    assert ADDRESS not in today and len(today) == 64
    assert ratelimit.client_key(rf.post("/", REMOTE_ADDR=ADDRESS)) == today
    assert ratelimit.client_key(rf.post("/", REMOTE_ADDR=OTHER)) != today
    settings.SECRET_KEY = "another-secret-key-" * 3
    assert ratelimit.client_key(request) != today
    tomorrow = time.time() + 86400
    from unittest import mock

    with mock.patch.object(ratelimit.time, "time", return_value=tomorrow):
        assert ratelimit.client_key(request) != today


# The counter itself


@pytest.fixture
def counters(db):
    cache = caches["ratelimit"]
    yield cache
    cache.clear()


def test_incr_keeps_the_expiry_and_expired_rows_go(counters):
    assert counters.add("k", 1, 3600)
    [(_, _, expires)] = rows()
    assert counters.incr("k") == 2
    assert counters.incr("k", 5) == 7
    [(_, _, still)] = rows()
    assert still == expires  # Django's inherited incr would restart it at 300 s
    assert counters.get("k") == 7
    assert not counters.add("k", 1, 3600)  # a live row is not replaced
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(TABLE)} SET expires = %s",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(expires.replace(year=2000))],
        )
    with pytest.raises(ValueError):
        counters.incr("k")
    assert counters.get("k") is None
    assert counters.add("other", 1, 60)
    assert len(rows()) == 1  # the expired row was deleted


def test_a_planted_pickle_is_not_run(counters):
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("the cache ran a planted pickle",))

    counters.add("k", 1, 3600)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(TABLE)} SET value = %s",  # noqa: S608
            [ratelimit.base64.b64encode(pickle.dumps(Boom())).decode()],
        )
    with pytest.raises(pickle.UnpicklingError):
        counters.incr("k")
    with pytest.raises(pickle.UnpicklingError):
        counters.get("k")


@override_settings(AMPARO_RATE_ANON_REPORTS="1/h")
def test_a_broken_counter_lets_the_report_through(world, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("no such table")

    monkeypatch.setattr(ratelimit, "get_usage", broken)
    for _ in range(3):
        assert web_report().status_code == 200


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_are_not_lost():
    cache = caches["ratelimit"]
    cache.add("shared", 0, 600)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(15):
                cache.incr("shared")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=bump) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert cache.get("shared") == 90
    finally:
        cache.clear()
