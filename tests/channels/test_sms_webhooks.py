"""The generic inbound SMS webhook (DESIGN.md section 8, issue 3 point 4), end to end over
HTTP: ``POST /channels/sms/generic/<org-slug>/?token=...`` with the form fields ``From``
and ``Body`` answers the reply as plain text. Every message is stored sealed and
answered in the sender's language; a known number maps to its person, an unknown
number's ALERTA still raises an unverified high alert, only a responder's number takes
an alert, and nothing crosses from one organisation to another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext as _

from amparo.alerts import actions as alert_actions
from amparo.alerts.models import Alert, AlertKind, AlertState, AlertStep, Severity, StepState
from amparo.channels.models import InboundSms
from amparo.channels.sms import actions as sms_actions
from amparo.channels.sms.commands import help_text, parse
from amparo.core.models import AuditEntry
from amparo.incidents.models import Level, ThreatReport
from amparo.people import actions as people_actions
from amparo.people.models import Person
from tests.core.raw import raw_column

ROSA = "+51 982 111 222"  # the world's defender in org A, preferred language es
CARMEN = "+51 984 555 666"  # org A's security coordinator, writes Spanish
JOAO = "+55 68 99911 2233"  # org A's focal point, writes Portuguese
SAM = "+44 7700 900123"  # org A's supervisor, writes English
LUCIA = "+591 7123 4567"  # org B
STRANGER = "+51 999 000 111"  # nobody's number

# What each reply says, per language (the gettext catalogue; English is the source).
SAYS = {
    "alert": {"es": "Alerta recibida", "pt": "Alerta recebido", "en": "Alert received"},
    "ack": {"es": "Gracias: la alerta", "pt": "Obrigado: o alerta", "en": "Thank you: alert"},
    "cannot_take": {
        "es": "Este número no puede",
        "pt": "Este número não pode",
        "en": "This number cannot take this alert",
    },
    "not_registered": {
        "es": "Este número no está registrado",
        "pt": "Este número não está cadastrado",
        "en": "This number is not registered",
    },
    "no_open_alert": {
        "es": "Ninguna alerta abierta tiene el código",
        "pt": "Nenhum alerta aberto tem o código",
        "en": "No open alert has the code",
    },
    "no_trip": {
        "es": "No hay ningún viaje",
        "pt": "Nenhuma viagem",
        "en": "No trip with check-ins",
    },
    "failed": {
        "es": "Recibimos su mensaje",
        "pt": "Recebemos sua mensagem",
        "en": "Your message was received",
    },
}


@dataclass
class Gateways:
    world: Any
    token_a: str
    token_b: str
    carmen: Person
    joao: Person
    sam: Person
    lucia: Person


@pytest.fixture
def gateways(world: Any) -> Gateways:
    # The responders of org A have profiles with phone numbers: they take alerts by SMS.
    carmen = people_actions.create_person(
        "test",
        world.org_a,
        given_names="Carmen",
        family_names="Quispe",
        user=world.coordinator.user,
        phone_numbers=[CARMEN],
        preferred_language="es",
    )
    joao = people_actions.create_person(
        "test",
        world.org_a,
        given_names="João",
        family_names="Ferreira",
        user=world.focal_point.user,
        phone_numbers=[JOAO],
        preferred_language="pt",
    )
    sam = people_actions.create_person(
        "test",
        world.org_a,
        given_names="Sam",
        family_names="Okafor",
        user=world.supervisor.user,
        phone_numbers=[SAM],
        preferred_language="en",
    )
    lucia = people_actions.create_person(
        "test",
        world.org_b,
        given_names="Lucía",
        family_names="Mamani",
        phone_numbers=[LUCIA],
        preferred_language="es",
    )
    return Gateways(
        world=world,
        token_a=sms_actions.set_inbound_token("test", world.org_a),
        token_b=sms_actions.set_inbound_token("test", world.org_b),
        carmen=carmen,
        joao=joao,
        sam=sam,
        lucia=lucia,
    )


@dataclass
class Exchange:
    status: int
    reply: str
    content_type: str
    inbound: InboundSms | None


def send(
    client: Client,
    slug: str,
    token: str | None,
    body: str | None,
    sender: str | None = STRANGER,
) -> Exchange:
    """POST one SMS to the generic webhook; the stored message it produced, if any."""
    before = set(InboundSms.objects.values_list("pk", flat=True))
    url = f"/channels/sms/generic/{slug}/"
    if token is not None:
        url += f"?token={token}"
    data = {}
    if sender is not None:
        data["From"] = sender
    if body is not None:
        data["Body"] = body
    response = client.post(url, data)
    new = InboundSms.objects.exclude(pk__in=before)
    assert new.count() <= 1
    return Exchange(
        status=response.status_code,
        reply=response.content.decode("utf-8"),
        content_type=response.get("Content-Type", ""),
        inbound=new.first(),
    )


def send_a(client: Client, gateways: Gateways, body: str | None, sender: str | None = STRANGER):
    return send(client, gateways.world.org_a.slug, gateways.token_a, body, sender)


def assert_stored_and_answered(exchange: Exchange, body: str, sender: str = STRANGER) -> None:
    """The message is stored exactly as sent, sealed at rest, and answered in plain text."""
    assert exchange.status == 200, exchange.reply
    assert exchange.content_type.startswith("text/plain")
    assert "utf-8" in exchange.content_type.lower()
    assert exchange.reply.strip(), "an inbound SMS is never answered with silence"
    inbound = exchange.inbound
    assert inbound is not None, "every inbound SMS is stored"
    inbound.refresh_from_db()
    assert inbound.via == "generic"
    assert inbound.body == body
    assert inbound.sender == sender
    assert inbound.reply == exchange.reply
    assert inbound.command, "the command (or 'unknown') is recorded"
    assert inbound.outcome
    for column in ("sender", "body", "reply"):
        raw = raw_column(InboundSms, column, inbound.pk)
        assert raw.startswith("enc1:"), f"{column} is stored in the clear"
    if len(body) >= 8:
        assert body not in raw_column(InboundSms, "body", inbound.pk)


def new_alerts() -> list[Alert]:
    return list(Alert.objects.order_by("raised_at"))


# --- the endpoint itself --------------------------------------------------------------


def test_it_answers_the_reply_text_as_plain_text(client, gateways):
    exchange = send_a(client, gateways, "ALERTA hombres armados en la trocha")
    assert_stored_and_answered(exchange, "ALERTA hombres armados en la trocha")
    alert = Alert.objects.get()
    assert exchange.reply == (
        f"Alerta recibida (código {alert.code}). Ya se está avisando a su organización."
    )
    assert exchange.inbound.alert_id == alert.pk


def test_it_records_the_arrival_in_the_audit_log(client, gateways):
    exchange = send_a(client, gateways, "hola")
    entry = AuditEntry.objects.filter(action="sms.received").get()
    assert entry.object_id == str(exchange.inbound.pk)
    assert entry.organisation_id == gateways.world.org_a.pk
    assert entry.actor == "sms:generic"
    assert "hola" not in str(entry.details)


@pytest.mark.parametrize("token", [None, "", "wrong-token", "x" * 500])
def test_it_refuses_a_missing_or_wrong_token_and_stores_nothing(client, gateways, token):
    exchange = send(client, "org-a", token, "ALERTA nos rodean")
    assert exchange.status == 403
    assert InboundSms.objects.count() == 0
    assert Alert.objects.count() == 0
    assert not AuditEntry.objects.filter(action="sms.received").exists()


def test_it_refuses_a_token_that_was_replaced(client, gateways):
    old = gateways.token_a
    new = sms_actions.set_inbound_token("test", gateways.world.org_a)
    assert send(client, "org-a", old, "ALERTA").status == 403
    assert InboundSms.objects.count() == 0
    assert send(client, "org-a", new, "ALERTA").status == 200


def test_it_refuses_an_organisation_without_an_inbound_token(client, world):
    people_actions.create_organisation(
        "test", name="Sin pasarela", slug="sin-pasarela", kind="community", country="PE"
    )
    for token in (None, "", "anything"):
        assert send(client, "sin-pasarela", token, "ALERTA").status == 403
    assert InboundSms.objects.count() == 0


def test_an_unknown_organisation_looks_like_a_bad_token(client, gateways):
    # The webhook does not tell an outsider which organisations exist.
    unknown = send(client, "no-such-org", gateways.token_a, "ALERTA")
    bad_token = send(client, "org-a", "wrong-token", "ALERTA")
    assert unknown.status == bad_token.status == 403
    assert unknown.reply == bad_token.reply
    assert InboundSms.objects.count() == 0
    assert Alert.objects.count() == 0


def test_it_takes_only_post(client, gateways):
    response = client.get(f"/channels/sms/generic/org-a/?token={gateways.token_a}")
    assert response.status_code == 405
    assert InboundSms.objects.count() == 0


def test_it_needs_no_csrf_token(gateways):
    client = Client(enforce_csrf_checks=True)
    exchange = send_a(client, gateways, "SOS")
    assert exchange.status == 200


# --- panic: every keyword, every language ------------------------------------------------


@pytest.mark.parametrize(
    ("body", "language", "text"),
    [
        ("ALERTA hombres armados en el río", "es", "hombres armados en el río"),
        ("  alerta    me   siguen  ", "es", "me   siguen"),
        ("Alérta! quemaron la maloca", "es", "quemaron la maloca"),
        ("SOS", "es", ""),
        ("sos", "es", ""),
        ("  Sos.  ", "es", ""),
        ("AYUDA nos rodean", "es", "nos rodean"),
        ("¡ayúda! están disparando", "es", "están disparando"),
        ("HELP they are at the gate", "en", "they are at the gate"),
        ("help!!!", "en", ""),
        ("   Help   me   ", "en", "me"),
        ("SOCORRO estão na porta", "pt", "estão na porta"),
        ("socorro", "pt", ""),
        ("Socórro: homens armados na aldeia", "pt", "homens armados na aldeia"),
    ],
)
def test_it_raises_a_high_panic_alert_from_an_unknown_number(
    client, gateways, body, language, text
):
    exchange = send_a(client, gateways, body)
    assert_stored_and_answered(exchange, body)
    alert = Alert.objects.get()
    assert alert.organisation == gateways.world.org_a
    assert alert.kind == AlertKind.PANIC
    assert alert.severity == Severity.HIGH
    assert alert.state == AlertState.RAISED
    assert alert.unverified is True
    assert alert.person is None
    assert alert.source == "sms"
    assert alert.message == text
    assert AlertStep.objects.filter(alert=alert, state=StepState.PENDING).exists()
    assert exchange.reply.startswith(SAYS["alert"][language])
    assert alert.code in exchange.reply
    inbound = exchange.inbound
    assert (inbound.command, inbound.outcome, inbound.alert_id) == (
        "panic",
        "alert_raised",
        alert.pk,
    )
    assert inbound.person is None


@pytest.mark.parametrize(
    "number",
    [
        ROSA,
        "+51982111222",
        "51982111222",
        "0051 982 111 222",
        "+51 (982) 111-222",
        "982111222",
        "982 111 222",
        "982-111-222",
        "(982) 111-222",
    ],
)
def test_it_maps_a_known_number_with_or_without_country_code_to_its_person(
    client, gateways, number
):
    exchange = send_a(client, gateways, "ALERTA", sender=number)
    assert_stored_and_answered(exchange, "ALERTA", sender=number)
    rosa = gateways.world.defender_person
    alert = Alert.objects.get()
    assert alert.person == rosa
    assert alert.unverified is False
    assert alert.raised_by == gateways.world.defender.user
    assert exchange.inbound.person == rosa


@pytest.mark.parametrize(
    "number", ["+51 982 111 223", "+52 982 111 222 9", "+44 982 111 222", "982111", "+51"]
)
def test_it_does_not_take_a_near_miss_for_a_known_number(client, gateways, number):
    exchange = send_a(client, gateways, "ALERTA", sender=number)
    assert exchange.status == 200
    alert = Alert.objects.get()
    assert alert.person is None
    assert alert.unverified is True
    assert exchange.inbound.person is None


def test_an_archived_person_is_no_longer_known_by_number(client, gateways):
    Person.objects.filter(pk=gateways.sam.pk).update(archived_at=gateways.sam.created_at)
    exchange = send_a(client, gateways, "HELP", sender=SAM)
    alert = Alert.objects.get()
    assert alert.person is None
    assert alert.unverified is True
    assert exchange.reply.startswith(SAYS["alert"]["en"])


def test_an_alert_without_a_from_number_is_still_raised(client, gateways):
    exchange = send_a(client, gateways, "ALERTA", sender=None)
    assert_stored_and_answered(exchange, "ALERTA", sender="")
    assert Alert.objects.get().unverified is True


@pytest.mark.parametrize(
    ("sender", "body", "language"),
    [
        (ROSA, "HELP", "es"),  # Rosa prefers Spanish, whatever keyword she uses
        (ROSA, "SOCORRO", "es"),
        (JOAO, "AYUDA", "pt"),
        (JOAO, "ALERTA", "pt"),
        (SAM, "SOCORRO", "en"),
        (SAM, "sos", "en"),
    ],
)
def test_a_known_persons_preferred_language_beats_the_keyword(
    client, gateways, sender, body, language
):
    exchange = send_a(client, gateways, body, sender=sender)
    assert exchange.reply.startswith(SAYS["alert"][language])
    assert Alert.objects.get().unverified is False


# --- threats -------------------------------------------------------------------------------


def threat_reply(language: str, report: ThreatReport) -> str:
    """The reply to a threat report: its receipt and level, from the catalogue."""
    with translation.override(language):
        return _(
            "Threat received: receipt %(receipt)s, level %(level)s. Your organisation is "
            "being notified."
        ) % {"receipt": report.receipt, "level": Level(report.level).label}


@pytest.mark.parametrize(
    ("body", "language", "level", "text"),
    [
        ("AMENAZA ALTA me amenazaron de muerte", "es", "high", "me amenazaron de muerte"),
        ("amenaza   media   carta anónima", "es", "medium", "carta anónima"),
        ("Amenazá  MÉDIA  carta", "es", "medium", "carta"),
        ("AMENAZA vimos motosierras", "es", "medium", "vimos motosierras"),
        ("AMENAZA", "es", "medium", "AMENAZA"),  # no text: the message is the record
        ("AMEAÇA ALTA homens armados", "pt", "high", "homens armados"),
        ("ameaca média recado no rádio", "pt", "medium", "recado no rádio"),
        ("  Ameaça   alta  ", "pt", "high", "Ameaça   alta"),
        ("THREAT HIGH they burned the boat", "en", "high", "they burned the boat"),
        ("threat medium phone call", "en", "medium", "phone call"),
        ("Threat: High. armed men", "en", "high", "armed men"),
    ],
)
def test_it_files_a_threat_report_and_raises_its_alert(
    client, gateways, body, language, level, text
):
    """AMENAZA goes through incidents.actions.report_threat, like the web form and the
    API: a sealed record, the Step 1 level, the checklist, the alert, a receipt."""
    exchange = send_a(client, gateways, body)
    assert_stored_and_answered(exchange, body)
    report = ThreatReport.objects.get()
    assert (report.level, report.source, report.person) == (level, "sms", None)
    assert report.verbatim == text
    assert report.language == language
    assert report.checklist.exists()
    alert = Alert.objects.get()
    assert report.alert == alert
    assert (alert.kind, alert.severity, alert.unverified) == (AlertKind.THREAT, level, True)
    assert exchange.reply == threat_reply(language, report)
    assert report.receipt in exchange.reply
    assert (exchange.inbound.command, exchange.inbound.outcome) == ("threat", "threat_reported")
    assert exchange.inbound.alert_id == alert.pk


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("AMENAZA BAJA pintaron la pared", "es"),
        ("amenaza baja", "es"),
        ("AMEAÇA BAIXA recado estranho", "pt"),
        ("ameaca   baixa", "pt"),
        ("THREAT LOW strange car", "en"),
        ("threat low", "en"),
    ],
)
def test_a_low_threat_by_sms_stays_medium_until_a_coordinator_decides(
    client, gateways, body, language
):
    """DESIGN.md section 5: the reporter's level can raise the rules' level, never lower
    it, and an SMS answers no Step 1 question, so the rules say medium."""
    exchange = send_a(client, gateways, body)
    assert_stored_and_answered(exchange, body)
    report = ThreatReport.objects.get()
    assert (report.reported_level, report.rules_level, report.level) == ("low", "medium", "medium")
    assert Alert.objects.get().severity == Severity.MEDIUM
    assert exchange.reply == threat_reply(language, report)
    assert (exchange.inbound.command, exchange.inbound.outcome) == ("threat", "threat_reported")
    assert exchange.inbound.alert_id == report.alert_id


def test_a_known_person_reports_a_threat_in_their_own_language(client, gateways):
    exchange = send_a(client, gateways, "AMENAZA ALTA", sender=JOAO)
    report = ThreatReport.objects.get()
    assert report.person == gateways.joao
    assert report.reported_by == gateways.world.focal_point.user
    assert report.language == "pt"
    alert = Alert.objects.get()
    assert alert.person == gateways.joao
    assert alert.unverified is False
    assert exchange.reply == threat_reply("pt", report)
    assert "Alta" in exchange.reply


# --- acknowledgement -----------------------------------------------------------------------


@pytest.fixture
def open_alert(gateways) -> Alert:
    return alert_actions.raise_alert(
        gateways.world.coordinator.user,
        gateways.world.org_a,
        kind=AlertKind.PANIC,
        severity=Severity.HIGH,
        message="prueba",
    )


@pytest.mark.parametrize(
    ("sender", "template", "language"),
    [
        (CARMEN, "OK {code}", "es"),
        (CARMEN, "  recibido   {lower}   voy en camino ", "es"),
        (CARMEN, "Recibído: {code}.", "es"),
        (CARMEN, "RECEBIDO {code}", "es"),
        (JOAO, "RECEBIDO {code}", "pt"),
        (JOAO, "ok {lower}", "pt"),
        (SAM, "OK {code} on my way", "en"),
        (SAM, "Recebido {lower}", "en"),
    ],
)
def test_a_known_number_acknowledges_an_open_alert(
    client, gateways, open_alert, sender, template, language
):
    body = template.format(code=open_alert.code, lower=open_alert.code.lower())
    exchange = send_a(client, gateways, body, sender=sender)
    assert_stored_and_answered(exchange, body, sender=sender)
    assert exchange.reply.startswith(SAYS["ack"][language])
    assert open_alert.code in exchange.reply
    open_alert.refresh_from_db()
    person = Person.objects.get(pk=exchange.inbound.person_id)
    assert open_alert.state == AlertState.ACKNOWLEDGED
    assert open_alert.acknowledged_via == "sms"
    assert open_alert.acknowledged_by_label == person.display_name
    assert open_alert.acknowledged_at is not None
    assert not open_alert.steps.filter(state=StepState.PENDING).exists()
    assert open_alert.steps.filter(state=StepState.CANCELLED).exists()
    inbound = exchange.inbound
    assert (inbound.command, inbound.outcome, inbound.alert_id) == (
        "acknowledge",
        "acknowledged",
        open_alert.pk,
    )


def test_the_acknowledgement_names_the_person_and_role(client, gateways, open_alert):
    send_a(client, gateways, f"OK {open_alert.code}", sender=CARMEN)
    open_alert.refresh_from_db()
    assert open_alert.acknowledged_by == gateways.world.coordinator.user
    assert open_alert.acknowledged_role == "coordinator"
    assert open_alert.acknowledged_by_label == "Carmen Quispe"
    assert open_alert.response_seconds is not None


# Issue 3 point 5 and the alert pages: only a responder takes an alert. The reply for a
# number that is known but may not take it is in the sender's language.
@pytest.mark.parametrize(
    "language",
    ["es", "pt", "en"],
)
def test_a_known_number_without_a_responder_role_cannot_acknowledge(
    client, gateways, open_alert, language
):
    # Rosa is a defender: known, but not a responder.
    Person.objects.filter(pk=gateways.world.defender_person.pk).update(preferred_language=language)
    exchange = send_a(client, gateways, f"OK {open_alert.code}", sender=ROSA)
    assert_stored_and_answered(exchange, f"OK {open_alert.code}", sender=ROSA)
    assert exchange.inbound.outcome == "ack_refused"
    assert exchange.inbound.person == gateways.world.defender_person
    open_alert.refresh_from_db()
    assert open_alert.state == AlertState.RAISED
    assert open_alert.steps.filter(state=StepState.PENDING).exists()
    assert exchange.reply.startswith(SAYS["cannot_take"][language])


def test_the_person_at_risk_cannot_acknowledge_their_own_alert(client, gateways):
    # A seized phone must not stop its own escalation, even a responder's.
    send_a(client, gateways, "HELP", sender=SAM)
    alert = Alert.objects.get()
    assert alert.person == gateways.sam
    refused = send_a(client, gateways, f"OK {alert.code}", sender=SAM)
    assert refused.inbound.outcome == "ack_refused"
    assert refused.reply.startswith(SAYS["cannot_take"]["en"])
    alert.refresh_from_db()
    assert alert.state == AlertState.RAISED
    taken = send_a(client, gateways, f"OK {alert.code}", sender=CARMEN)
    assert taken.inbound.outcome == "acknowledged"
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED


@pytest.mark.parametrize(
    ("template", "language"),
    [
        ("OK {code}", "es"),
        ("ok {lower}", "es"),
        ("RECIBIDO {code}", "es"),
        ("RECEBIDO {code}", "pt"),
        ("recebido {lower}", "pt"),
    ],
)
def test_an_unknown_number_cannot_acknowledge(client, gateways, open_alert, template, language):
    body = template.format(code=open_alert.code, lower=open_alert.code.lower())
    exchange = send_a(client, gateways, body)
    assert_stored_and_answered(exchange, body)
    assert exchange.reply.startswith(SAYS["not_registered"][language])
    open_alert.refresh_from_db()
    assert open_alert.state == AlertState.RAISED
    assert open_alert.steps.filter(state=StepState.PENDING).exists()
    assert exchange.inbound.outcome == "ack_refused"


@pytest.mark.parametrize(
    ("sender", "language"), [(ROSA, "es"), (CARMEN, "es"), (JOAO, "pt"), (SAM, "en")]
)
def test_an_unknown_code_acknowledges_nothing(client, gateways, open_alert, sender, language):
    exchange = send_a(client, gateways, "OK ZZZZ99", sender=sender)
    assert exchange.reply.startswith(SAYS["no_open_alert"][language])
    assert "ZZZZ99" in exchange.reply
    open_alert.refresh_from_db()
    assert open_alert.state == AlertState.RAISED
    assert exchange.inbound.outcome == "ack_unknown_code"


def test_a_second_acknowledgement_finds_no_open_alert(client, gateways, open_alert):
    first = send_a(client, gateways, f"OK {open_alert.code}", sender=CARMEN)
    second = send_a(client, gateways, f"OK {open_alert.code}", sender=JOAO)
    assert first.reply.startswith(SAYS["ack"]["es"])
    assert second.reply.startswith(SAYS["no_open_alert"]["pt"])
    open_alert.refresh_from_db()
    assert open_alert.acknowledged_by_label == "Carmen Quispe"


def test_a_resolved_alert_cannot_be_acknowledged_by_sms(client, gateways, open_alert):
    alert_actions.resolve_alert(gateways.world.coordinator.user, open_alert, "falsa alarma")
    exchange = send_a(client, gateways, f"OK {open_alert.code}", sender=CARMEN)
    assert exchange.inbound.outcome == "ack_unknown_code"
    open_alert.refresh_from_db()
    assert open_alert.state == AlertState.RESOLVED
    assert open_alert.acknowledged_via == "resolve"


def test_an_alert_raised_by_sms_is_acknowledged_by_sms(client, gateways):
    raised = send_a(client, gateways, "AYUDA")
    alert = Alert.objects.get()
    acked = send_a(client, gateways, f"ok {alert.code.lower()}", sender=SAM)
    assert raised.reply.startswith(SAYS["alert"]["es"])
    assert acked.reply.startswith(SAYS["ack"]["en"])
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED
    assert alert.acknowledged_by_label == "Sam Okafor"


# --- check-in ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("LLEGUE 1234", "es"),
        ("llegué   4321  ya en casa", "es"),
        ("Llegue: 123456", "es"),
        ("CHEGUEI 1234", "pt"),
        ("cheguei 98765432", "pt"),
        ("CHECKIN 1234", "en"),
        ("check-in 1234", "en"),
        ("Check in 1234", "en"),
        ("  checkin   0000 ", "en"),
    ],
)
def test_a_check_in_answers_that_no_trip_is_active(client, gateways, body, language):
    exchange = send_a(client, gateways, body)
    assert_stored_and_answered(exchange, body)
    assert exchange.reply.startswith(SAYS["no_trip"][language])
    assert (exchange.inbound.command, exchange.inbound.outcome) == (
        "checkin",
        "checkin_without_trip",
    )
    assert Alert.objects.count() == 0


def test_a_known_persons_check_in_is_answered_in_their_language(client, gateways):
    exchange = send_a(client, gateways, "LLEGUE 1234", sender=SAM)
    assert exchange.reply.startswith(SAYS["no_trip"]["en"])
    assert exchange.inbound.person == gateways.sam


# --- what is not a command ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("ALERTAS en la zona", "es"),
        ("ALERT me", "es"),
        ("S0S", "es"),
        ("SOSS", "es"),
        ("AYUDAME", "es"),
        ("HELPME", "es"),
        ("SOCORROO", "es"),
        ("AMENAZAS ALTA", "es"),
        ("THREATS HIGH", "es"),
        ("OKAY {code}", "es"),
        ("0K {code}", "es"),
        ("OK", "es"),  # no code: help in the language of the keyword
        ("OK ab", "es"),
        ("OK {code}!!!x", "es"),
        ("RECEBIDO", "pt"),
        ("RECIBIDOS {code}", "es"),
        ("LLEGUE", "es"),
        ("LLEGUE abcd", "es"),
        ("CHEGUEI 12", "pt"),
        ("CHECK 1234", "es"),
        ("CHECKIN", "en"),
        ("hola, ¿cómo están?", "es"),
    ],
)
def test_a_typo_is_never_taken_for_a_command(client, gateways, open_alert, body, language):
    body = body.format(code=open_alert.code)
    exchange = send_a(client, gateways, body, sender=STRANGER)
    assert_stored_and_answered(exchange, body)
    assert exchange.reply == help_text(language)
    assert exchange.inbound.command == "unknown"
    assert exchange.inbound.outcome == "help"
    assert Alert.objects.count() == 1  # only the open alert of the fixture
    open_alert.refresh_from_db()
    assert open_alert.state == AlertState.RAISED


@pytest.mark.parametrize("body", ["OKAY {code}", "0K {code}", "OK{code}", "O.K. {code}"])
def test_a_known_number_typing_a_near_miss_does_not_acknowledge(client, gateways, open_alert, body):
    exchange = send_a(client, gateways, body.format(code=open_alert.code), sender=JOAO)
    assert exchange.reply == help_text("pt")
    open_alert.refresh_from_db()
    assert open_alert.state == AlertState.RAISED


@pytest.mark.parametrize("body", ["", " ", "   \n\t  ", "\u200b", "..."])
def test_an_empty_message_is_stored_and_answered_with_help(client, gateways, body):
    exchange = send_a(client, gateways, body)
    assert_stored_and_answered(exchange, body)
    assert exchange.reply == help_text("es")
    assert exchange.inbound.command == "unknown"
    assert Alert.objects.count() == 0


def test_a_message_without_a_body_field_is_stored_and_answered(client, gateways):
    exchange = send_a(client, gateways, None)
    assert_stored_and_answered(exchange, "")
    assert exchange.reply == help_text("es")


def test_a_message_without_any_field_is_stored_and_answered(client, gateways):
    exchange = send_a(client, gateways, None, sender=None)
    assert_stored_and_answered(exchange, "", sender="")


def test_an_empty_message_from_a_known_person_gets_help_in_their_language(client, gateways):
    assert send_a(client, gateways, "", sender=SAM).reply == help_text("en")
    assert send_a(client, gateways, "???", sender=JOAO).reply == help_text("pt")


# --- long, hostile and unusual text -----------------------------------------------------------


def test_a_2000_character_message_is_stored_whole_and_answered(client, gateways):
    body = ("Río Las Piedras, tramo 3; " * 80)[:2000]
    assert len(body) == 2000
    exchange = send_a(client, gateways, body)
    assert_stored_and_answered(exchange, body)
    assert exchange.reply == help_text("es")


def test_a_2000_character_alert_is_stored_whole_and_raises_the_alert(client, gateways):
    body = "ALERTA " + "ñandú á é í ó ú ç ã 🆘 "[:21] * 100
    body = body[:2000]
    assert len(body) == 2000
    exchange = send_a(client, gateways, body)
    assert_stored_and_answered(exchange, body)
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.PANIC
    assert alert.message
    assert body[len("ALERTA ") :].strip().startswith(alert.message[:100])
    assert exchange.reply.startswith(SAYS["alert"]["es"])


def test_a_2000_character_threat_keeps_its_level(client, gateways):
    body = ("AMEAÇA ALTA " + "homens armados perto do rio. " * 80)[:2000]
    exchange = send_a(client, gateways, body)
    assert_stored_and_answered(exchange, body)
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity) == (AlertKind.THREAT, Severity.HIGH)
    report = ThreatReport.objects.get()
    # The record keeps what the parser keeps (ten SMS segments' worth); the stored
    # message keeps the whole body.
    assert report.verbatim == parse(body).text
    assert body[len("AMEAÇA ALTA ") :].startswith(report.verbatim)
    assert exchange.reply == threat_reply("pt", report)


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("<script>alert('x')</script>", "unknown"),
        ("<b>ALERTA</b> nos rodean", "unknown"),
        ("ALERTA <img src=x onerror=alert(1)> en la puerta", "panic"),
        ("AMENAZA ALTA '; DROP TABLE channels_inboundsms; --", "threat"),
        ("' OR 1=1 --", "unknown"),
        ("OK ' OR '1'='1", "unknown"),
        ("Robert'); DROP TABLE alerts_alert;--", "unknown"),
        ("SOS \"; DELETE FROM people_person WHERE ''='", "panic"),
        ("ALERTA %s %(code)s {code} \\x00 $(reboot)", "panic"),
    ],
)
def test_html_and_sql_in_the_text_are_stored_verbatim_and_do_no_harm(
    client, gateways, body, command
):
    people = Person.objects.count()
    exchange = send_a(client, gateways, body)
    assert_stored_and_answered(exchange, body)
    assert exchange.inbound.command == command
    assert "<script" not in exchange.reply and "<img" not in exchange.reply
    assert "DROP" not in exchange.reply
    # The tables are all still there, with their rows.
    tables = connection.introspection.table_names()
    assert {"channels_inboundsms", "alerts_alert", "people_person"} <= set(tables)
    assert Person.objects.count() == people
    if command == "panic":
        alert = Alert.objects.get()
        assert alert.message == body.split(None, 1)[1]


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("🆘", "unknown"),
        ("🆘🆘🆘 ayuda", "unknown"),
        ("AYUDA 🙏🏽 nos rodean 🔥🔥", "panic"),
        ("SOS 🆘", "panic"),
        ("👍", "unknown"),
        ("AMEAÇA MÉDIA 🚤 barco sem placa", "threat"),
        ("OK 👍", "unknown"),
        ("👨‍👩‍👧‍👦 LLEGUE 1234", "unknown"),
    ],
)
def test_emoji_are_stored_and_answered(client, gateways, body, command):
    exchange = send_a(client, gateways, body)
    assert_stored_and_answered(exchange, body)
    assert exchange.inbound.command == command
    if command == "panic":
        assert Alert.objects.get().message == body.split(None, 1)[1]


def test_control_characters_do_not_break_storage(client, gateways):
    body = "ALERTA\x00 uno\x07 dos\x1b[31m tres"
    exchange = send_a(client, gateways, body)
    assert exchange.status == 200
    assert exchange.inbound.body == body
    assert Alert.objects.get().kind == AlertKind.PANIC


def test_every_reply_is_answered_even_when_acting_fails(client, gateways, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Alert:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(sms_actions.alert_actions, "raise_alert", broken)
    for sender, body, language in [
        (STRANGER, "ALERTA", "es"),
        (STRANGER, "SOCORRO", "pt"),
        (SAM, "AYUDA", "en"),
    ]:
        exchange = send_a(client, gateways, body, sender=sender)
        assert exchange.status == 200
        assert exchange.reply.startswith(SAYS["failed"][language])
        inbound = exchange.inbound
        inbound.refresh_from_db()
        assert inbound.body == body  # stored before acting: never lost
        assert inbound.command == ""  # the failed action left nothing half-written
    assert Alert.objects.count() == 0


def test_a_threat_is_answered_and_kept_even_when_reporting_fails(client, gateways, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(sms_actions.incident_actions, "report_threat", broken)
    exchange = send_a(client, gateways, "AMENAZA ALTA hombres armados")
    assert exchange.status == 200
    assert exchange.reply.startswith(SAYS["failed"]["es"])
    exchange.inbound.refresh_from_db()
    assert exchange.inbound.body == "AMENAZA ALTA hombres armados"
    assert exchange.inbound.command == ""
    assert ThreatReport.objects.count() == 0
    assert Alert.objects.count() == 0


def test_many_messages_each_get_their_own_row_and_reply(client, gateways):
    bodies = ["SOS", "AMENAZA BAJA", "LLEGUE 1234", "", "xyz", "HELP", "OK ZZZZ99"]
    replies = [send_a(client, gateways, body).reply for body in bodies]
    assert all(reply.strip() for reply in replies)
    stored = sorted(InboundSms.objects.all(), key=lambda row: bodies.index(row.body))
    assert [row.body for row in stored] == bodies
    assert [row.reply for row in stored] == replies
    # SOS, HELP, and the threat report (medium: "BAJA" does not lower the rules' level).
    assert Alert.objects.count() == 3
    assert ThreatReport.objects.get().level == "medium"


# --- organisation isolation -----------------------------------------------------------


def test_org_b_token_cannot_post_into_org_a(client, gateways):
    exchange = send(client, "org-a", gateways.token_b, "ALERTA")
    assert exchange.status == 403
    exchange = send(client, "org-b", gateways.token_a, "ALERTA")
    assert exchange.status == 403
    assert InboundSms.objects.count() == 0
    assert Alert.objects.count() == 0


def test_a_code_of_an_org_a_alert_sent_to_org_b_does_not_acknowledge_it(
    client, gateways, open_alert
):
    for body in (f"OK {open_alert.code}", f"RECIBIDO {open_alert.code.lower()}"):
        exchange = send(client, "org-b", gateways.token_b, body, sender=LUCIA)
        assert exchange.status == 200
        assert exchange.reply.startswith(SAYS["no_open_alert"]["es"])
        assert exchange.inbound.organisation == gateways.world.org_b
        assert exchange.inbound.person == gateways.lucia
    open_alert.refresh_from_db()
    assert open_alert.state == AlertState.RAISED
    assert open_alert.steps.filter(state=StepState.PENDING).exists()


def test_an_org_a_number_is_unknown_at_org_b(client, gateways, open_alert):
    ack = send(client, "org-b", gateways.token_b, f"OK {open_alert.code}", sender=ROSA)
    assert ack.inbound.person is None
    assert ack.inbound.outcome == "ack_refused"
    open_alert.refresh_from_db()
    assert open_alert.state == AlertState.RAISED

    panic = send(client, "org-b", gateways.token_b, "ALERTA", sender=ROSA)
    alert = Alert.objects.get(pk=panic.inbound.alert_id)
    assert alert.organisation == gateways.world.org_b
    assert alert.person is None
    assert alert.unverified is True
    assert Alert.objects.filter(organisation=gateways.world.org_a).count() == 1


def test_org_b_sees_its_own_messages_only(client, gateways):
    send(client, "org-a", gateways.token_a, "ALERTA a", sender=ROSA)
    send(client, "org-b", gateways.token_b, "ALERTA b", sender=LUCIA)
    a = InboundSms.objects.get(organisation=gateways.world.org_a)
    b = InboundSms.objects.get(organisation=gateways.world.org_b)
    assert (a.body, a.person) == ("ALERTA a", gateways.world.defender_person)
    assert (b.body, b.person) == ("ALERTA b", gateways.lucia)
    assert Alert.objects.get(organisation=gateways.world.org_b).person == gateways.lucia
