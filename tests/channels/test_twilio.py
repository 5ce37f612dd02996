"""The Twilio-compatible inbound SMS webhook (issue 3 point 4): a request is accepted only
with a valid ``X-Twilio-Signature`` made with the organisation's auth token over
``BASE_URL + path (+ query)`` and the form parameters, exactly as the ``twilio`` package
signs it; the reply goes back as TwiML. A bad or missing signature is refused with 403
and nothing is stored as a command."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.http import QueryDict
from django.test import Client
from twilio.request_validator import RequestValidator

from amparo.alerts import actions as alert_actions
from amparo.alerts.models import Alert, AlertKind, AlertState, Severity, StepState
from amparo.channels.models import InboundSms, SmsGateway
from amparo.channels.sms import actions as sms_actions
from amparo.channels.sms.commands import help_text
from amparo.core.models import AuditEntry
from amparo.incidents.models import ThreatReport
from amparo.people import actions as people_actions
from tests.core.raw import raw_column

AUTH_A = "a" * 8 + "0123456789abcdef0123456789ab"  # the shape of a Twilio auth token
AUTH_B = "b" * 8 + "fedcba9876543210fedcba987654"
ROSA = "+51 982 111 222"  # the world's defender in org A
STRANGER = "+51999000111"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Twilio:
    world: Any


@pytest.fixture
def twilio(world: Any) -> Twilio:
    sms_actions.set_twilio_auth_token("test", world.org_a, AUTH_A)
    sms_actions.set_twilio_auth_token("test", world.org_b, AUTH_B)
    return Twilio(world=world)


def twilio_params(body: str, sender: str = STRANGER, **extra: Any) -> dict[str, Any]:
    """What Twilio posts for an incoming SMS."""
    params = {
        "ToCountry": "PE",
        "ToState": "",
        "SmsMessageSid": "SM" + "0" * 32,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": "SM" + "0" * 32,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "PE",
        "To": "+51 1 700 0000",
        "MessagingServiceSid": "MG" + "1" * 32,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": "SM" + "0" * 32,
        "AccountSid": "AC" + "2" * 32,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


def sign(auth_token: str, path: str, params: dict[str, Any]) -> str:
    return RequestValidator(auth_token).compute_signature(settings.BASE_URL + path, params)


def post(
    client: Client, path: str, params: dict[str, Any], signature: str | None
) -> tuple[int, str, str]:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    response = client.post(path, urlencode(params, doseq=True), content_type=FORM, headers=headers)
    return response.status_code, response.content.decode("utf-8"), response.get("Content-Type", "")


def signed(
    client: Client,
    body: str,
    sender: str = STRANGER,
    slug: str = "org-a",
    auth: str = AUTH_A,
    query: str = "",
) -> tuple[int, str, str]:
    path = f"/channels/sms/twilio/{slug}/" + (f"?{query}" if query else "")
    params = twilio_params(body, sender)
    return post(client, path, params, sign(auth, path, params))


def message_of(twiml: str) -> str:
    """The text of the one <Message> in a TwiML answer (parsing also proves it is XML)."""
    root = ET.fromstring(twiml.encode("utf-8"))  # noqa: S314 - our own answer
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) == 1
    assert list(root) == messages
    return messages[0].text or ""


def assert_nothing_stored() -> None:
    assert InboundSms.objects.count() == 0
    assert Alert.objects.count() == 0
    assert not AuditEntry.objects.filter(action="sms.received").exists()


# --- a valid signature ---------------------------------------------------------------------


def test_it_answers_a_signed_request_with_twiml(client, twilio):
    status, content, content_type = signed(client, "ALERTA hombres armados en la trocha")
    assert status == 200, content
    assert content_type.startswith("application/xml")
    assert content.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    alert = Alert.objects.get()
    assert message_of(content) == (
        f"Alerta recibida (código {alert.code}). Ya se está avisando a su organización."
    )
    inbound = InboundSms.objects.get()
    assert inbound.via == "twilio"
    assert inbound.body == "ALERTA hombres armados en la trocha"
    assert inbound.sender == STRANGER
    assert inbound.reply == message_of(content)
    assert (inbound.command, inbound.outcome, inbound.alert_id) == (
        "panic",
        "alert_raised",
        alert.pk,
    )
    assert (alert.kind, alert.severity, alert.unverified) == (AlertKind.PANIC, Severity.HIGH, True)
    for column in ("sender", "body", "reply"):
        assert raw_column(InboundSms, column, inbound.pk).startswith("enc1:")
    entry = AuditEntry.objects.get(action="sms.received")
    assert entry.actor == "sms:twilio"


def test_it_xml_escapes_the_reply(client, twilio):
    # The help text holds "<texto>": it must arrive as text, not as markup.
    status, content, _type = signed(client, "hola <b>&amp;</b>")
    assert status == 200
    assert "&lt;texto&gt;" in content
    assert "<texto>" not in content
    assert message_of(content) == help_text("es")
    assert InboundSms.objects.get().body == "hola <b>&amp;</b>"


@pytest.mark.parametrize(
    ("body", "sender", "kind", "severity", "says"),
    [
        ("sos", STRANGER, "panic", "high", "Alerta recibida"),
        ("  Socorro!  ", STRANGER, "panic", "high", "Alerta recebido"),
        ("help", STRANGER, "panic", "high", "Alert received"),
        ("HELP", ROSA, "panic", "high", "Alerta recibida"),  # Rosa prefers Spanish
    ],
)
def test_signed_commands_raise_alerts(client, twilio, body, sender, kind, severity, says):
    status, content, _type = signed(client, body, sender=sender)
    assert status == 200
    assert message_of(content).startswith(says)
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity) == (kind, severity)
    assert alert.unverified is (sender == STRANGER)


@pytest.mark.parametrize(
    ("body", "sender", "level", "says"),
    [
        ("AMENAZA ALTA", STRANGER, "high", "Alta"),
        ("ameaça média", STRANGER, "medium", "Média"),
        ("THREAT MEDIUM", STRANGER, "medium", "Medium"),
        # An SMS answers no Step 1 question: the rules say medium, "low" cannot lower it.
        ("AMENAZA BAJA", STRANGER, "medium", "Media"),
        ("AMEAÇA BAIXA", ROSA, "medium", "Media"),  # Rosa prefers Spanish
        ("threat low", STRANGER, "medium", "Medium"),
    ],
)
def test_signed_threats_are_reported_with_a_receipt(client, twilio, body, sender, level, says):
    status, content, _type = signed(client, body, sender=sender)
    assert status == 200
    report = ThreatReport.objects.get()
    assert (report.level, report.source) == (level, "sms")
    assert report.person == (twilio.world.defender_person if sender == ROSA else None)
    reply = message_of(content)
    assert report.receipt in reply
    assert says in reply
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity) == (AlertKind.THREAT, level)
    assert alert.unverified is (sender == STRANGER)
    assert InboundSms.objects.get().outcome == "threat_reported"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("LLEGUE 1234", "No hay ningún viaje"),
        ("CHEGUEI 1234", "Nenhuma viagem"),
        ("checkin 1234", "No trip with check-ins"),
    ],
)
def test_signed_commands_without_an_alert_are_answered(client, twilio, body, says):
    status, content, _type = signed(client, body)
    assert status == 200
    assert message_of(content).startswith(says)
    assert Alert.objects.count() == 0
    assert InboundSms.objects.get().body == body


@pytest.mark.parametrize(
    "body",
    ["", "   ", "ALERTAS", "OKAY ABCD", "S0S", "x" * 2000, "<script>x</script>", "🆘 \"'; --"],
)
def test_anything_signed_is_stored_and_answered(client, twilio, body):
    status, content, _type = signed(client, body)
    assert status == 200
    assert message_of(content).strip()
    assert InboundSms.objects.get().body == body
    assert Alert.objects.count() == 0


def test_a_responders_number_acknowledges_through_twilio(client, twilio):
    people_actions.create_person(
        "test",
        twilio.world.org_a,
        given_names="Carmen",
        family_names="Quispe",
        user=twilio.world.coordinator.user,
        phone_numbers=["+51 984 555 666"],
    )
    alert = alert_actions.raise_alert(
        twilio.world.coordinator.user, twilio.world.org_a, kind="panic", severity="high"
    )
    status, content, _type = signed(client, f"ok {alert.code.lower()}", sender="984555666")
    assert status == 200
    assert message_of(content).startswith("Gracias: la alerta")
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED
    assert alert.acknowledged_via == "sms"
    assert alert.acknowledged_by_label == "Carmen Quispe"
    assert alert.acknowledged_role == "coordinator"
    assert not alert.steps.filter(state=StepState.PENDING).exists()


def test_an_unknown_number_cannot_acknowledge_through_twilio(client, twilio):
    alert = alert_actions.raise_alert(
        twilio.world.coordinator.user, twilio.world.org_a, kind="panic", severity="high"
    )
    status, content, _type = signed(client, f"OK {alert.code}")
    assert status == 200
    assert message_of(content).startswith("Este número no está registrado")
    alert.refresh_from_db()
    assert alert.state == AlertState.RAISED


def test_the_signature_covers_the_query_string(client, twilio):
    status, _content, _type = signed(client, "SOS", query="source=twilio&region=pando")
    assert status == 200
    assert Alert.objects.count() == 1


def test_a_signature_over_the_url_without_the_port_is_accepted(client, twilio):
    # Twilio signs some requests without the port; the validator checks both forms.
    path = "/channels/sms/twilio/org-a/"
    params = twilio_params("SOS")
    base = settings.BASE_URL
    without_port = base.rsplit(":", 1)[0] if base.count(":") == 2 else base
    signature = RequestValidator(AUTH_A).compute_signature(without_port + path, params)
    status, _content, _type = post(client, path, params, signature)
    assert status == 200


def test_repeated_parameters_are_signed_as_twilio_signs_them(client, twilio):
    # The twilio validator signs every value of a repeated parameter; a plain dict of the
    # form keeps only the last one and would refuse Twilio's own request.
    path = "/channels/sms/twilio/org-a/"
    params = twilio_params("SOS", MediaUrl=["https://a.example/1", "https://a.example/2"])
    as_sent = QueryDict(urlencode(params, doseq=True))
    status, content, _type = post(client, path, params, sign(AUTH_A, path, as_sent))
    assert status == 200, content
    assert Alert.objects.count() == 1


# --- refused ----------------------------------------------------------------------------


def test_a_missing_signature_is_refused_and_nothing_stored(client, twilio):
    path = "/channels/sms/twilio/org-a/"
    status, _content, _type = post(client, path, twilio_params("ALERTA"), None)
    assert status == 403
    assert_nothing_stored()


@pytest.mark.parametrize("signature", ["", "x", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "not base64 !!"])
def test_a_garbage_signature_is_refused_and_nothing_stored(client, twilio, signature):
    path = "/channels/sms/twilio/org-a/"
    status, _content, _type = post(client, path, twilio_params("ALERTA"), signature)
    assert status == 403
    assert_nothing_stored()


def test_a_signature_made_with_another_token_is_refused(client, twilio):
    status, _content, _type = signed(client, "ALERTA", auth="c" * 32)
    assert status == 403
    assert_nothing_stored()


def test_a_tampered_body_is_refused(client, twilio):
    path = "/channels/sms/twilio/org-a/"
    params = twilio_params("OK ABCD")
    signature = sign(AUTH_A, path, params)
    params["Body"] = "ALERTA"
    status, _content, _type = post(client, path, params, signature)
    assert status == 403
    assert_nothing_stored()


def test_a_tampered_sender_is_refused(client, twilio):
    path = "/channels/sms/twilio/org-a/"
    params = twilio_params("ALERTA", sender=STRANGER)
    signature = sign(AUTH_A, path, params)
    params["From"] = ROSA
    status, _content, _type = post(client, path, params, signature)
    assert status == 403
    assert_nothing_stored()


def test_an_added_parameter_is_refused(client, twilio):
    path = "/channels/sms/twilio/org-a/"
    params = twilio_params("ALERTA")
    signature = sign(AUTH_A, path, params)
    params["Extra"] = "1"
    status, _content, _type = post(client, path, params, signature)
    assert status == 403
    assert_nothing_stored()


def test_a_signature_for_another_url_is_refused(client, twilio):
    params = twilio_params("ALERTA")
    signature = sign(AUTH_A, "/channels/sms/twilio/org-b/", params)
    status, _content, _type = post(client, "/channels/sms/twilio/org-a/", params, signature)
    assert status == 403
    signature = sign(AUTH_A, "/channels/sms/twilio/org-a/", params)
    status, _content, _type = post(client, "/channels/sms/twilio/org-a/?added=1", params, signature)
    assert status == 403
    assert_nothing_stored()


def test_a_signature_for_another_host_is_refused(client, twilio):
    path = "/channels/sms/twilio/org-a/"
    params = twilio_params("ALERTA")
    signature = RequestValidator(AUTH_A).compute_signature(
        "https://attacker.example" + path, params
    )
    status, _content, _type = post(client, path, params, signature)
    assert status == 403
    assert_nothing_stored()


def test_it_refuses_when_no_twilio_token_is_configured(client, world):
    # No gateway at all.
    status, _content, _type = signed(client, "ALERTA", auth="")
    assert status == 403
    # A gateway with only the generic token.
    sms_actions.set_inbound_token("test", world.org_a)
    for auth in ("", AUTH_A):
        status, _content, _type = signed(client, "ALERTA", auth=auth)
        assert status == 403
    assert SmsGateway.objects.get(organisation=world.org_a).twilio_auth_token == ""
    assert_nothing_stored()


def test_a_cleared_twilio_token_refuses_again(client, twilio):
    sms_actions.set_twilio_auth_token("test", twilio.world.org_a, "")
    for auth in ("", AUTH_A):
        status, _content, _type = signed(client, "ALERTA", auth=auth)
        assert status == 403
    assert_nothing_stored()


def test_the_twilio_token_is_sealed_at_rest(twilio):
    gateway = SmsGateway.objects.get(organisation=twilio.world.org_a)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT twilio_auth_token FROM channels_smsgateway WHERE organisation_id = %s",
            [SmsGateway._meta.pk.get_db_prep_value(gateway.pk, connection)],
        )
        raw = cursor.fetchone()[0]
    assert raw.startswith("enc1:")
    assert AUTH_A not in raw


def test_an_unknown_organisation_looks_like_a_bad_signature(client, twilio):
    # The webhook does not tell an outsider which organisations exist.
    unknown = signed(client, "ALERTA", slug="no-such-org")
    bad = signed(client, "ALERTA", slug="org-a", auth="c" * 32)
    assert unknown[0] == bad[0] == 403
    assert unknown[1] == bad[1]
    assert_nothing_stored()


def test_it_takes_only_post(client, twilio):
    assert client.get("/channels/sms/twilio/org-a/").status_code == 405
    assert_nothing_stored()


def test_the_generic_token_does_not_open_the_twilio_webhook(client, twilio):
    token = sms_actions.set_inbound_token("test", twilio.world.org_a)
    path = f"/channels/sms/twilio/org-a/?token={token}"
    status, _content, _type = post(client, path, twilio_params("ALERTA"), None)
    assert status == 403
    assert_nothing_stored()


# --- organisation isolation ------------------------------------------------------------


def test_org_b_token_cannot_post_into_org_a(client, twilio):
    status, _content, _type = signed(client, "ALERTA", slug="org-a", auth=AUTH_B)
    assert status == 403
    status, _content, _type = signed(client, "ALERTA", slug="org-b", auth=AUTH_A)
    assert status == 403
    assert_nothing_stored()


def test_a_code_of_an_org_a_alert_sent_to_org_b_does_not_acknowledge_it(client, twilio):
    world = twilio.world
    people_actions.create_person(
        "test", world.org_b, given_names="Lucía", phone_numbers=["+591 7123 4567"]
    )
    alert = alert_actions.raise_alert(
        world.coordinator.user, world.org_a, kind="panic", severity="high"
    )
    status, content, _type = signed(
        client, f"OK {alert.code}", sender="+591 7123 4567", slug="org-b", auth=AUTH_B
    )
    assert status == 200
    assert message_of(content).startswith("Ninguna alerta abierta tiene el código")
    alert.refresh_from_db()
    assert alert.state == AlertState.RAISED
    assert alert.steps.filter(state=StepState.PENDING).exists()
    assert InboundSms.objects.get().organisation == world.org_b


def test_each_organisations_signed_alert_lands_in_that_organisation(client, twilio):
    assert signed(client, "SOS", slug="org-a", auth=AUTH_A)[0] == 200
    assert signed(client, "SOS", slug="org-b", auth=AUTH_B)[0] == 200
    assert Alert.objects.filter(organisation=twilio.world.org_a).count() == 1
    assert Alert.objects.filter(organisation=twilio.world.org_b).count() == 1
    assert Alert.objects.get(organisation=twilio.world.org_a).kind == AlertKind.PANIC
