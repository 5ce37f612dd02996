"""Structured logs without personal data (issue 10, point 10): one JSON object per line
with time, level, logger, message and request id (or a text line, by AMPARO_LOG_FORMAT);
phone numbers, e-mail and IP addresses and link tokens masked on the way out; and a
threat report by web and by SMS, a failed sign-in and failed deliveries that leave none of
the reporter's phone, e-mail, name or words in the log.

The log is read from the handler that settings.LOGGING configured (its stream swapped for
a buffer), so the filters and the formatter are the real ones."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from amparo.alerts import actions as alert_actions
from amparo.alerts.clock import claim_messages, run_due_steps, send_message
from amparo.alerts.models import Channel, DeliveryChannel, OutboxMessage
from amparo.channels.sms import actions as sms_actions
from amparo.core.logs import JsonFormatter, RedactFilter, redact
from amparo.incidents.models import ThreatReport
from amparo.people import actions as people
from amparo.people.models import Role
from conftest import PASSWORD
from tests.alerts.loopback import WebhookReceiver
from tests.incidents.test_pages import form_data, jpeg_bytes, upload

REPO = Path(__file__).resolve().parents[2]
FIELDS = {"time", "level", "logger", "message", "request_id"}


@dataclass
class Capture:
    buffer: io.StringIO

    @property
    def raw(self) -> str:
        return self.buffer.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.raw.splitlines() if line.strip()]

    def text(self) -> str:
        """Every line's values, JSON escapes undone (so "Huamán" is found as written)."""
        return "\n".join(" ".join(str(v) for v in entry.values()) for entry in self.lines())


@pytest.fixture
def log() -> Iterator[Capture]:
    """The configured console handler writing into a buffer; everything at DEBUG and up
    from every logger that settings.LOGGING does not hold to a level of its own."""
    root = logging.getLogger()
    handler = next(h for h in root.handlers if h.get_name() == "console")
    assert isinstance(handler, logging.StreamHandler)
    assert isinstance(handler.formatter, JsonFormatter)  # AMPARO_LOG_FORMAT's default
    buffer = io.StringIO()
    previous_stream = handler.setStream(buffer)
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield Capture(buffer)
    finally:
        root.setLevel(previous_level)
        handler.setStream(previous_stream)


@pytest.fixture(autouse=True)
def evidence_store(settings: Any, tmp_path: Path) -> Path:
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.EVIDENCE_DIR.mkdir()
    return settings.EVIDENCE_DIR


# Masking


@pytest.mark.parametrize(
    "text",
    [
        "+51 987 654 321",
        "+51987654321",
        "987654321",
        "+55 68 99911 2233",
        "+591 7123 4567",
        "(01) 555-1234",
        "%2B51987654321",
        "/sms/+51%20987%20654%20321",
    ],
)
def test_it_masks_phone_numbers(text: str) -> None:
    masked = redact(f"sent to {text}, then")
    assert re.fullmatch(r"sent to (/sms/)?\[phone\], then", masked), masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("yanina.ccori@defensoras.example", "[email]"),
        ("mailto://relay?to=yanina%40defensoras.example", "mailto://relay?to=[email]"),
        ("from 203.0.113.9", "from [ip]"),
        ("from 2001:db8::7 and ::1", "from [ip] and [ip]"),
        ("GET /a/Xk2.kd-93_j/ 404", "GET /a/[token]/ 404"),
        ("GET /invite/abc123/", "GET /invite/[token]/"),
        (
            "POST /channels/sms/generic/org-a/?token=t0k&x=1",
            "POST /channels/sms/generic/org-a/?token=[redacted]&x=1",
        ),
    ],
)
def test_it_masks_addresses_and_link_tokens(text: str, masked: str) -> None:
    assert redact(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "message 123e4567-e89b-12d3-a456-426614174000 (sms) not delivered",
        "due 2031-05-06 14:00:00.123456+00:00",
        "took 0.123456789 s",
        "step 4521 failed; retrying in 10s",
        "error=500",
        "at 14:00:05",
    ],
)
def test_it_keeps_ids_dates_and_figures(text: str) -> None:
    assert redact(text) == text


def record(msg: Any, args: Any = (), exc_info: Any = None) -> logging.LogRecord:
    return logging.LogRecord("amparo.test", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_the_filter_keeps_numbers_as_numbers_and_masks_text_arguments() -> None:
    entry = record("step %d of %s: %s", (12345678, "+51 987 654 321", "ok"))
    assert RedactFilter().filter(entry)
    assert entry.getMessage() == "step 12345678 of [phone]: ok"
    entry = record("%(who)s wrote", ({"who": "yanina.ccori@defensoras.example"},))
    RedactFilter().filter(entry)
    assert entry.getMessage() == "[email] wrote"


def test_the_filter_never_breaks_a_log_call() -> None:
    entry = record("two %s %s", ("only one",))  # a broken call
    assert RedactFilter().filter(entry)
    entry = record(ValueError("from +51 987 654 321"))  # not a string
    RedactFilter().filter(entry)
    assert entry.getMessage() == "from [phone]"


def test_the_filter_masks_a_traceback() -> None:
    try:
        raise ValueError("no person with the number +51 987 654 321")
    except ValueError:
        entry = record("lookup failed", exc_info=sys.exc_info())
    RedactFilter().filter(entry)
    line = json.loads(JsonFormatter().format(entry))
    assert "ValueError: no person with the number [phone]" in line["exception"]
    assert "987" not in line["exception"]


# The format and the request id


def test_each_line_is_one_json_object_with_its_request_id(
    log: Capture, db: Any, settings: Any, tmp_path: Path
) -> None:
    settings.EVIDENCE_DIR = tmp_path / "missing"  # /healthz logs a warning in the request
    client = Client()
    client.get("/healthz", HTTP_X_REQUEST_ID="proxy-req-0001")
    client.get("/healthz", HTTP_X_REQUEST_ID='<script>"x"')
    client.get("/healthz")
    logging.getLogger("amparo.test").info("outside any request")

    lines = log.lines()
    for line in lines:
        assert FIELDS <= set(line) and set(line) <= FIELDS | {"exception", "stack"}, line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    store = [line for line in lines if "evidence store" in line["message"]]
    assert len(store) == 3
    assert store[0]["level"] == "WARNING"
    assert store[0]["logger"] == "amparo.core.ops"
    assert store[0]["request_id"] == "proxy-req-0001"
    # An id that is not a plain token is replaced; each request has its own.
    assert re.fullmatch(r"[0-9a-f]{32}", store[1]["request_id"])
    assert re.fullmatch(r"[0-9a-f]{32}", store[2]["request_id"])
    assert store[1]["request_id"] != store[2]["request_id"]
    assert "<script>" not in log.raw
    outside = [line for line in lines if line["message"] == "outside any request"]
    assert outside == [{**outside[0], "request_id": None}]


def run_python(script: str, **env_changes: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPARO_LOG")}
    env.pop("AMPARO_DEBUG", None)
    env.update(env_changes)
    env["DJANGO_SETTINGS_MODULE"] = "amparo.settings"
    return subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


LOG_ONE_LINE = (
    "import django, logging; django.setup(); "
    "logging.getLogger('amparo.probe').warning('texted %s', '+51 987 654 321')"
)


def test_json_is_the_default_outside_debug() -> None:
    result = run_python(LOG_ONE_LINE)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "texted [phone]"
    assert line["logger"] == "amparo.probe"
    assert line["request_id"] is None


@pytest.mark.parametrize("env", [{"AMPARO_LOG_FORMAT": "text"}, {"AMPARO_DEBUG": "true"}])
def test_text_is_chosen_by_setting_or_by_debug(env: dict[str, str]) -> None:
    result = run_python(LOG_ONE_LINE, **env)
    assert result.returncode == 0, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"\S+ \S+ WARNING amparo\.probe \[-\] texted \[phone\]", last), last


def test_an_unknown_log_format_stops_the_start() -> None:
    result = run_python("import django; django.setup()", AMPARO_LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "AMPARO_LOG_FORMAT must be json or text" in result.stderr


# End to end: nothing of the reporter in the log

PHONE = "+51 987 654 321"
EMAIL = "yanina.ccori@defensoras.example"
VERBATIM = "Yanina, si sigues con la denuncia te quemamos la chacra en Huepetuhe"
PERPETRATOR = "Tres hombres en una camioneta plateada con lunas polarizadas"
PLACE = "Puerto Luz, trocha del km 7"
SMS_WORDS = "me siguieron desde Mazuko hasta la maloca"
NEVER_LOGGED = [
    "yanina",
    "ccori",
    "huillca",
    "defensoras",
    "987654321",
    "987 654 321",
    "987-654-321",
    "987%20654%20321",
    "huepetuhe",
    "chacra",
    "plateada",
    "polarizadas",
    "puerto luz",
    "mazuko",
    "maloca",
]


def test_a_threat_report_by_web_and_sms_leaves_nothing_of_the_reporter_in_the_log(
    log: Capture, world: Any
) -> None:
    org = world.org_a
    user = people.create_user("test", email=EMAIL, password=PASSWORD)
    people.add_membership("test", org, user, Role.DEFENDER)
    reporter = people.create_person(
        "test",
        org,
        given_names="Yanina",
        family_names="Ccori Huillca",
        user=user,
        phone_numbers=[PHONE],
        email=EMAIL,
    )
    people.create_person(
        "test",
        org,
        given_names="Julia",
        family_names="Mamani",
        user=world.coordinator.user,
        phone_numbers=["+51 984 700 100"],
        email="julia@a.example",
    )
    # Threats reach the coordinators and the reporter herself, by SMS and e-mail, through
    # gateways that answer 500: every attempt fails and is logged.
    alert_actions.save_policy(
        "test",
        org,
        policy=None,
        name="Everyone hears",
        description="",
        kinds=[],
        severities=[],
        priority=0,
        tiers=[
            {
                "level": "local",
                "targets": [
                    {"type": "role", "role": "coordinator"},
                    {"type": "person", "id": str(reporter.pk)},
                ],
                "channels": ["sms", "email"],
                "delay_minutes": 0,
                "repeat_count": 0,
                "repeat_interval_minutes": 5,
            }
        ],
    )
    token = sms_actions.set_inbound_token("test", org)

    with WebhookReceiver(status=500) as gateway:
        for channel in (Channel.SMS, Channel.EMAIL):
            DeliveryChannel.objects.create(
                organisation=org, channel=channel, url=gateway.url(f"{channel}/{{to}}")
            )

        # A mistyped password first (django-axes logs the login name).
        failed = Client().post("/accounts/login/", {"username": EMAIL, "password": "wrong pw"})
        assert failed.status_code == 200
        # The web form, with a photo whose name carries hers.
        web = Client()
        assert (
            web.post("/accounts/login/", {"username": EMAIL, "password": PASSWORD}).status_code
            == 302
        )
        response = web.post(
            "/o/org-a/threats/new/",
            form_data(
                verbatim=VERBATIM,
                perpetrator_description=PERPETRATOR,
                place=PLACE,
                evidence=[upload("amenaza-yanina-ccori.jpg", jpeg_bytes(), "image/jpeg")],
            ),
        )
        assert response.status_code in (200, 302), response.content[:300]
        # Two SMS from her phone: a threat and a panic alert.
        sms = Client()
        for body in (f"AMENAZA ALTA {SMS_WORDS}", f"ALERTA {SMS_WORDS}"):
            reply = sms.post(
                f"/channels/sms/generic/org-a/?token={token}", {"From": PHONE, "Body": body}
            )
            assert reply.status_code == 200
        assert ThreatReport.objects.filter(organisation=org).count() == 2
        # Her own alerts never go to her; a community alert does.
        alert_actions.raise_alert(
            world.coordinator.user,
            org,
            kind="community",
            severity="medium",
            message="Patrulla armada en el río",
        )

        # The worker's clock and sender, one pass each.
        assert run_due_steps("test") >= 3
        sent = [send_message(message) for message in claim_messages("test", limit=100)]
        assert sent and not any(sent)
        addresses = [r.path for r in gateway.requests()]
    assert "/sms/+51%20987%20654%20321" in addresses, addresses  # she was a recipient
    assert any("yanina.ccori@defensoras.example" in path for path in addresses)
    # Apprise's reasons are kept for the alert page.
    assert all("500" in m.last_error for m in OutboxMessage.objects.all())

    lines = log.lines()
    text = log.text().lower()
    raw = log.raw.lower()
    for secret in NEVER_LOGGED:
        assert secret not in text, (secret, [line for line in lines if secret in str(line).lower()])
        assert secret not in raw, secret
    # The log did capture what happened, masked where it had to be.
    undelivered = [line for line in lines if "not delivered" in line["message"]]
    assert len(undelivered) == len(sent)
    assert all(line["logger"] == "amparo.alerts.clock" for line in undelivered)
    assert all(line["request_id"] is None for line in undelivered)
    axes = [line for line in lines if line["logger"].startswith("axes")]
    assert axes and all(line["request_id"] for line in axes)
    # Her addresses were in a request line of the HTTP library, and masked there.
    assert any(
        "[phone]" in line["message"] for line in lines if line["logger"] == "urllib3.connectionpool"
    )
    assert any(
        "[email]" in line["message"] for line in lines if line["logger"] == "urllib3.connectionpool"
    )
    assert not [line for line in lines if line["logger"].startswith("apprise")]
