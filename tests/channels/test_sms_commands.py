"""Inbound SMS commands (DESIGN.md section 8): Spanish, Portuguese and English, case and
accents ignored, typos never taken for a command, no input ever raising."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amparo.alerts.models import AlertKind, Severity
from amparo.alerts.sms import encoding, segment_count, unit_count
from amparo.channels.sms.commands import (
    MAX_TEXT_LENGTH,
    Kind,
    Reason,
    SmsCommand,
    guess_language,
    help_text,
    parse,
)

# --- panic -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "keyword", "text"),
    [
        ("ALERTA me siguen desde el río", "ALERTA", "me siguen desde el río"),
        ("alerta me siguen", "ALERTA", "me siguen"),
        ("Alerta! me siguen", "ALERTA", "me siguen"),
        ("  sos.   hombres   armados  ", "SOS", "hombres   armados"),
        ("SOS", "SOS", ""),
        ("AYUDA", "AYUDA", ""),
        ("¡Ayuda! nos rodean", "AYUDA", "nos rodean"),
        ("ayuda: están disparando", "AYUDA", "están disparando"),
        ("HELP they are at the gate", "HELP", "they are at the gate"),
        ("help!!!", "HELP", ""),
        ("SOCORRO estão na porta", "SOCORRO", "estão na porta"),
        ("socorro", "SOCORRO", ""),
        ("Alerta homens armados na aldeia", "ALERTA", "homens armados na aldeia"),
        ("\tSOS\n\nfinca La Esperanza\n", "SOS", "finca La Esperanza"),
        ("ＳＯＳ", "SOS", ""),
    ],
)
def test_it_reads_a_panic_alert(body, keyword, text):
    assert parse(body) == SmsCommand(kind="panic", text=text, keyword=keyword)


def test_it_keeps_the_original_spelling_of_the_free_text():
    command = parse("alerta   Acompañamiento urgente: MARÍA está en peligro")
    assert command.text == "Acompañamiento urgente: MARÍA está en peligro"


# --- threat ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword_word", "keyword"),
    [
        ("AMENAZA", "AMENAZA"),
        ("amenaza", "AMENAZA"),
        ("Amenaza:", "AMENAZA"),
        ("AMEACA", "AMEACA"),
        ("AMEAÇA", "AMEACA"),
        ("ameaça", "AMEACA"),
        ("THREAT", "THREAT"),
        ("threat.", "THREAT"),
    ],
)
@pytest.mark.parametrize(
    ("level_word", "level"),
    [
        ("BAJA", "low"),
        ("baixa", "low"),
        ("Low", "low"),
        ("MEDIA", "medium"),
        ("média", "medium"),
        ("MÉDIA", "medium"),
        ("medium", "medium"),
        ("ALTA", "high"),
        ("alta,", "high"),
        ("HIGH", "high"),
    ],
)
def test_it_reads_a_threat_with_a_level_in_any_language(keyword_word, keyword, level_word, level):
    command = parse(f"  {keyword_word}   {level_word}  carta anónima en la puerta ")
    assert command == SmsCommand(
        kind="threat", text="carta anónima en la puerta", level=level, keyword=keyword
    )


def test_it_reads_a_threat_without_a_level_keeping_all_the_text():
    command = parse("AMENAZA llamada amenazante de un número desconocido")
    assert command.kind == Kind.THREAT
    assert command.level is None
    assert command.text == "llamada amenazante de un número desconocido"


def test_it_accepts_a_bare_threat_keyword_as_a_report_without_text():
    assert parse("ameaça") == SmsCommand(kind="threat", keyword="AMEACA")


def test_it_accepts_a_threat_with_a_level_and_no_text():
    assert parse("THREAT HIGH") == SmsCommand(kind="threat", level="high", keyword="THREAT")


def test_it_reads_a_level_only_as_the_word_after_the_keyword():
    command = parse("AMENAZA hombres con arma ALTA")
    assert command.level is None
    assert command.text == "hombres con arma ALTA"


# --- acknowledge -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "keyword", "code"),
    [
        ("OK 7K2M9Q", "OK", "7K2M9Q"),
        ("ok 7k2m9q", "OK", "7K2M9Q"),
        ("Ok. 7k2m9q.", "OK", "7K2M9Q"),
        ("  OK    7K2M9Q  ", "OK", "7K2M9Q"),
        ("RECIBIDO 7K2M9Q", "RECIBIDO", "7K2M9Q"),
        ("recibido ab12", "RECIBIDO", "AB12"),
        ("RECEBIDO abcdef123456", "RECEBIDO", "ABCDEF123456"),
        ("Recebido: 0042", "RECEBIDO", "0042"),
    ],
)
def test_it_reads_an_acknowledge_with_its_code(body, keyword, code):
    assert parse(body) == SmsCommand(kind="acknowledge", code=code, keyword=keyword)


def test_it_keeps_text_after_the_acknowledge_code():
    command = parse("OK 7K2M9Q voy en camino, llego en 20 min")
    assert command.code == "7K2M9Q"
    assert command.text == "voy en camino, llego en 20 min"


@pytest.mark.parametrize(
    "body",
    ["OK", "ok.", "RECIBIDO", "OK ABC", "OK ABCDEF1234567", "OK AB-12", "OK ñ", "OK 🆗🆗🆗🆗"],
)
def test_it_does_not_take_ok_without_a_valid_code_as_an_acknowledge(body):
    command = parse(body)
    assert command.kind == Kind.UNKNOWN
    assert command.reason == Reason.INVALID_CODE
    assert command.code is None
    assert command.text == body.strip()


def test_it_names_the_keyword_of_an_invalid_acknowledge_so_the_reply_can_explain():
    assert parse("recebido").keyword == "RECEBIDO"


# --- check-in --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "keyword", "pin"),
    [
        ("LLEGUE 4821", "LLEGUE", "4821"),
        ("LLEGUÉ 4821", "LLEGUE", "4821"),
        ("llegué 4821", "LLEGUE", "4821"),
        ("Llegue! 4821.", "LLEGUE", "4821"),
        ("CHEGUEI 4821", "CHEGUEI", "4821"),
        ("cheguei   00004821", "CHEGUEI", "00004821"),
        ("CHECKIN 4821", "CHECKIN", "4821"),
        ("checkin 4821", "CHECKIN", "4821"),
        ("CHECK-IN 4821", "CHECK-IN", "4821"),
        ("check-in: 4821", "CHECK-IN", "4821"),
        ("Check\u2011in 4821", "CHECK-IN", "4821"),
        # Autocorrect splits CHECKIN: accepted as a two-word keyword.
        ("CHECK IN 4821", "CHECK IN", "4821"),
        ("check   in 4821", "CHECK IN", "4821"),
        ("LLEGUE 0007", "LLEGUE", "0007"),
        ("LLEGUE １２３４", "LLEGUE", "1234"),
    ],
)
def test_it_reads_a_check_in_with_its_pin(body, keyword, pin):
    assert parse(body) == SmsCommand(kind="checkin", pin=pin, keyword=keyword)


def test_it_keeps_text_after_the_check_in_pin():
    command = parse("CHEGUEI 4821 tudo bem, obrigada")
    assert command.pin == "4821"
    assert command.text == "tudo bem, obrigada"


@pytest.mark.parametrize(
    "body", ["LLEGUE", "LLEGUE 123", "LLEGUE 123456789", "CHECKIN abcd", "CHECK IN", "LLEGUE 12a4"]
)
def test_it_does_not_take_a_check_in_without_a_valid_pin(body):
    command = parse(body)
    assert command.kind == Kind.UNKNOWN
    assert command.reason == Reason.INVALID_PIN
    assert command.pin is None


@pytest.mark.parametrize("body", ["CHECK 4821", "CHECK", "IN 4821", "CHECKINN 4821"])
def test_it_does_not_take_half_of_check_in_as_a_check_in(body):
    assert parse(body).kind == Kind.UNKNOWN


# --- typos and other words -------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "ALERTAS en la zona",
        "OKAY 7K2M9Q",
        "OK7K2M9Q",
        "S0S",
        "SOSO",
        "SOS1",
        "AMENAZAS ALTA hombres",
        "AMEAÇAS",
        "THREATS HIGH",
        "HELPME",
        "AYUDAA",
        "LLEGUEE 4821",
        "CHECKINS 4821",
        "RECIBIDOS 7K2M9Q",
        "A LERTA",
        "S O S",
        "ALERTA:ayuda",
        "SOS🆘",
        "hola, ¿cómo estás?",
        "🆘",
        "1234",
    ],
)
def test_it_does_not_take_a_typo_or_another_word_for_a_command(body):
    command = parse(body)
    assert command == SmsCommand(kind="unknown", text=body.strip(), reason=Reason.UNKNOWN_KEYWORD)


@pytest.mark.parametrize("body", ["", " ", "   \n\t  ", "\u00a0\u2003", "\x00", "\x00 \x07", None])
def test_it_reads_an_empty_body_as_unknown(body):
    assert parse(body) == SmsCommand(kind="unknown", reason=Reason.EMPTY)


# --- hostile and odd input -------------------------------------------------------------


def test_it_truncates_the_free_text_of_a_long_body():
    body = "ALERTA " + "á" * 2000
    command = parse(body)
    assert command.kind == Kind.PANIC
    assert command.text == "á" * MAX_TEXT_LENGTH


def test_it_truncates_an_unknown_long_body_but_keeps_it():
    body = "x" * 2000
    command = parse(body)
    assert command.kind == Kind.UNKNOWN
    assert command.text == "x" * MAX_TEXT_LENGTH


def test_it_reads_a_very_large_body():
    command = parse("   " * 100_000 + "SOS " + "y" * 1_000_000)
    assert command.kind == Kind.PANIC
    assert len(command.text) == MAX_TEXT_LENGTH


def test_it_keeps_html_as_text_for_the_templates_to_escape():
    command = parse('ALERTA <script>alert("x")</script><img src=x onerror=alert(1)>')
    assert command.text == '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_it_keeps_sql_as_plain_text():
    command = parse("AMENAZA ALTA '; DROP TABLE alerts_alert; --")
    assert command == SmsCommand(
        kind="threat", text="'; DROP TABLE alerts_alert; --", level="high", keyword="AMENAZA"
    )


def test_it_keeps_emoji_in_the_text():
    command = parse("SOS 🆘 nos siguen 👨\u200d👩\u200d👧 🏽")
    assert command.text == "🆘 nos siguen 👨\u200d👩\u200d👧 🏽"


def test_it_drops_nul_and_control_characters_that_cannot_be_stored():
    command = parse("\x00SOS\x00 hombres\x00 armados\x07\x1b en el río\r\n")
    assert command.kind == Kind.PANIC
    assert command.text == "hombres armados en el río"


def test_it_drops_lone_surrogates():
    command = parse("SOS ayuda \ud83d")
    assert command.text == "ayuda"
    command.text.encode("utf-8")


def test_it_reads_bytes_without_raising():
    assert parse(b"SOS \xff\xfe").kind == Kind.PANIC


def test_it_makes_an_immutable_command():
    command = parse("SOS")
    with pytest.raises(dataclasses.FrozenInstanceError):
        command.kind = "unknown"  # type: ignore[misc]


@given(st.text())
def test_it_never_raises_and_returns_storable_text(body):
    command = parse(body)
    assert command.kind in set(Kind)
    assert len(command.text) <= MAX_TEXT_LENGTH
    assert "\x00" not in command.text
    command.text.encode("utf-8")


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_it_never_raises_on_any_code_point(body):
    parse(body)


@given(st.binary())
def test_it_never_raises_on_raw_bytes(body):
    parse(body)


@given(st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"))))
def test_it_returns_the_free_text_of_a_panic_unchanged(words):
    assert parse("ALERTA " + words).text == words.strip()[:MAX_TEXT_LENGTH].rstrip()


# --- agreement with the alerts app -----------------------------------------------------


def test_it_uses_the_alert_kinds_and_severities_of_the_alerts_app():
    assert Kind.PANIC == AlertKind.PANIC
    assert Kind.THREAT == AlertKind.THREAT
    levels = {parse(f"AMENAZA {word} x").level for word in ("BAJA", "MEDIA", "ALTA")}
    assert levels == set(Severity.values)


def test_it_accepts_every_alert_code_length_the_alerts_app_stores():
    assert parse("OK " + "A" * 12).code == "A" * 12
    assert parse("OK " + "A" * 13).kind == Kind.UNKNOWN


# --- reply language and help -----------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "language"),
    [
        ("AYUDA", "es"),
        ("amenaza", "es"),
        ("RECIBIDO", "es"),
        ("Llegué", "es"),
        ("SOCORRO", "pt"),
        ("AMEAÇA", "pt"),
        ("ameaca", "pt"),
        ("recebido", "pt"),
        ("CHEGUEI", "pt"),
        ("HELP", "en"),
        ("threat", "en"),
        ("CHECKIN", "en"),
        ("check-in", "en"),
        ("CHECK IN", "en"),
        ("ALERTA", "es"),
        ("SOS", "es"),
        ("OK", "es"),
        ("", "es"),
        ("bonjour", "es"),
    ],
)
def test_it_guesses_the_language_from_the_keyword(keyword, language):
    assert guess_language(keyword) == language


def test_it_guesses_the_language_from_a_parsed_command():
    assert guess_language(parse("ameaça alta homens").keyword) == "pt"
    assert guess_language(parse("check in 4821").keyword) == "en"


@pytest.mark.parametrize("language", ["es", "en", "pt"])
def test_it_fits_the_help_text_in_one_gsm7_segment(language):
    text = help_text(language)
    assert encoding(text) == "GSM-7"
    assert unit_count(text) <= 160
    assert segment_count(text) == 1


@pytest.mark.parametrize(
    ("language", "keywords"),
    [
        ("es", ["ALERTA", "AMENAZA", "BAJA", "MEDIA", "ALTA", "OK", "LLEGUE"]),
        ("pt", ["SOCORRO", "AMEACA", "BAIXA", "MEDIA", "ALTA", "OK", "CHEGUEI"]),
        ("en", ["SOS", "THREAT", "LOW", "MEDIUM", "HIGH", "OK", "CHECKIN"]),
    ],
)
def test_it_lists_the_commands_of_the_language_in_the_help_text(language, keywords):
    text = help_text(language)
    for keyword in keywords:
        assert keyword in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [("pt-BR", "pt"), ("en_GB", "en"), ("EN", "en"), ("es-CO", "es"), ("fr", "es"), ("", "es")],
)
def test_it_picks_the_help_text_by_language_code(language, expected):
    assert help_text(language) == help_text(expected)


def test_it_answers_in_spanish_by_default():
    assert help_text() == help_text("es")
    assert "ALERTA" in help_text()
